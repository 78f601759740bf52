/**
 * Follows the channel logs from outside the actors, for one follower (the search
 * indexer; the Kafka relay): it polls for channels whose log is ahead of the follower's
 * position, hands their new events, in seq order and in runs, to the follower, and moves
 * the positions (kept with the logs) after the runs are handled. So a follower that fails,
 * stops or restarts loses nothing: the next poll starts where the positions say, and a
 * run may be handled twice (at least once), never skipped. Each actor thread follows the
 * channels it hosts, so a channel is followed by one thread at a time.
 *
 * Channels are taken in batches: their runs are read at once, handed over together (one
 * Kafka produce, one index write) and their positions moved in one statement. One channel
 * at a time, a follower was bound by the round trips (a read, a produce, a position commit
 * each) and fell behind a busy server (bench S10).
 */
import type { Logger } from "../../core/logger.js";
import type { ChannelLog, LogFeed } from "../../core/ports.js";
import type { ChannelEvent } from "../../core/types.js";

/** New events of one channel, in seq order. */
export interface ChannelRun {
  channelId: string;
  events: readonly ChannelEvent[];
}

/** What a follower does with the runs of a batch of channels. */
export type HandleEvents = (runs: readonly ChannelRun[]) => Promise<void>;

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

/** How a follower is doing, as `/ready` reports it. */
export interface FollowerStatus {
  /** Its last poll failed (the store, or the follower's target, such as Kafka or OpenSearch). */
  failing: boolean;
  /**
   * Events the hosted channels' logs held beyond its positions when its poll began, less
   * what it has handled of them since (a lower bound when more than `channelsPerPoll`
   * channels were behind).
   */
  lagEvents: number;
}

/** Lag above which a follower says so in the log, at most once per `lagReportMs`. */
const lagReportEvents = 10_000;
const lagReportMs = 30_000;

/** Events of one channel handed over per run. */
const eventsPerRun = 500;
/** Channels whose runs are read and handed over together. */
const channelsPerBatch = 16;
/** Channels looked at per poll. */
const channelsPerPoll = 500;

/** A channel behind the follower, as the poll that found it left it. */
interface Behind {
  channelId: string;
  handledSeq: number;
  lastSeq: number;
}

/** Polls the feed and hands new events to the follower. */
export class LogFollower {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<number> | null = null;
  private failing = false;
  private lag = 0;
  private lagReportedAt = 0;

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

  get status(): FollowerStatus {
    return { failing: this.failing, lagEvents: this.lag };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async catchUp(): Promise<number> {
    let handled = 0;
    try {
      const found = await this.deps.feed.feedBacklog(this.deps.name, channelsPerPoll);
      const behind: Behind[] = found.filter((c) => this.deps.owns(c.channelId));
      this.lag = lagOf(behind);
      this.reportLag(behind.length);
      let pending = behind;
      while (pending.length > 0) {
        const batch = pending.slice(0, channelsPerBatch);
        handled += await this.follow(batch);
        // A channel with more than a run behind comes round again.
        pending = [...pending.slice(channelsPerBatch), ...batch.filter((c) => c.handledSeq < c.lastSeq)];
        this.lag = lagOf(behind);
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

  /** Reads the next run of each channel, hands them over, and moves their positions; marks what was done on `batch`. */
  private async follow(batch: Behind[]): Promise<number> {
    const runs = await Promise.all(
      batch.map(async (c) => ({
        channelId: c.channelId,
        events: await this.deps.log.readEvents(c.channelId, c.handledSeq, eventsPerRun),
      })),
    );
    const read = runs.filter((r) => r.events.length > 0);
    // A log that holds nothing beyond the position (its tail was not committed after all): done with it.
    for (const [i, run] of runs.entries())
      if (run.events.length === 0) batch[i]!.handledSeq = batch[i]!.lastSeq;
    if (read.length === 0) return 0;
    await this.deps.handle(read);
    const positions = read.map((r) => ({ channelId: r.channelId, seq: r.events[r.events.length - 1]!.seq }));
    await this.deps.feed.markFed(this.deps.name, positions);
    for (const [i, run] of runs.entries()) {
      const last = run.events.at(-1);
      if (last) batch[i]!.handledSeq = last.seq;
    }
    return read.reduce((n, r) => n + r.events.length, 0);
  }

  /** Says in the log when the follower is far behind (an outage it is catching up on, or load it cannot keep up with). */
  private reportLag(channels: number): void {
    if (this.lag < lagReportEvents) return;
    const now = Date.now();
    if (now - this.lagReportedAt < lagReportMs) return;
    this.lagReportedAt = now;
    this.deps.logger.warn(
      { follower: this.deps.name, lagEvents: this.lag, channels },
      "following the logs: behind",
    );
  }
}

/** Events the channels' logs hold beyond the positions, as far as the poll knows them. */
function lagOf(behind: readonly Behind[]): number {
  return behind.reduce((n, c) => n + Math.max(0, c.lastSeq - c.handledSeq), 0);
}
