/**
 * The `MessageHistory` port's queries: history pages, one message, pins, versions and
 * thread follows, each confined to the channel asked about.
 */
import type { MessageHistory, MessagePage, StoredMessage, ThreadFollow } from "../../core/ports.js";
import type { MessageVersion } from "../../core/types.js";
import { messageColumns, toMessage } from "./row-mapping.js";
import type { SqlQuery } from "./sql-driver.js";

/** The `MessageHistory` port over one SQL connection (or pool). */
export class SqlMessageHistory implements MessageHistory {
  constructor(private readonly db: SqlQuery) {}

  async readMessages(channelId: string, page: MessagePage): Promise<StoredMessage[]> {
    const limit = Math.floor(page.limit);
    if (limit <= 0) return [];
    // Only `afterSeq`: paging forward, the oldest above it. Otherwise the newest below
    // `beforeSeq` (and above `afterSeq` when both are given).
    const oldestFirst = page.afterSeq !== undefined && page.beforeSeq === undefined;
    // Every message (an actor's window), one thread's replies, or the top level.
    const thread = page.allThreads ? undefined : page.thread;
    const scope = page.allThreads
      ? "true"
      : thread === undefined
        ? "m.thread_root_id IS NULL"
        : "m.thread_root_id = $5";
    const params: unknown[] = [
      channelId,
      page.afterSeq ?? -1,
      page.beforeSeq ?? Number.MAX_SAFE_INTEGER,
      limit,
    ];
    if (thread !== undefined) params.push(thread);
    const rows = await this.db.query<StoredMessage>(
      `SELECT ${messageColumns} FROM messages m
       WHERE m.channel_id = $1 AND ${scope} AND m.seq > $2 AND m.seq < $3
       ORDER BY m.seq ${oldestFirst ? "ASC" : "DESC"} LIMIT $4`,
      params,
    );
    const messages = rows.map(toMessage);
    return oldestFirst ? messages : messages.reverse();
  }

  async getMessage(channelId: string, messageId: string): Promise<StoredMessage | null> {
    const rows = await this.db.query<StoredMessage>(
      `SELECT ${messageColumns} FROM messages m WHERE m.id = $1 AND m.channel_id = $2`,
      [messageId, channelId],
    );
    return rows[0] ? toMessage(rows[0]) : null;
  }

  async listPinned(channelId: string, limit: number): Promise<StoredMessage[]> {
    if (limit <= 0) return [];
    const rows = await this.db.query<StoredMessage>(
      `SELECT ${messageColumns} FROM messages m
       WHERE m.channel_id = $1 AND m.pinned_at IS NOT NULL
       ORDER BY m.pinned_at DESC, m.seq DESC LIMIT $2`,
      [channelId, Math.floor(limit)],
    );
    return rows.map(toMessage);
  }

  async readVersions(channelId: string, messageId: string): Promise<MessageVersion[]> {
    const rows = await this.db.query<MessageVersion>(
      `SELECT v.message_id AS "messageId", v.version, v.text, v.edited_at AS "editedAt"
       FROM messages m JOIN message_versions v ON v.message_id = m.id
       WHERE m.id = $2 AND m.channel_id = $1 ORDER BY v.version`,
      [channelId, messageId],
    );
    return rows.map((r) => ({
      messageId: r.messageId,
      version: r.version,
      text: r.text,
      editedAt: r.editedAt,
    }));
  }

  async threadFollows(channelId: string, rootId: string): Promise<ThreadFollow[]> {
    const rows = await this.db.query<ThreadFollow>(
      `SELECT root_id AS "rootId", user_id AS "userId", following FROM thread_follows
       WHERE root_id = $2 AND channel_id = $1 ORDER BY user_id`,
      [channelId, rootId],
    );
    return rows.map((r) => ({ rootId: r.rootId, userId: r.userId, following: r.following }));
  }
}
