/**
 * What the search index holds of a message, built from the channel log's events: the
 * message's text and the fields the search modifiers filter on (`has:link`,
 * `has:reaction`, `is:thread`).
 */
import type { SearchDocument } from "./ports.js";
import type { Message } from "./types.js";

/** An http(s) link anywhere in the text. */
const link = /\bhttps?:\/\/\S/i;

/** The two characters snippets are marked with (U+0001, U+0002); a stored text never holds them. */
const markCharacters = ["\u0001", "\u0002"];

/** The document of `message` as of the channel event at seq `version`. */
export function searchDocumentOf(
  message: Pick<
    Message,
    "id" | "channelId" | "seq" | "authorId" | "text" | "createdAt" | "threadRootId" | "replyCount"
  > & { reactions: readonly unknown[] },
  version: number,
): SearchDocument {
  return {
    messageId: message.id,
    channelId: message.channelId,
    seq: message.seq,
    authorId: message.authorId,
    text: markCharacters.reduce((text, mark) => text.replaceAll(mark, " "), message.text),
    createdAt: message.createdAt,
    threadRootId: message.threadRootId,
    inThread: message.threadRootId !== null || message.replyCount > 0,
    hasLink: link.test(message.text),
    hasReaction: message.reactions.length > 0,
    version,
  };
}
