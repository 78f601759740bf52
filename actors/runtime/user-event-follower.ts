/**
 * Follows the user-event outbox (profile and settings changes, written with each change)
 * and hands its events on, at least once and in id order: the event stream's relay
 * publishes them to `user.events`, the external search index indexes the people they
 * carry. One actor thread of one node follows it, for each follower: the one hosting the
 * key `userEventsKey`. In a cluster that is the owner of the key's shard, so the shard's
 * lease is the follower's lease, and a new owner resumes from the position kept in the
 * database (the follower's name, key `userEventsKey`).
 *
 * Ids come from a sequence and are handed out before commit: a change still committing
 * leaves a gap that fills a moment later, and a failed one leaves it for good. So the
 * follower stops at a gap until the event after it is `gapWaitMs` old, then moves past it.
 */
import type { Logger } from "../../core/logger.js";
import type { LogFeed } from "../../core/ports.js";
import type { UserEvent } from "../../core/types.js";
import type { FollowerStatus } from "./log-follower.js";

/** The outbox's key among the positions of the `stream` follower. */
export const userEventsKey = "@user-events";

/** How long a gap in the ids is waited for before the follower moves past it. */
const gapWaitMs = 10_000;
/** Events read and handed on per run. */
const eventsPerRun = 500;

/** What an outbox holds: entries with growing ids (with gaps) and a time. */
export interface OutboxEntry {
  id: number;
  at: number;
}

export interface UserEventFollowerDeps<E extends OutboxEntry = UserEvent> {
  /** The follower whose position is kept (the name of the channel logs' follower that does the same job). */
  follower: string;
  /** The outbox's key among the follower's positions: `userEventsKey`, or another outbox's (the audit log's). */
  key?: string;
  /** Entries after `afterId`, by id, at most `limit`. */
  read: (afterId: number, limit: number) => Promise<E[]>;
  feed: Pick<LogFeed, "fedPosition" | "markFed">;
  /** Hands a run of events on; the position moves past them once it resolves. */
  handle: (events: E[]) => Promise<void>;
  /** True while this thread hosts the outbox's key. */
  hosted: () => boolean;
  now: () => number;
  logger: Logger;
}

/**
 * The events that may be published now: from `position` on, up to the first gap that is
 * still young (an id whose change may yet commit).
 */
export function publishable<E extends OutboxEntry>(events: readonly E[], position: number, now: number): E[] {
  const run: E[] = [];
  let expected = position + 1;
  for (const event of events) {
    if (event.id !== expected && now - event.at < gapWaitMs) break;
    run.push(event);
    expected = event.id + 1;
  }
  return run;
}

/** Polls the outbox and hands on what it holds beyond the position. */
export class UserEventFollower<E extends OutboxEntry = UserEvent> {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<number> | null = null;
  private failing = false;
  private lag = 0;

  constructor(
    private readonly deps: UserEventFollowerDeps<E>,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  get status(): FollowerStatus {
    return { failing: this.failing, lagEvents: this.lag };
  }

  /** Hands on what the outbox holds beyond the position; resolves with the events handed on. */
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
    if (!this.deps.hosted()) {
      this.lag = 0;
      return 0;
    }
    const { follower, read, feed, handle } = this.deps;
    const key = this.deps.key ?? userEventsKey;
    let published = 0;
    try {
      let position = await feed.fedPosition(follower, key);
      for (;;) {
        const events = await read(position, eventsPerRun);
        this.lag = events.length;
        const run = publishable(events, position, this.deps.now());
        if (run.length === 0) break;
        await handle(run);
        position = run[run.length - 1]!.id;
        await feed.markFed(follower, [{ channelId: key, seq: position }]);
        published += run.length;
        this.lag = events.length - run.length;
        if (run.length < eventsPerRun) break;
      }
      if (this.failing) this.deps.logger.info({ follower }, "following user events again; caught up");
      this.failing = false;
    } catch (err) {
      // Nothing is lost: the position did not move, the next poll starts where this stopped.
      if (!this.failing) {
        this.deps.logger.warn({ err, follower }, "following user events failed; retrying on the next poll");
      }
      this.failing = true;
    }
    return published;
  }
}
