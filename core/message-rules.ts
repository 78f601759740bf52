/**
 * Pure rules about message content: mentions parsed from text, the per-viewer view of a
 * stored message's reactions, and what a new message starts as. (Reaction emoji are
 * core/emoji.ts.)
 */
import type { StoredMessage, StoredReaction } from "./ports.js";
import type { Message } from "./types.js";

/** What the text of a message mentions. */
export interface ParsedMentions {
  /** Lowercased usernames after `@`, without duplicates, in order. */
  usernames: string[];
  /** `channel` for @channel or @everyone, `here` for @here, else null. */
  broadcast: "channel" | "here" | null;
}

// `@name` at the start or after a character that cannot be part of a name or an email.
const mentionPattern = /(?:^|[^\w@.])@([a-z0-9][a-z0-9._-]{0,31})/gi;

/** Parses `@username`, `@channel`, `@everyone` and `@here` out of message text. */
export function parseMentions(text: string): ParsedMentions {
  const usernames: string[] = [];
  let broadcast: ParsedMentions["broadcast"] = null;
  for (const match of text.matchAll(mentionPattern)) {
    const name = match[1]!.toLowerCase().replace(/[._-]+$/, "");
    if (name === "channel" || name === "everyone") broadcast = "channel";
    else if (name === "here") broadcast = broadcast ?? "here";
    else if (name && !usernames.includes(name)) usernames.push(name);
  }
  return { usernames, broadcast };
}

/** The reactions after `userId` adds `emoji` (unchanged if already there). */
export function withReaction(reactions: StoredReaction[], emoji: string, userId: string): StoredReaction[] {
  const i = reactions.findIndex((r) => r.emoji === emoji);
  if (i < 0) return [...reactions, { emoji, users: [userId] }];
  if (reactions[i]!.users.includes(userId)) return reactions;
  return reactions.map((r, j) => (j === i ? { emoji, users: [...r.users, userId] } : r));
}

/** The reactions after `userId` removes `emoji` (unchanged if absent). */
export function withoutReaction(
  reactions: StoredReaction[],
  emoji: string,
  userId: string,
): StoredReaction[] {
  const r = reactions.find((x) => x.emoji === emoji);
  if (!r?.users.includes(userId)) return reactions;
  const users = r.users.filter((u) => u !== userId);
  return users.length === 0
    ? reactions.filter((x) => x.emoji !== emoji)
    : reactions.map((x) => (x.emoji === emoji ? { emoji, users } : x));
}

/** A stored message as `viewerId` sees it; `null` (broadcast events) never counts as "me". */
export function viewOf(message: StoredMessage, viewerId: string | null): Message {
  return {
    ...message,
    reactions: message.reactions.map((r) => ({
      emoji: r.emoji,
      count: r.users.length,
      me: viewerId !== null && r.users.includes(viewerId),
    })),
  };
}

/** What a new message is made of; every other field starts empty. */
export type NewMessageFields = Pick<
  Message,
  "id" | "channelId" | "seq" | "authorId" | "text" | "clientMsgId" | "createdAt"
> &
  Partial<Pick<Message, "threadRootId" | "mentions" | "broadcast" | "files">>;

/**
 * A message as first stored: not edited, deleted, reacted to or pinned, with no replies;
 * in a thread, mentioning people and carrying files only when `fields` say so. Its empty `reactions` fits both the stored and the wire shape.
 */
export function newMessage(fields: NewMessageFields): Omit<Message, "reactions"> & { reactions: never[] } {
  return {
    id: fields.id,
    channelId: fields.channelId,
    seq: fields.seq,
    authorId: fields.authorId,
    text: fields.text,
    clientMsgId: fields.clientMsgId,
    createdAt: fields.createdAt,
    editedAt: null,
    deletedAt: null,
    threadRootId: fields.threadRootId ?? null,
    replyCount: 0,
    lastReplyAt: null,
    threadParticipants: [],
    mentions: fields.mentions ?? [],
    broadcast: fields.broadcast ?? null,
    reactions: [],
    pinnedAt: null,
    pinnedBy: null,
    files: fields.files ?? [],
  };
}
