/**
 * How rows map to the domain and back: the column lists that alias a table's columns to
 * the domain's field names, the functions that copy such rows into plain domain objects,
 * and the clamps that make a caller's number a safe bigint parameter.
 */
import type { ChannelRecord, StoredMessage } from "../../core/ports.js";
import type { ChannelEvent, Scheduled, User } from "../../core/types.js";

/** The columns of a `ChannelRecord`, from `channels c`. */
export const channelColumns = `c.id, c.name, c.kind, c.topic, c.created_by AS "createdBy", c.created_at AS "createdAt",
  c.archived, c.last_seq AS "lastSeq"`;

/** The columns of a `StoredMessage`, from `messages m`. */
export const messageColumns = `m.id, m.channel_id AS "channelId", m.seq, m.author_id AS "authorId", m.text,
  m.client_msg_id AS "clientMsgId", m.created_at AS "createdAt", m.edited_at AS "editedAt",
  m.deleted_at AS "deletedAt", m.thread_root_id AS "threadRootId", m.reply_count AS "replyCount",
  m.last_reply_at AS "lastReplyAt", m.thread_participants AS "threadParticipants", m.mentions, m.broadcast,
  m.reactions, m.pinned_at AS "pinnedAt", m.pinned_by AS "pinnedBy", m.files`;

/** The columns of a `User`, from `users`. */
export const userColumns = `id, username, display_name AS "displayName", role, title, time_zone AS "timeZone",
  avatar_file_id AS "avatarFileId", deactivated, created_at AS "createdAt"`;

/** The columns of a `Scheduled`, from `scheduled_messages s`. */
export const scheduleColumns = `s.id, s.channel_id AS "channelId", s.author_id AS "authorId", s.text,
  s.client_msg_id AS "clientMsgId", s.thread_root_id AS "threadRootId", s.send_at AS "sendAt", s.status,
  s.message_id AS "messageId"`;

/** A count or limit as a whole number, 0 when negative. */
export function nonNegative(n: number): number {
  return n > 0 ? Math.floor(n) : 0;
}

/** A seq or time as a safe bigint parameter (the caller's number may be fractional or unbounded). */
export function seqArg(n: number): number {
  if (Number.isNaN(n)) return 0;
  return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(n)));
}

// Rows are aliased to the domain's field names in SQL; these copy them into plain
// objects with exactly the domain's fields (drivers may add hidden properties).

/** A channel row as a `ChannelRecord`. */
export function toChannelRecord(r: ChannelRecord): ChannelRecord {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    topic: r.topic,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    archived: r.archived,
    lastSeq: r.lastSeq,
  };
}

/** An event row as a `ChannelEvent`. */
export function toEvent(r: ChannelEvent): ChannelEvent {
  return { channelId: r.channelId, seq: r.seq, type: r.type, data: r.data, at: r.at };
}

/** A message row as a `StoredMessage`. */
export function toMessage(r: StoredMessage): StoredMessage {
  return {
    id: r.id,
    channelId: r.channelId,
    seq: r.seq,
    authorId: r.authorId,
    text: r.text,
    clientMsgId: r.clientMsgId,
    createdAt: r.createdAt,
    editedAt: r.editedAt,
    deletedAt: r.deletedAt,
    threadRootId: r.threadRootId,
    replyCount: r.replyCount,
    lastReplyAt: r.lastReplyAt,
    threadParticipants: r.threadParticipants,
    mentions: r.mentions,
    broadcast: r.broadcast,
    reactions: r.reactions,
    pinnedAt: r.pinnedAt,
    pinnedBy: r.pinnedBy,
    files: r.files,
  };
}

/** A user row as a `User`. */
export function toUser(r: User): User {
  return {
    id: r.id,
    username: r.username,
    displayName: r.displayName,
    role: r.role,
    title: r.title,
    timeZone: r.timeZone,
    avatarFileId: r.avatarFileId,
    deactivated: r.deactivated,
    createdAt: r.createdAt,
  };
}

/** A scheduled message row as a `Scheduled`. */
export function toScheduled(r: Scheduled): Scheduled {
  return {
    id: r.id,
    channelId: r.channelId,
    authorId: r.authorId,
    text: r.text,
    clientMsgId: r.clientMsgId,
    threadRootId: r.threadRootId,
    sendAt: r.sendAt,
    status: r.status,
    messageId: r.messageId,
  };
}
