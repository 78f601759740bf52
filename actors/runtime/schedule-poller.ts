/**
 * Wakes channel actors whose scheduled messages fell due. Schedules are durable rows,
 * so polling the store (rather than timers in actors) survives restarts and passivation:
 * after a crash, the first poll finds whatever came due meanwhile.
 */

import type { Logger } from "../../core/logger.js";
import type { ScheduleQueue } from "../../core/ports.js";
import { noReply, type Routed, systemPrincipal } from "../envelope.js";

/** Polls for due schedules and sends `schedule.due` to their channels. */
export class SchedulePoller {
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly queue: ScheduleQueue,
    /** Delivers to a channel actor hosted by this thread. */
    private readonly deliver: (env: Routed) => void,
    /** True for the channel ids whose actors this thread hosts. */
    private readonly owns: (channelId: string) => boolean,
    private readonly now: () => number,
    intervalMs: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  /** Looks for due schedules once (also called by tests). */
  async poll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const due = await this.queue.dueSchedules(this.now(), 500);
      for (const channelId of new Set(due.map((s) => s.channelId))) {
        if (!this.owns(channelId)) continue;
        this.deliver({
          callId: noReply,
          op: "schedule.due",
          args: {},
          principal: systemPrincipal,
          key: channelId,
          actor: "channel",
        });
      }
    } catch (err) {
      // The store is down: the next poll tries again; nothing is lost, the rows stay pending.
      this.log.warn({ err }, "due scheduled messages could not be read; polling again");
    } finally {
      this.running = false;
    }
  }

  /** Stops polling. */
  stop(): void {
    clearInterval(this.timer);
  }
}
