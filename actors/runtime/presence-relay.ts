/**
 * Sends presence changes to the event stream's `presence.events`, at most once. Presence
 * is a state, not a history: it is kept in no log, and a consumer needs only the latest
 * change per user. So changes wait in a bounded buffer and go out every `intervalMs`; while
 * Kafka refuses them they are dropped (and counted in the log), never held up or retried.
 */
import type { Logger } from "../../core/logger.js";
import type { EventStream } from "../../core/ports.js";
import { presenceStreamRecordOf } from "../../core/stream-records.js";
import type { Presence } from "../../core/types.js";

/** Changes kept waiting at most; beyond it the oldest are dropped. */
const maxWaiting = 10_000;

export class PresenceRelay {
  private waiting: Presence[] = [];
  private readonly timer: NodeJS.Timeout;
  private sending: Promise<void> | null = null;
  private dropped = 0;
  private failing = false;

  constructor(
    private readonly stream: EventStream,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Whether the last send failed (for /ready). */
  get isFailing(): boolean {
    return this.failing;
  }

  /** Queues a change for the next send. */
  add(presence: Presence): void {
    this.waiting.push(presence);
    if (this.waiting.length > maxWaiting) {
      this.waiting.shift();
      this.dropped++;
    }
  }

  /** Sends what is waiting; resolves when done (a failure drops it). */
  flush(): Promise<void> {
    this.sending ??= this.send().finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async send(): Promise<void> {
    if (this.waiting.length === 0) return;
    const batch = this.waiting;
    this.waiting = [];
    try {
      await this.stream.publish(batch.map(presenceStreamRecordOf));
      if (this.failing || this.dropped > 0) {
        this.logger.info({ dropped: this.dropped }, "presence changes reach the event stream again");
      }
      this.failing = false;
      this.dropped = 0;
    } catch (err) {
      this.dropped += batch.length;
      if (!this.failing) {
        this.logger.warn(
          { err },
          "presence changes cannot reach the event stream; dropping them until it answers",
        );
      }
      this.failing = true;
    }
  }
}
