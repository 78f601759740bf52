/**
 * The request rate limits, over WebSocket and HTTP alike: each request counts against its
 * class's budget (core/rate-classes.ts: send, typing, read, auth) for its user and for
 * its client address, in fixed windows of `COLINK_RATE_WINDOW_SEC`. The counts live in a
 * RateStore: this process's memory on one node, Redis in a cluster (so a user spread over
 * nodes has one budget). A request over either budget is refused with `rate_limited` and
 * `details.retryAfterMs` (the wait until that window ends), and is not run.
 */
import type { Limits } from "../core/config.js";
import { ColinkError } from "../core/errors.js";
import type { RateCounter, RateStore } from "../core/ports.js";
import {
  type RateClass,
  type RateScope,
  rateBudget,
  rateBudgetVariable,
  rateClasses,
} from "../core/rate-classes.js";

/** What a refusal says besides the wait: which budget it was. */
const scopeWords: Record<RateScope, string> = { user: "this user", ip: "this address" };

const allowed: Promise<ColinkError | null> = Promise.resolve(null);

/** The budgets of every class and scope, and the counting against them. */
export class RequestRateLimits {
  private readonly counters = new Map<string, RateCounter>();

  constructor(
    private readonly limits: Limits,
    store: RateStore,
  ) {
    for (const cls of rateClasses) {
      for (const scope of ["user", "ip"] as const) {
        const points = rateBudget(limits, cls, scope);
        if (points > 0)
          this.counters.set(
            `${cls}:${scope}`,
            store.counter(`${cls}-${scope}`, points, limits.rateWindowSec),
          );
      }
    }
  }

  /**
   * Counts one request of class `cls` against the budget of `userId` and of `address`
   * (either may be null: not known yet, or not counted at this step). Resolves with null
   * when it may go on, else with the `rate_limited` error to answer (the longer wait when
   * both budgets refuse).
   */
  take(cls: RateClass, userId: string | null, address: string | null): Promise<ColinkError | null> {
    const user = userId === null ? undefined : this.counters.get(`${cls}:user`);
    const ip = address === null ? undefined : this.counters.get(`${cls}:ip`);
    if (!user && !ip) return allowed;
    if (user && !ip) return user.take(userId!).then((wait) => this.refusal(cls, "user", wait));
    if (ip && !user) return ip.take(address!).then((wait) => this.refusal(cls, "ip", wait));
    return Promise.all([user!.take(userId!), ip!.take(address!)]).then(([byUser, byIp]) =>
      byUser >= byIp ? this.refusal(cls, "user", byUser) : this.refusal(cls, "ip", byIp),
    );
  }

  /** The error for a wait (null for none). */
  private refusal(cls: RateClass, scope: RateScope, waitMs: number): ColinkError | null {
    if (waitMs <= 0) return null;
    const retryAfterMs = Math.ceil(waitMs);
    return new ColinkError(
      "rate_limited",
      `too many ${cls} requests from ${scopeWords[scope]} (${rateBudgetVariable(cls, scope)}=${rateBudget(this.limits, cls, scope)} per ${this.limits.rateWindowSec} s), retry in ${Math.ceil(retryAfterMs / 1000)} s`,
      { retryAfterMs, limit: cls, scope },
    );
  }
}
