/**
 * The Redis rate store: the shared contract, then what only a shared store shows (two
 * nodes count against one budget) and what only Redis can show (it goes away and comes
 * back).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../core/logger.js";
import type { RateStore } from "../../core/ports.js";
import { startRedis, type TestRedis } from "../../test/support/processes.js";
import { describeRateStoreContract } from "../rate-store-contract.js";
import { openRedisRateStore } from "./redis-rate-store.js";

describeRateStoreContract("redis", async () => {
  const redis = await startRedis();
  return {
    open: () => openRedisRateStore({ url: redis.url, log: silentLogger }),
    cleanup: () => redis.kill(),
  };
});

let n = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${n++}`;

describe("redis rate store shared by nodes, and without Redis", () => {
  let redis: TestRedis;
  const stores: RateStore[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await redis.kill();
  });
  const open = async () => {
    const store = await openRedisRateStore({ url: redis.url, log: silentLogger });
    stores.push(store);
    return store;
  };

  it("counts one budget for a key over every node", async () => {
    const [a, b] = [await open(), await open()];
    const name = fresh("send");
    const [ca, cb] = [a.counter(name, 10, 10), b.counter(name, 10, 10)];
    const key = fresh("u");
    const waits = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? ca : cb).take(key)));
    expect(waits.filter((w) => w === 0)).toHaveLength(10);
  });

  it("counts on each node while Redis is away (never all through, never all refused), and shares again once it is back", async () => {
    const a = await open();
    const name = fresh("send");
    const c = a.counter(name, 5, 10);
    await redis.kill();
    const key = fresh("u");
    const started = Date.now();
    const waits = [];
    for (let i = 0; i < 8; i++) waits.push(await c.take(key));
    // The local count holds the budget, and answers at once: no command waits on a Redis
    // that is gone.
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await c.take(fresh("other"))).toBe(0);

    await redis.start();
    const b = await open();
    const cb = b.counter(name, 5, 10);
    const deadline = Date.now() + 10_000;
    // Once a's connection is back, a and b count one budget again: of 10 takes alternating
    // between them, 5 pass (10 while a still counts on its own).
    for (;;) {
      const key = fresh("u");
      const waits = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? c : cb).take(key)));
      if (waits.filter((w) => w === 0).length === 5) break;
      if (Date.now() > deadline) throw new Error("the budget was not shared again after Redis came back");
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 30_000);
});
