/**
 * The mailbox both kinds of actor share (as in Phoenix, where a channel's process mailbox
 * is its queue): a bounded queue of envelopes, handled one at a time in arrival order. A
 * full mailbox refuses at once (the actor answers `unavailable`) rather than growing
 * without end (COLINK_MAILBOX_CAPACITY). Before each envelope the actor gets its turn to
 * get ready (`ready`: activation, recovery after a failed commit), so that activation
 * finishes before the first message is handled.
 */
import type { Envelope } from "./envelope.js";

/** An actor that handles its envelopes one at a time, through its mailbox. */
export abstract class MailboxActor {
  private readonly mailbox: Envelope[] = [];
  private draining = false;

  /** Handles one envelope; the next waits until it is done. */
  protected abstract handle(env: Envelope): Promise<void>;

  /**
   * Runs before each envelope (and on `wake`): activation, recovery. False when there is
   * nothing to handle this time round (everything queued was answered meanwhile).
   */
  protected ready(): Promise<boolean> | boolean {
    return true;
  }

  /** True when the actor has work besides its queue (a failed commit to recover from). */
  protected hasWork(): boolean {
    return false;
  }

  /** Runs after each envelope is handled. */
  protected handled(): void {}

  /** Runs once the mailbox is empty and the drain is over. */
  protected drained(): void {}

  /**
   * Queues `env` and starts draining if nothing is. False, and nothing is queued, when the
   * mailbox already holds `capacity` envelopes: the caller answers `unavailable`.
   */
  protected enqueue(env: Envelope, capacity: number): boolean {
    if (this.mailbox.length >= capacity) return false;
    this.mailbox.push(env);
    this.wake();
    return true;
  }

  /** Starts draining if nothing is (for work besides the queue, see `hasWork`). */
  protected wake(): void {
    if (!this.draining) void this.drain();
  }

  /** True while an envelope (or the actor's own work) is being handled. */
  protected get busy(): boolean {
    return this.draining;
  }

  /** Envelopes waiting. */
  protected get queued(): number {
    return this.mailbox.length;
  }

  /** Takes every waiting envelope out of the mailbox (to answer them). */
  protected takeQueued(): Envelope[] {
    return this.mailbox.splice(0);
  }

  /** Puts envelopes back at the front of the mailbox, in order (to handle them again). */
  protected requeue(envs: Envelope[]): void {
    this.mailbox.unshift(...envs);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.mailbox.length > 0 || this.hasWork()) {
        // Awaited only when it is a promise: an active actor goes on in the same tick.
        const ready = this.ready();
        if (!(typeof ready === "boolean" ? ready : await ready)) continue;
        const env = this.mailbox.shift();
        if (!env) break;
        await this.handle(env);
        this.handled();
      }
    } finally {
      this.draining = false;
    }
    this.drained();
  }
}
