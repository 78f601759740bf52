/**
 * Administration on a cluster (issue 23): two nodes share Postgres and Redis. A user holds
 * sockets on both; an admin on one node deactivates them, and every socket, on both nodes,
 * closes with 4006 within a second; their token is refused on both nodes over WebSocket and
 * HTTP; reactivation, on the other node, restores it on both.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../harness.js";
import { RawSocket } from "../raw-socket.js";
import { clusterSettled, clusterToken, startCluster, type TestCluster } from "./cluster-harness.js";

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
});
