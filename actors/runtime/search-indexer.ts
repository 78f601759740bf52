/**
 * Keeps the search index following the channel log. It polls for channels whose log is
 * ahead of the index (the positions are kept with the log, so a restart or an outage of
 * the index only delays it), reads their new events in seq order and turns them into
 * index writes: a created or edited message is (re)indexed, a deleted one removed, and a
 * message whose reactions or thread changed is read again and reindexed. Each document
 * carries the seq of its event, so applying events twice changes nothing.
 */
import type { Logger } from "../../core/logger.js";
import type { ChannelLog, LogFeed, MessageHistory, SearchDocument, SearchIndex } from "../../core/ports.js";
import { searchDocumentOf } from "../../core/search-documents.js";
import type { ChannelEvent, Message } from "../../core/types.js";

/** What the indexer reads and writes. */
export interface SearchIndexerDeps {
  feed: LogFeed;
  log: Pick<ChannelLog, "readEvents">;
  history: Pick<MessageHistory, "getMessage">;
  index: SearchIndex;
  /** True for the channel ids whose actors this thread hosts: each thread indexes its own. */
  owns: (channelId: string) => boolean;
  logger: Logger;
}

/** The indexer's name among the followers of the channel logs. */
export const searchFollower = "search";

/** Events read per channel per step. */
const eventsPerRead = 500;
/** Channels looked at per poll. */
const channelsPerPoll = 500;

/** The index writes that a run of one channel's events comes to. */
export interface IndexChanges {
  docs: SearchDocument[];
  removed: string[];
  /** Messages to read again (reactions or thread changed), with the seq of the last such event. */
  reread: Map<string, number>;
}

/** Folds events (in seq order) into the writes that bring the index up to the last one. */
export function indexChangesOf(events: readonly ChannelEvent[]): IndexChanges {
  const docs = new Map<string, SearchDocument>();
  const removed = new Set<string>();
  const reread = new Map<string, number>();
  for (const event of events) {
    const data = event.data;
    switch (event.type) {
      case "message.created":
      case "message.updated": {
        const message = data.message as Message;
        docs.set(message.id, searchDocumentOf(message, event.seq));
        removed.delete(message.id);
        reread.delete(message.id);
        break;
      }
      case "message.deleted": {
        const id = String(data.messageId);
        docs.delete(id);
        reread.delete(id);
        removed.add(id);
        break;
      }
      case "reaction.added":
      case "reaction.removed":
      case "thread.updated": {
        const id = String(event.type === "thread.updated" ? data.rootId : data.messageId);
        if (!removed.has(id)) reread.set(id, event.seq);
        break;
      }
    }
  }
  // A message read again supersedes what its earlier event said.
  for (const id of reread.keys()) docs.delete(id);
  return { docs: [...docs.values()], removed: [...removed], reread };
}

/** Polls the feed and indexes; one per actor thread. */
export class SearchIndexer {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<number> | null = null;
  private failing = false;

  constructor(
    private readonly deps: SearchIndexerDeps,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  /** Indexes whatever the log holds beyond the index; resolves with the events applied. */
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
    let applied = 0;
    try {
      const behind = await this.deps.feed.feedBacklog(searchFollower, channelsPerPoll);
      for (const { channelId, handledSeq, lastSeq } of behind) {
        if (!this.deps.owns(channelId)) continue;
        applied += await this.indexChannel(channelId, handledSeq, lastSeq);
      }
      if (this.failing) this.deps.logger.info({}, "search index reachable again; caught up");
      this.failing = false;
    } catch (err) {
      // Nothing is lost: the positions did not move, the next poll starts where this stopped.
      if (!this.failing) this.deps.logger.warn({ err }, "search indexing failed; retrying on the next poll");
      this.failing = true;
    }
    return applied;
  }

  private async indexChannel(channelId: string, fromSeq: number, lastSeq: number): Promise<number> {
    let at = fromSeq;
    let applied = 0;
    while (at < lastSeq) {
      const events = await this.deps.log.readEvents(channelId, at, eventsPerRead);
      if (events.length === 0) break;
      const changes = indexChangesOf(events);
      const reread = await this.reread(channelId, changes.reread);
      await this.deps.index.index([...changes.docs, ...reread.docs]);
      await this.deps.index.remove([...changes.removed, ...reread.removed]);
      at = events[events.length - 1]!.seq;
      await this.deps.feed.markFed(searchFollower, channelId, at);
      applied += events.length;
    }
    return applied;
  }

  /** The current documents of messages whose reactions or thread changed (gone: removed). */
  private async reread(
    channelId: string,
    ids: ReadonlyMap<string, number>,
  ): Promise<{ docs: SearchDocument[]; removed: string[] }> {
    const docs: SearchDocument[] = [];
    const removed: string[] = [];
    for (const [id, version] of ids) {
      const message = await this.deps.history.getMessage(channelId, id);
      if (message === null || message.deletedAt !== null) removed.push(id);
      else docs.push(searchDocumentOf(message, version));
    }
    return { docs, removed };
  }
}
