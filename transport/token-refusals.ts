/**
 * Audits refused tokens (`auth.token_refused`: at the WebSocket upgrade, in an `auth` frame,
 * on HTTP) so that a flood of bad tokens cannot flood the audit log. Per client address, at
 * most one entry per window (a minute): the refusals in between are counted, and the next
 * entry of that address says how many there were (`details.earlierRefusals`). Per node, at
 * most `maxPerWindow` entries per window over all addresses (many addresses at once): the
 * rest are counted and logged once per window, not audited. Only `unauthenticated`
 * refusals of a token that was presented count (a missing token is not a refused one).
 */
import { randomUUID } from "node:crypto";
import { errorBodyOf } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { AuditRecord } from "../core/ports.js";

/** Where a token was refused. */
export type RefusedAt = "upgrade" | "auth" | "http";

/** The window of the limits. */
const windowMs = 60_000;
/** Addresses remembered at most (the oldest is forgotten first). */
const maxAddresses = 10_000;

/** Turns refused tokens into a bounded number of audit entries. */
export class TokenRefusals {
  private readonly byAddress = new Map<string, { until: number; since: number }>();
  private windowEnds = 0;
  private written = 0;
  private dropped = 0;

  constructor(
    /** Appends an entry (through the actors); never throws. */
    private readonly write: (record: AuditRecord) => void,
    private readonly logger: Logger,
    private readonly maxPerWindow = 100,
  ) {}

  /** A token from `ip` was refused with `err` at `at`. */
  refused(ip: string, err: unknown, at: RefusedAt): void {
    const body = errorBodyOf(err);
    if (body.code !== "unauthenticated") return;
    const now = Date.now();
    if (now >= this.windowEnds) {
      if (this.dropped > 0)
        this.logger.warn({ dropped: this.dropped }, "refused tokens over the audit budget were not audited");
      this.windowEnds = now + windowMs;
      this.written = 0;
      this.dropped = 0;
    }
    const seen = this.byAddress.get(ip);
    if (seen && seen.until > now) {
      seen.since++;
      return;
    }
    if (this.written >= this.maxPerWindow) {
      this.dropped++;
      return;
    }
    this.written++;
    this.byAddress.delete(ip);
    if (this.byAddress.size >= maxAddresses) this.byAddress.delete(this.byAddress.keys().next().value!);
    this.byAddress.set(ip, { until: now + windowMs, since: 0 });
    this.write({
      at: now,
      actorId: "anonymous",
      action: "auth.token_refused",
      target: "",
      details: { reason: body.message, at, earlierRefusals: seen?.since ?? 0 },
      ip,
      requestId: randomUUID(),
    });
  }
}
