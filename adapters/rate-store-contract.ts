/**
 * The one contract suite of the RateStore port. Every adapter runs it against its real
 * backing service: `describeRateStoreContract("redis", async () => ({ open, cleanup }))`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RateStore } from "../core/ports.js";

/** A backing service the suite may open stores on. */
export interface RateStoreBackend {
  open(): Promise<RateStore>;
  cleanup(): Promise<void>;
}

let counter = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${counter++}`;

/** Registers the suite for one adapter. */
export function describeRateStoreContract(name: string, backend: () => Promise<RateStoreBackend>): void {
  describe(`rate store contract: ${name}`, () => {
    let b: RateStoreBackend;
    let store: RateStore;

    beforeAll(async () => {
      b = await backend();
      store = await b.open();
    });
    afterAll(async () => {
      await store.close();
      await b.cleanup();
    });

    it("lets a key through up to its budget, then says how long until its window ends", async () => {
      const counter = store.counter(fresh("send"), 3, 10);
      const key = fresh("u");
      const taken = [];
      for (let i = 0; i < 5; i++) taken.push(await counter.take(key));
      expect(taken.slice(0, 3)).toEqual([0, 0, 0]);
      for (const wait of taken.slice(3)) {
        expect(wait).toBeGreaterThan(9000);
        expect(wait).toBeLessThanOrEqual(10_000);
      }
    });

    it("keeps keys and budgets apart", async () => {
      const [a, b2] = [store.counter(fresh("a"), 1, 10), store.counter(fresh("b"), 1, 10)];
      const [u, v] = [fresh("u"), fresh("v")];
      expect(await a.take(u)).toBe(0);
      expect(await a.take(u)).toBeGreaterThan(0);
      expect(await a.take(v)).toBe(0);
      expect(await b2.take(u)).toBe(0);
    });

    it("starts a new window when the last one ends", async () => {
      const c = store.counter(fresh("w"), 2, 1);
      const key = fresh("u");
      expect([await c.take(key), await c.take(key)]).toEqual([0, 0]);
      const wait = await c.take(key);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(1000);
      await new Promise((r) => setTimeout(r, wait + 50));
      expect(await c.take(key)).toBe(0);
    });

    it("answers takes made together as many as the budget allows", async () => {
      const c = store.counter(fresh("burst"), 50, 10);
      const key = fresh("u");
      const waits = await Promise.all(Array.from({ length: 80 }, () => c.take(key)));
      expect(waits.filter((w) => w === 0)).toHaveLength(50);
    });
  });
}
