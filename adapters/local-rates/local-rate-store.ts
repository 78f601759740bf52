/**
 * The embedded RateStore: counters in this process's memory (rate-limiter-flexible's
 * RateLimiterMemory), for a single node. Each key's entry expires with its window.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { RateCounter, RateStore } from "../../core/ports.js";

/** A refused take's wait; anything else the limiter rejects with is a fault, passed on. */
function refusedFor(refusal: unknown): number {
  if (refusal instanceof RateLimiterRes) return Math.max(1, refusal.msBeforeNext);
  throw refusal;
}

/** Counters in memory: one node's counts only. */
export class LocalRateStore implements RateStore {
  counter(name: string, points: number, windowSec: number): RateCounter {
    const limiter = new RateLimiterMemory({ keyPrefix: name, points, duration: windowSec });
    return { take: (key) => limiter.consume(key).then(() => 0, refusedFor) };
  }

  async close(): Promise<void> {}
}
