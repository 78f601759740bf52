/**
 * Keeps the search index following the channel logs (through a LogFollower, which keeps
 * the positions): a created or edited message is (re)indexed, a deleted one removed, and a
 * message whose reactions or thread changed is read again and reindexed. Each document
 * carries the seq of its event, so applying events twice changes nothing.
 */
import type { MessageHistory, SearchDocument, SearchIndex } from "../../core/ports.js";
import { searchDocumentOf } from "../../core/search-documents.js";
import type { ChannelEvent, Message } from "../../core/types.js";
import type { HandleEvents } from "./log-follower.js";

/** The indexer's name among the followers of the channel logs. */
export const searchFollower = "search";

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

/**
 * The search index's side of following the logs: a run of one channel's events becomes
 * index writes (messages read again where their reactions or thread changed).
 */
export function searchIndexing(
  index: SearchIndex,
  history: Pick<MessageHistory, "getMessage">,
): HandleEvents {
  return async (channelId, events) => {
    const changes = indexChangesOf(events);
    const docs = [...changes.docs];
    const removed = [...changes.removed];
    for (const [id, version] of changes.reread) {
      const message = await history.getMessage(channelId, id);
      if (message === null || message.deletedAt !== null) removed.push(id);
      else docs.push(searchDocumentOf(message, version));
    }
    await index.index(docs);
    await index.remove(removed);
  };
}
