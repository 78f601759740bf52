/**
 * The moderators' topic on a cluster (issue 23): a moderator with a socket on each of two
 * nodes hears `flag.created` and `flag.resolved` on both (one of them is on a node that does
 * not own the flagged message's channel); the member who flagged it hears neither.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EventFrame, FrameKind } from "../../core/protocol.js";
import { api } from "../harness.js";
import { RawSocket } from "../raw-socket.js";
import { clusterSettled, startCluster, type TestCluster } from "./cluster-harness.js";

/** A dev sign-in with a role claim, on `baseUrl`. */
async function signIn(baseUrl: string, username: string, role = "member") {
  const res = await fetch(`${baseUrl}/auth/dev/token`, {
    method: "POST",
    body: JSON.stringify({ username, role }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { accessToken: string; user: { id: string } };
  return { token: body.accessToken, userId: body.user.id };
}

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

describe("the moderators' topic on two nodes", () => {
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

  it("tells a moderator's sockets on both nodes of each flag made and resolved, and nobody else", async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const mod = await signIn(a.baseUrl, "cmod", "moderator");
    const ann = await signIn(b.baseUrl, "cann");
    const open = async (url: string, token: string) => {
      const s = await RawSocket.open(url, { token });
      sockets.push(s);
      const [kind] = await s.call("user.me", {});
      expect(kind).toBe(1);
      return s;
    };
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
