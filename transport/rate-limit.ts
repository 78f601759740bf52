/**
 * The per-user request rate limit (`COLINK_USER_RATE_PER_SEC`), over WebSocket and HTTP
 * alike, in fixed one-second windows. The decision is local and synchronous; in a cluster
 * the nodes exchange their counts every `exchangeMs` through shared counters (Redis), so
 * a user spread over several nodes gets one budget, give or take what the nodes let
 * through between two exchanges (as with Slack's and Mattermost's limits, a bound, not a
 * metered quota).
 */
import { ColinkError } from "../core/errors.js";
import type { RateCounters } from "../core/ports.js";

/** Window length. */
const windowMs = 1000;

/** How often a node exchanges its counts with the others. */
const exchangeMs = 50;

/** Per-user request budgets. */
export class UserRateLimiter {
  private window = 0;
  /** Requests let through on this node in the current window, by user. */
  private readonly local = new Map<string, number>();
  /** Counted here since the last exchange, by user. */
  private pending = new Map<string, number>();
  /** Requests the other nodes let through in the current window, as of the last exchange. */
  private readonly others = new Map<string, number>();
  private readonly timer: NodeJS.Timeout | null;
  private exchanging = false;

  constructor(
    /** Requests per user per second; 0 turns the limit off. */
    private readonly perSecond: number,
    private readonly shared?: RateCounters,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = perSecond > 0 && shared ? setInterval(() => void this.exchange(), exchangeMs) : null;
    this.timer?.unref();
  }

  /**
   * Counts one request of `userId` and says whether it may go on; when not, how long until
   * the next window (for the `retryAfterMs` hint).
   */
  take(userId: string): { ok: true } | { ok: false; retryAfterMs: number } {
    if (this.perSecond === 0) return { ok: true };
    const now = this.now();
    this.roll(now);
    const used = (this.local.get(userId) ?? 0) + (this.others.get(userId) ?? 0);
    if (used >= this.perSecond) return { ok: false, retryAfterMs: windowMs - (now % windowMs) };
    this.local.set(userId, (this.local.get(userId) ?? 0) + 1);
    if (this.shared) this.pending.set(userId, (this.pending.get(userId) ?? 0) + 1);
    return { ok: true };
  }

  /** Counts one request of `userId`; throws `rate_limited` (with `retryAfterMs`) when over the budget. */
  check(userId: string): void {
    const taken = this.take(userId);
    if (!taken.ok) {
      throw new ColinkError("rate_limited", "too many requests from this user, slow down", {
        retryAfterMs: taken.retryAfterMs,
      });
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private roll(now: number): void {
    const window = Math.floor(now / windowMs);
    if (window === this.window) return;
    this.window = window;
    this.local.clear();
    this.others.clear();
    this.pending = new Map();
  }

  /** Sends this node's new counts and learns the others'. A failed exchange leaves the local budget only. */
  private async exchange(): Promise<void> {
    if (this.exchanging || this.pending.size === 0 || !this.shared) return;
    this.exchanging = true;
    const window = this.window;
    const sent = this.pending;
    this.pending = new Map();
    try {
      const totals = await this.shared.addCounts(window, windowMs, sent);
      if (window !== this.window) return;
      for (const [user, total] of totals) {
        // The total holds what this node sent so far, not what it counted since.
        const mine = (this.local.get(user) ?? 0) - (this.pending.get(user) ?? 0);
        this.others.set(user, Math.max(0, total - mine));
      }
    } catch {
      // Redis is away: each node enforces the limit on its own until it is back.
    } finally {
      this.exchanging = false;
    }
  }
}
