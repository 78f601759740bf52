/**
 * Administration on a cluster (issue 23): two nodes share Postgres and Redis.
 * - Deactivation: a user holds sockets on both; an admin on one node deactivates them, and
 *   every socket, on both nodes, closes with 4006 within a second; their token is refused on
 *   both nodes over WebSocket and HTTP; reactivation, on the other node, restores it on both.
 * - The moderators' topic: a moderator with a socket on each node hears `flag.created` and
 *   `flag.resolved` on both (one of them is on a node that does not own the flagged
 *   message's channel); the member who flagged it hears neither.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EventFrame, FrameKind } from "../../core/protocol.js";
import { api } from "../harness.js";
import { RawSocket } from "../raw-socket.js";
import { clusterSettled, clusterToken, startCluster, type TestCluster } from "./cluster-harness.js";

/** The event `type` about flag `flagId` that `s` heard on the moderators' topic. */
function heard(s: RawSocket, type: string, flagId: string): Promise<EventFrame> {
  return s.waitFor(
    () =>
      s.frames.find(
        (x): x is EventFrame =>
          x[0] === FrameKind.event &&
          x[1] === "mod" &&
          x[2] === type &&
          (x[3].flag as { id: string }).id === flagId,
      ),
    10_000,
    `${type} of ${flagId}`,
  );
}

describe("administration on two nodes", () => {
  let cluster: TestCluster;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2);
    await clusterSettled(cluster.nodes, cluster.redis.url);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await cluster?.cleanup();
  });

  /** A socket of `token` on `url`, authenticated (its `user.me` answered). */
  const open = async (url: string, token: string) => {
    const s = await RawSocket.open(url, { token });
    sockets.push(s);
    const [kind] = await s.call("user.me", {});
    expect(kind).toBe(1);
    return s;
  };

  it("closes the user's sockets on every node within a second, and refuses their token on every node until reactivated", async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const admin = await clusterToken(a, "cadmin", "admin");
    const eve = await clusterToken(b, "ceve");
    const tabs = [
      await open(a.wsUrl, eve.token),
      await open(b.wsUrl, eve.token),
      await open(b.wsUrl, eve.token),
    ];
    // Both nodes have checked the token (and cached the account as active).
    for (const node of [a, b]) expect((await api(node, eve.token, "GET", "/v1/users/me")).status).toBe(200);

    const adminWs = await open(a.wsUrl, admin.token);
    const started = Date.now();
    const [kind] = await adminWs.call("user.deactivate", { userId: eve.userId });
    expect(kind).toBe(1);
    const closes = await Promise.all(tabs.map((t) => t.closed(1000)));
    expect(Date.now() - started).toBeLessThan(1000);
    for (const c of closes) expect(c).toEqual({ code: 4006, reason: "deactivated" });

    for (const node of [a, b]) {
      const res = await api(node, eve.token, "GET", "/v1/users/me");
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ message: "account deactivated" });
      const upgrade = await RawSocket.open(node.wsUrl, { token: eve.token });
      sockets.push(upgrade);
      expect((await upgrade.closed(2000)).code).toBe(4006);
    }

    const back = await api(b, admin.token, "POST", `/v1/admin/users/${eve.userId}/reactivate`);
    expect(back.status).toBe(200);
    for (const node of [a, b]) {
      expect((await api(node, eve.token, "GET", "/v1/users/me")).status).toBe(200);
      await open(node.wsUrl, eve.token);
    }
  });

  it("tells a moderator's sockets on both nodes of each flag made and resolved, and nobody else", async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const mod = await clusterToken(a, "cmod", "moderator");
    const ann = await clusterToken(b, "cann");
    const watching = [await open(a.wsUrl, mod.token), await open(b.wsUrl, mod.token)];
    const reporter = await open(b.wsUrl, ann.token);
    // The channel's owner is one of the two nodes: one of the moderator's sockets is on the other.
    const made = await api(b, ann.token, "POST", "/v1/channels", { name: "cmod", kind: "public" });
    const channelId = (made.body.channel as { id: string }).id;
    const sent = await api(b, ann.token, "POST", `/v1/channels/${channelId}/messages`, { text: "spam" });
    const messageId = (sent.body.message as { id: string }).id;
    const [kind, , body] = await reporter.call("msg.flag", { messageId, reason: "spam" });
    expect(kind).toBe(1);
    const flagId = ((body as Record<string, unknown>).flag as { id: string }).id;
    for (const s of watching) await heard(s, "flag.created", flagId);
    const resolved = await api(a, mod.token, "POST", `/v1/admin/flags/${flagId}/resolve`, {
      resolution: "dismissed",
    });
    expect(resolved.status).toBe(200);
    for (const s of watching) await heard(s, "flag.resolved", flagId);
    expect(reporter.frames.filter((x) => x[0] === FrameKind.event && x[1] === "mod")).toEqual([]);
  });
});
