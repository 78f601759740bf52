/**
 * The `ChannelLog` port's queries. A commit is one statement (commit-statement.ts); a
 * unique violation aborts the whole statement, and only then does the store look at what
 * collided, to throw the domain error. Then the reads that rebuild and resume an actor:
 * the activation snapshot, the log after a seq, and the stored sends for idempotency.
 */
import {
  type ChannelLog,
  type ChannelRecord,
  type ChannelSnapshot,
  type ChannelWrite,
  DuplicateSendError,
  type MemberRecord,
  type SendKey,
  StoreConflict,
  type StoredMessage,
} from "../../core/ports.js";
import type { ChannelEvent, Scheduled } from "../../core/types.js";
import { type CommitRows, commitStatement, fencesOf, mergeWrites, staleShard } from "./commit-statement.js";
import {
  channelColumns,
  messageColumns,
  nonNegative,
  toChannelRecord,
  toEvent,
  toMessage,
  toScheduled,
} from "./row-mapping.js";
import { type SqlQuery, sqlErrorOf, uniqueViolation } from "./sql-driver.js";

/** Unique constraints whose violation means a log position (or a message version) is taken: a stale writer. */
const seqConstraints = new Set(["channel_events_pkey", "messages_seq_key", "message_versions_pkey"]);

/** Raw row of `loadChannel`'s single query. */
interface SnapshotRow extends ChannelRecord {
  members: MemberRecord[];
  events: ChannelEvent[];
  keys: Array<SendKey & { messageId: string }>;
  schedules: Scheduled[];
}

/** The `ChannelLog` port over one SQL connection (or pool). */
export class SqlChannelLog implements ChannelLog {
  constructor(private readonly db: SqlQuery) {}

  async commit(writes: ChannelWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const rows = mergeWrites(writes, Date.now());
    const { text, params } = commitStatement(rows, fencesOf(writes));
    try {
      await this.db.query(text, params);
    } catch (err) {
      const info = sqlErrorOf(err);
      if (info?.code === staleShard) {
        const shard = Number(info.detail);
        throw new StoreConflict(
          "staleOwner",
          writes.filter((w) => w.fence?.shard === shard).map((w) => w.channel.id),
        );
      }
      if (info?.code === uniqueViolation) {
        if (info.constraint !== undefined && seqConstraints.has(info.constraint)) {
          throw new StoreConflict("seqTaken", await this.takenSeqChannels(rows, writes));
        }
        if (info.constraint === "messages_send_key") {
          const keys = await this.storedSendKeys(rows.newMessages as StoredMessage[]);
          if (keys.length > 0) throw new DuplicateSendError(keys);
        }
        if (info.constraint === "scheduled_messages_send_key") {
          const keys = await this.storedScheduleKeys(rows.schedules as Scheduled[]);
          if (keys.length > 0) throw new DuplicateSendError(keys);
        }
      }
      throw err;
    }
  }

  /** After a seq collision (the statement rolled back): the channels whose log positions are taken. */
  private async takenSeqChannels(rows: CommitRows, writes: ChannelWrite[]): Promise<string[]> {
    const eventKeys = (rows.events as ChannelEvent[]).map((e) => ({ channelId: e.channelId, seq: e.seq }));
    const messageKeys = (rows.newMessages as StoredMessage[]).map((m) => ({
      channelId: m.channelId,
      seq: m.seq,
    }));
    const found = await this.db.query<{ channelId: string }>(
      `SELECT e.channel_id AS "channelId" FROM channel_events e
         JOIN jsonb_to_recordset($1::text::jsonb) AS k("channelId" text, seq bigint)
           ON e.channel_id = k."channelId" AND e.seq = k.seq
       UNION
       SELECT m.channel_id FROM messages m
         JOIN jsonb_to_recordset($2::text::jsonb) AS k("channelId" text, seq bigint)
           ON m.channel_id = k."channelId" AND m.seq = k.seq
       UNION
       SELECT k."channelId" FROM message_versions v
         JOIN jsonb_to_recordset($3::text::jsonb) AS k("channelId" text, "messageId" text, version integer)
           ON v.message_id = k."messageId" AND v.version = k.version`,
      [JSON.stringify(eventKeys), JSON.stringify(messageKeys), JSON.stringify(rows.versions)],
    );
    const ids = found.map((r) => r.channelId).sort();
    // The collision was certain; if the rows are not visible now, blame every channel.
    return ids.length > 0 ? ids : [...new Set(writes.map((w) => w.channel.id))];
  }

