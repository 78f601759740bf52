/**
 * The per-channel delivery cursor of the SDK. It sees channel events as they arrive
 * (replayed or live, possibly duplicated or out of order after a reconnect) and says
 * which ones to hand to the application so that the application sees each `seq` at most
 * once and strictly in order: 1, 2, 3… from where it started.
 *
 * It is pure: no I/O, no timers. The client asks it for the `sinceSeq` of each `sub`
 * request it sends, feeds it the events and the `sub` replies, and resubscribes when
 * it says so.
 */

/** What to do after feeding the cursor. */
export interface CursorStep<E> {
  /** Events to deliver now, in this order. */
  deliver: E[];
  /**
   * True when a gap was seen and no `sub` is awaiting its reply: the caller should send
   * `sub` with `sinceSeq = beginSub()` to have the server replay what is missing.
   */
  resubscribe: boolean;
}

/** Default number of out-of-order events held while waiting for a gap to fill. */
export const defaultMaxBuffered = 10_000;

export class ChannelCursor<E> {
  private lastSeq: number | undefined;
  /** Highest seq seen or announced by the server (a gap exists while it is above lastSeq). */
  private maxSeen: number;
  private awaiting = false;
  private readonly held = new Map<number, E>();

  /**
   * @param lastDelivered the seq the application already has (events after it are
   *   delivered); undefined to start at whatever the first `sub` reply says.
   * @param maxBuffered bound on held events; those beyond it are dropped, and replayed
   *   later by the resubscribe.
   */
  constructor(
    lastDelivered?: number,
    private readonly maxBuffered = defaultMaxBuffered,
  ) {
    if (lastDelivered !== undefined && !isSeq(lastDelivered)) {
      throw new RangeError(`lastDelivered must be a non-negative integer, got ${lastDelivered}`);
    }
    this.lastSeq = lastDelivered;
    this.maxSeen = lastDelivered ?? 0;
  }

  /** Seq of the last event delivered, or the start position; undefined before it is known. */
  get last(): number | undefined {
    return this.lastSeq;
  }

  /** True between beginSub() and subReply() / subFailed() / disconnected(). */
  get awaitingReply(): boolean {
    return this.awaiting;
  }

  /** Number of events held back, waiting for earlier ones. */
  get buffered(): number {
    return this.held.size;
  }

  /** True when the server is known to have events after the last delivered one that are not delivered. */
  get hasGap(): boolean {
    return this.lastSeq !== undefined && this.maxSeen > this.lastSeq;
  }

  /** A `sub` request is being sent. Returns its `sinceSeq` (undefined: plain subscribe). */
  beginSub(): number | undefined {
    this.awaiting = true;
    return this.lastSeq;
  }

  /** A channel event with log position `seq` arrived. */
  push(seq: number, event: E): CursorStep<E> {
    if (!isSeq(seq)) return { deliver: [], resubscribe: false };
    if (seq > this.maxSeen) this.maxSeen = seq;
    if (this.lastSeq !== undefined && seq <= this.lastSeq) return { deliver: [], resubscribe: false };
    if (this.lastSeq !== undefined && seq === this.lastSeq + 1) {
      this.lastSeq = seq;
      const deliver = [event];
      this.drain(deliver);
      return { deliver, resubscribe: this.needsResubscribe() };
    }
    // Position unknown yet (the first sub has not answered), or a gap: hold it.
    if (this.held.size < this.maxBuffered) this.held.set(seq, event);
    return { deliver: [], resubscribe: this.needsResubscribe() };
  }

  /**
   * The reply to the `sub` sent after beginSub(): the channel's `lastSeq` at subscribe
   * time and whether the server could not replay (`resync`: continue from `lastSeq`).
   */
  subReply(lastSeq: number, resync: boolean): CursorStep<E> {
    this.awaiting = false;
    if (isSeq(lastSeq)) {
      if (resync) {
        // The server could not replay (too far behind, or sinceSeq is ahead of its log):
        // continue from its lastSeq, even when that is below the old position.
        this.lastSeq = lastSeq;
        this.maxSeen = lastSeq;
        for (const seq of this.held.keys()) if (seq > this.maxSeen) this.maxSeen = seq;
      } else {
        if (this.lastSeq === undefined) this.lastSeq = lastSeq;
        // Every event up to lastSeq was due before the reply.
        if (lastSeq > this.maxSeen) this.maxSeen = lastSeq;
      }
    }
    const deliver: E[] = [];
    this.drain(deliver);
    return { deliver, resubscribe: this.hasGap };
  }

  /** The `sub` failed (error reply or timeout); a new one may be begun. */
  subFailed(): void {
    this.awaiting = false;
  }

  /** The connection dropped: the next `sub` replays everything after `last`. */
  disconnected(): void {
    this.awaiting = false;
    this.held.clear();
    this.maxSeen = this.lastSeq ?? 0;
  }

  private needsResubscribe(): boolean {
    return !this.awaiting && this.hasGap;
  }

  /** Drops held events at or before lastSeq, then delivers the run that follows it. */
  private drain(out: E[]): void {
    if (this.lastSeq === undefined || this.held.size === 0) return;
    for (const seq of this.held.keys()) if (seq <= this.lastSeq) this.held.delete(seq);
    for (let next = this.lastSeq + 1; this.held.has(next); next++) {
      out.push(this.held.get(next)!);
      this.held.delete(next);
      this.lastSeq = next;
    }
  }
}

function isSeq(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
