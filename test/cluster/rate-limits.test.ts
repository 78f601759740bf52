/**
 * Rate limits in a cluster: a user's budget is one over the nodes (counted in Redis), and
 * with Redis stopped each node still enforces it on its own: neither everyone let through
 * nor everyone refused. `ping` (a `read`, answered by the connection itself, no actor)
 * is the request, so that nothing but the limit decides the answer while Redis is away.
 */
import { afterEach, describe, expect, it } from "vitest";
import { devToken } from "../harness.js";
import { RawSocket } from "../raw-socket.js";
import { clusterSettled, startCluster, type TestCluster } from "./cluster-harness.js";

const budget = 10;
let cluster: TestCluster | null = null;
const sockets: RawSocket[] = [];

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
  await cluster?.cleanup();
  cluster = null;
});

async function open(url: string, token: string): Promise<RawSocket> {
  const s = await RawSocket.open(url, { token });
  sockets.push(s);
  return s;
}

/** Sends `count` pings, alternating over `sockets`, one at a time; how many were answered ok. */
async function pings(over: RawSocket[], count: number): Promise<{ ok: number; limited: number }> {
  let ok = 0;
  let limited = 0;
  for (let i = 0; i < count; i++) {
    const reply = await over[i % over.length]!.call("ping", {});
    if (reply[0] === 1) ok++;
    else if (reply[0] === 2 && reply[2].code === "rate_limited") limited++;
    else throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
  }
  return { ok, limited };
}

describe("rate limits in a cluster", () => {
  it("hold a user to one budget over the nodes, counted in Redis", async () => {
    cluster = await startCluster(2, {
      env: { COLINK_RATE_READ: String(budget), COLINK_RATE_WINDOW_SEC: "30" },
    });
    await clusterSettled(cluster.nodes, cluster.redis.url);
    const { token } = await devToken(cluster.nodes[0]!, "spread-out");
    const both = await Promise.all(cluster.nodes.map((n) => open(n.wsUrl, token)));
    // Two separate budgets would let 20 through.
    expect(await pings(both, 3 * budget)).toEqual({ ok: budget, limited: 2 * budget });
  }, 60_000);

  it("are still enforced on each node, by its own count, while Redis is stopped", async () => {
    cluster = await startCluster(1, {
      env: { COLINK_RATE_READ: String(budget), COLINK_RATE_WINDOW_SEC: "30" },
    });
    await clusterSettled(cluster.nodes, cluster.redis.url);
    const node = cluster.nodes[0]!;
    const [a, b] = [await devToken(node, "redis-gone-a"), await devToken(node, "redis-gone-b")];
    const sa = await open(node.wsUrl, a.token);
    await cluster.redis.kill();
    const started = Date.now();
    expect(await pings([sa], 2 * budget)).toEqual({ ok: budget, limited: budget });
    // Counted locally, the answers do not wait on the Redis that is gone.
    expect(Date.now() - started).toBeLessThan(5000);
    // Another user has a budget of their own: the node does not refuse everyone.
    const sb = await open(node.wsUrl, b.token);
    expect((await pings([sb], 1)).ok).toBe(1);
  }, 60_000);
});
