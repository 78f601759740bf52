/** The Redis adapter of the cluster ports: the shared contract, then what only Redis can show (a restart). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../../test/support/processes.js";
import { describeClusterContract } from "../cluster-contract.js";
import { openRedisCluster } from "./redis-cluster.js";

describeClusterContract("redis", async () => {
  const redis = await startRedis();
  return {
    join: (nodeId) => openRedisCluster({ url: redis.url, nodeId }),
    cleanup: () => redis.kill(),
  };
});

describe("redis cluster ports across a Redis restart", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.kill();
  });

  it("reports the lost connection, resubscribes when Redis is back, and fails commands fast meanwhile", async () => {
    const a = await openRedisCluster({ url: redis.url, nodeId: "a" });
    const b = await openRedisCluster({ url: redis.url, nodeId: "b" });
    const states: boolean[] = [];
    b.bus.onConnection((up) => states.push(up));
    const aStates: boolean[] = [];
    a.bus.onConnection((up) => aStates.push(up));
    const heard: string[] = [];
    b.bus.onMessage((_t, p) => heard.push(Buffer.from(p).toString()));
    await b.bus.subscribe("topic");

    await redis.kill();
    const deadline = Date.now() + 5000;
    while (!states.includes(false) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(states).toEqual([false]);
    const started = Date.now();
    await expect(a.registry.heartbeat("a", 1000)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2500);

    await redis.start();
    while (!(states.includes(true) && aStates.includes(true)) && Date.now() < deadline + 10_000)
      await new Promise((r) => setTimeout(r, 20));
    expect(states).toEqual([false, true]);
    // Back means subscribed again: the first publish once both nodes are back reaches b.
    expect(await a.bus.publish("topic", Buffer.from("back"))).toBe(1);
    while (heard.length === 0 && Date.now() < deadline + 15_000) await new Promise((r) => setTimeout(r, 20));
    expect(heard).toEqual(["back"]);
    await Promise.all([a.registry.close(), b.registry.close()]);
  }, 30_000);
});
