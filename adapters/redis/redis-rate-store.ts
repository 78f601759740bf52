/**
 * The RateStore of a cluster: counters in Redis (rate-limiter-flexible's RateLimiterRedis,
 * one atomic script per take), so that every node counts against one budget per user and
 * per address. Keys: `colink:rl:<budget>:<key>`, expiring with their window.
 *
 * - **Its own connection.** Rate limits take one Redis command per request; on the bus's
 *   connection they would queue ahead of its publishes and lease renewals.
 * - **Redis away.** Commands fail at once while disconnected (no offline queue), or after
 *   `commandTimeoutMs` when Redis hangs; each budget then counts in this process (an
 *   insurance RateLimiterMemory with the same budget), so each node enforces the budget on
 *   its own until Redis is back. The switch is logged once each way.
 * - **Fewer round trips.** A key that used up its budget is refused from memory for the
 *   rest of its window (`inMemoryBlockOnConsumed`): a flood costs Redis one command per
 *   request only up to the budget.
 */
import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { Logger } from "../../core/logger.js";
import type { RateCounter, RateStore } from "../../core/ports.js";

/** Options of the Redis rate store. */
export interface RedisRateStoreOptions {
  url: string;
  /** Longest wait for one take before it counts locally instead (default 250 ms). */
  commandTimeoutMs?: number;
  /** Where the loss and return of Redis are written. */
  log: Logger;
}

/** A refused take's wait; anything else is a fault of the limiter, passed on. */
function refusedFor(refusal: unknown): number {
  if (refusal instanceof RateLimiterRes) return Math.max(1, refusal.msBeforeNext);
  throw refusal;
}

/** Connects to Redis; resolves once the connection is ready. */
export async function openRedisRateStore(opts: RedisRateStoreOptions): Promise<RateStore> {
  const client = new Redis(opts.url, {
    lazyConnect: true,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs ?? 250,
  });
  let up = true;
  client.on("error", (err: Error) => {
    if (!up) return;
    up = false;
    opts.log.warn({ err }, "rate limits: Redis unavailable, each node counts on its own meanwhile");
  });
  client.on("ready", () => {
    if (up) return;
    up = true;
    opts.log.info({}, "rate limits: Redis is back, the budgets are shared again");
  });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw new Error(`REDIS_URL: cannot connect for rate limits: ${(err as Error).message}`);
  }
  return new RedisRateStore(client);
}

/** RateStore on Redis, with a local insurance per budget. */
class RedisRateStore implements RateStore {
  constructor(private readonly client: Redis) {}

  counter(name: string, points: number, windowSec: number): RateCounter {
    const limiter = new RateLimiterRedis({
      storeClient: this.client,
      keyPrefix: `colink:rl:${name}`,
      points,
      duration: windowSec,
      inMemoryBlockOnConsumed: points,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration: windowSec }),
    });
    return { take: (key) => limiter.consume(key).then(() => 0, refusedFor) };
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
