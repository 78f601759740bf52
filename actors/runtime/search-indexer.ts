/**
 * Keeps the search index following the channel logs (through a LogFollower, which keeps
 * the positions): a created or edited message is (re)indexed, a deleted one removed, and a
 * message whose reactions or thread changed is read again and reindexed. Each document
 * carries the seq of its event, so applying events twice changes nothing.
 */
import type {
  HandleStreamEvents,
  IndexedUser,
  MessageHistory,
  SearchDocument,
  SearchIndex,
} from "../../core/ports.js";
import { searchDocumentOf } from "../../core/search-documents.js";
import {
  channelEventOf,
  isChannelStreamEvent,
  streamTopicOf,
  userEventOf,
  userStreamTopicOf,
} from "../../core/stream-records.js";
import type { ChannelEvent, ChannelEventType, Message, User, UserEvent } from "../../core/types.js";
import type { ChannelRun, HandleEvents } from "./log-follower.js";

/** The indexer's name among the followers of the channel logs. */
export const searchFollower = "search";
/** The external search index's (OpenSearch) name among the followers of the channel logs and user events. */
export const externalSearchFollower = "opensearch";

/** The index writes that a run of one channel's events comes to. */
export interface IndexChanges {
  docs: SearchDocument[];
  removed: string[];
  /** Messages to read again (reactions or thread changed), with the seq of the last such event. */
  reread: Map<string, number>;
}

/** The channel events that change what the index holds (`indexChangesOf` ignores the others). */
const indexedEventTypes: readonly ChannelEventType[] = [
  "message.created",
  "message.updated",
  "message.deleted",
  "reaction.added",
  "reaction.removed",
  "thread.updated",
];

/**
 * The event stream's topics an indexer fed from the stream (COLINK_SEARCH_FEED=kafka)
 * consumes: those of the indexed channel events, and the users' (the people index).
 */
export const searchFeedTopics: readonly string[] = [
  ...new Set([...indexedEventTypes.map((type) => streamTopicOf[type]), userStreamTopicOf["user.updated"]]),
];

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

/**
 * The search index's side of following the logs: the runs of a batch of channels become
 * one index write and one removal (messages read again where their reactions or thread
 * changed).
 */
export function searchIndexing(
  index: Pick<SearchIndex, "index" | "remove">,
  history: Pick<MessageHistory, "getMessage">,
): HandleEvents {
  return async (runs) => {
    const docs: SearchDocument[] = [];
    const removed: string[] = [];
    for (const { channelId, events } of runs) {
      const changes = indexChangesOf(events);
      docs.push(...changes.docs);
      removed.push(...changes.removed);
      for (const [id, version] of changes.reread) {
        const message = await history.getMessage(channelId, id);
        if (message === null || message.deletedAt !== null) removed.push(id);
        else docs.push(searchDocumentOf(message, version));
      }
    }
    await index.index(docs);
    await index.remove(removed);
  };
}

/**
 * The people a run of user events leaves the index to hold: the newest state of each user
 * whose profile it carries (settings and files are not searched), at the version of its event.
 */
export function indexedUsersOf(events: readonly UserEvent[]): IndexedUser[] {
  const newest = new Map<string, IndexedUser>();
  for (const event of events) {
    if (event.type !== "user.created" && event.type !== "user.updated") continue;
    newest.set(event.userId, { user: event.data.user as User, version: event.id });
  }
  return [...newest.values()];
}

/**
 * The index's side of consuming the event stream (a consumer group, instead of following
 * the logs): a batch's channel events become runs per channel, in seq order and without
 * the duplicates an at-least-once relay may have sent, and go through `searchIndexing`;
 * its users' changes go to the people index. Events of a channel may come over several
 * topics, so a run can lack events of another topic or see them after later ones: that is
 * safe because a document carries its event's seq as its version (an older one does not
 * replace a newer one), and reactions and thread changes read the message as it is now.
 */
export function streamSearchIndexing(
  index: Pick<SearchIndex, "index" | "remove" | "indexUsers">,
  history: Pick<MessageHistory, "getMessage">,
): HandleStreamEvents {
  const indexRuns = searchIndexing(index, history);
  return async (batch) => {
    const byChannel = new Map<string, Map<number, ChannelEvent>>();
    const userEvents: UserEvent[] = [];
    for (const event of batch) {
      if (isChannelStreamEvent(event)) {
        const seqs = byChannel.get(event.channelId) ?? new Map<number, ChannelEvent>();
        seqs.set(event.seq, channelEventOf(event));
        byChannel.set(event.channelId, seqs);
      } else {
        const userEvent = userEventOf(event);
        if (userEvent) userEvents.push(userEvent);
      }
    }
    const runs: ChannelRun[] = [...byChannel].map(([channelId, seqs]) => ({
      channelId,
      events: [...seqs.values()].sort((a, b) => a.seq - b.seq),
    }));
    if (runs.length > 0) await indexRuns(runs);
    const people = indexedUsersOf(userEvents.sort((a, b) => a.id - b.id));
    if (people.length > 0) await index.indexUsers(people);
  };
}