  /** After a send-key collision (the statement rolled back): the keys already stored. */
  private async storedSendKeys(
    newMessages: StoredMessage[],
  ): Promise<Array<SendKey & { channelId: string }>> {
    const keys = newMessages.map((m) => ({
      channelId: m.channelId,
      authorId: m.authorId,
      clientMsgId: m.clientMsgId,
    }));
    return this.db.query<SendKey & { channelId: string }>(
      `SELECT m.channel_id AS "channelId", m.author_id AS "authorId", m.client_msg_id AS "clientMsgId"
       FROM messages m
       JOIN jsonb_to_recordset($1::text::jsonb) AS k("channelId" text, "authorId" text, "clientMsgId" text)
         ON m.channel_id = k."channelId" AND m.author_id = k."authorId" AND m.client_msg_id = k."clientMsgId"`,
      [JSON.stringify(keys)],
    );
  }

  /** After a schedule-key collision: the keys stored by another scheduled message. */
  private async storedScheduleKeys(schedules: Scheduled[]): Promise<Array<SendKey & { channelId: string }>> {
    const keys = schedules.map((s) => ({
      id: s.id,
      channelId: s.channelId,
      authorId: s.authorId,
      clientMsgId: s.clientMsgId,
    }));
    return this.db.query<SendKey & { channelId: string }>(
      `SELECT s.channel_id AS "channelId", s.author_id AS "authorId", s.client_msg_id AS "clientMsgId"
       FROM scheduled_messages s
       JOIN jsonb_to_recordset($1::text::jsonb) AS k(id text, "channelId" text, "authorId" text, "clientMsgId" text)
         ON s.channel_id = k."channelId" AND s.author_id = k."authorId" AND s.client_msg_id = k."clientMsgId"
           AND s.id <> k.id AND s.status = 'pending'`,
      [JSON.stringify(keys)],
    );
  }
  async loadChannel(
    channelId: string,
    opts: { recentEvents: number; recentKeys: number },
  ): Promise<ChannelSnapshot | null> {
    // One statement, so the channel row, its members, its log and its schedules come
    // from one snapshot.
    const rows = await this.db.query<SnapshotRow>(
      `SELECT ${channelColumns},
         (SELECT coalesce(jsonb_agg(jsonb_build_object('userId', x.user_id, 'role', x.role,
                   'joinedAt', x.joined_at, 'lastReadSeq', x.last_read_seq) ORDER BY x.joined_at, x.user_id),
                 '[]'::jsonb)
            FROM channel_members x WHERE x.channel_id = c.id) AS members,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('channelId', e.channel_id, 'seq', e.seq, 'type', e.type,
                   'data', e.data, 'at', e.created_at) ORDER BY e.seq), '[]'::jsonb)
            FROM (SELECT * FROM channel_events WHERE channel_id = c.id ORDER BY seq DESC LIMIT $2) e) AS events,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('authorId', k.author_id, 'clientMsgId', k.client_msg_id,
                   'messageId', k.id) ORDER BY k.seq), '[]'::jsonb)
            FROM (SELECT id, author_id, client_msg_id, seq FROM messages WHERE channel_id = c.id
                  ORDER BY seq DESC LIMIT $3) k) AS keys,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'channelId', s.channel_id,
                   'authorId', s.author_id, 'text', s.text, 'clientMsgId', s.client_msg_id,
                   'threadRootId', s.thread_root_id, 'sendAt', s.send_at, 'status', s.status,
                   'messageId', s.message_id) ORDER BY s.send_at, s.id), '[]'::jsonb)
            FROM scheduled_messages s WHERE s.channel_id = c.id AND s.status = 'pending') AS schedules
       FROM channels c WHERE c.id = $1`,
      [channelId, nonNegative(opts.recentEvents), nonNegative(opts.recentKeys)],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      channel: toChannelRecord(row),
      members: row.members,
      recentEvents: row.events,
      recentKeys: row.keys,
      pendingSchedules: row.schedules.map(toScheduled),
    };
  }

  async readEvents(channelId: string, afterSeq: number, limit: number): Promise<ChannelEvent[]> {
    if (limit <= 0) return [];
    const rows = await this.db.query<ChannelEvent>(
      `SELECT channel_id AS "channelId", seq, type, data, created_at AS at FROM channel_events
       WHERE channel_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [channelId, afterSeq, Math.floor(limit)],
    );
    return rows.map(toEvent);
  }

  async findSends(channelId: string, keys: SendKey[]): Promise<StoredMessage[]> {
    if (keys.length === 0) return [];
    const rows = await this.db.query<StoredMessage>(
      `SELECT ${messageColumns} FROM messages m
       JOIN jsonb_to_recordset($2::text::jsonb) AS k("authorId" text, "clientMsgId" text)
         ON m.author_id = k."authorId" AND m.client_msg_id = k."clientMsgId"
       WHERE m.channel_id = $1 ORDER BY m.seq`,
      [channelId, JSON.stringify(keys.map((k) => ({ authorId: k.authorId, clientMsgId: k.clientMsgId })))],
    );
    return rows.map(toMessage);
  }
}
