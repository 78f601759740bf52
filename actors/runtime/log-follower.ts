/**
 * Follows the channel logs from outside the actors, for one follower (the search
 * indexer; the Kafka relay): it polls for channels whose log is ahead of the follower's
 * position, hands their new events, in seq order and in runs, to the follower, and moves
 * the position (kept with the log) after each run is handled. So a follower that fails,
 * stops or restarts loses nothing: the next poll starts where the position says, and a
 * run may be handled twice (at least once), never skipped. Each actor thread follows the
 * channels it hosts, so a channel is followed by one thread at a time.
 */
import type { Logger } from "../../core/logger.js";
import type { ChannelLog, LogFeed } from "../../core/ports.js";
import type { ChannelEvent } from "../../core/types.js";

/** What a follower does with a run of one channel's events. */
export type HandleEvents = (channelId: string, events: readonly ChannelEvent[]) => Promise<void>;

/** What a log follower reads and whom it serves. */
export interface LogFollowerDeps {
  /** The follower's name: its positions are its own. */
  name: string;
  feed: Pick<LogFeed, "feedBacklog" | "markFed">;
  log: Pick<ChannelLog, "readEvents">;
  /** True for the channel ids whose actors this thread hosts. */
  owns: (channelId: string) => boolean;
  handle: HandleEvents;
  logger: Logger;
}

/** Events handed over per run. */
const eventsPerRun = 500;
/** Channels looked at per poll. */
const channelsPerPoll = 500;

/** Polls the feed and hands new events to the follower. */
export class LogFollower {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<number> | null = null;
  private failing = false;

  constructor(
    private readonly deps: LogFollowerDeps,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  /** Hands over whatever the logs hold beyond the positions; resolves with the events handled. */
  poll(): Promise<number> {
    this.running ??= this.catchUp().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async catchUp(): Promise<number> {
    let handled = 0;
    try {
      const behind = await this.deps.feed.feedBacklog(this.deps.name, channelsPerPoll);
      for (const { channelId, handledSeq, lastSeq } of behind) {
        if (this.deps.owns(channelId)) handled += await this.follow(channelId, handledSeq, lastSeq);
      }
      if (this.failing)
        this.deps.logger.info({ follower: this.deps.name }, "following the logs again; caught up");
      this.failing = false;
    } catch (err) {
      // Nothing is lost: the positions did not move, the next poll starts where this stopped.
      if (!this.failing) {
        this.deps.logger.warn(
          { err, follower: this.deps.name },
          "following the logs failed; retrying on the next poll",
        );
      }
      this.failing = true;
    }
    return handled;
  }

  private async follow(channelId: string, fromSeq: number, lastSeq: number): Promise<number> {
    let at = fromSeq;
    let handled = 0;
    while (at < lastSeq) {
      const events = await this.deps.log.readEvents(channelId, at, eventsPerRun);
      if (events.length === 0) break;
      await this.deps.handle(channelId, events);
      at = events[events.length - 1]!.seq;
      await this.deps.feed.markFed(this.deps.name, channelId, at);
      handled += events.length;
    }
    return handled;
  }
}
