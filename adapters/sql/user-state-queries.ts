/**
 * The `UserState` port's queries: settings, read markers of channels and threads, the
 * unread summary, and who shares a channel with a user (presence's audience).
 */
import type { UserState } from "../../core/ports.js";
import type { Unread, UserSettings } from "../../core/types.js";
import { nonNegative, seqArg } from "./row-mapping.js";
import type { SqlQuery } from "./sql-driver.js";

/** The settings of a user who never saved any. */
const defaultSettings: UserSettings = { theme: "system", language: "en", notify: {} };

/** The `UserState` port over one SQL connection (or pool). */
export class SqlUserState implements UserState {
  constructor(private readonly db: SqlQuery) {}

  async getSettings(userId: string): Promise<UserSettings> {
    const rows = await this.db.query<{ settings: Partial<UserSettings> | null }>(
      "SELECT settings FROM user_settings WHERE user_id = $1",
      [userId],
    );
    const stored = rows[0]?.settings ?? {};
    // Keys a newer version stored pass through; the known ones fall back to defaults.
    return {
      ...stored,
      theme: stored.theme ?? defaultSettings.theme,
      language: stored.language ?? defaultSettings.language,
      notify: { ...defaultSettings.notify, ...(stored.notify ?? {}) },
    };
  }

  async saveSettings(userId: string, settings: UserSettings): Promise<void> {
    // The settings.updated user event is written by the same statement.
    await this.db.query(
      `WITH saved AS (
         INSERT INTO user_settings (user_id, settings, updated_at) VALUES ($1, $2::text::jsonb, $3)
         ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at
         RETURNING user_id, settings)
       INSERT INTO user_events (user_id, type, data, at)
       SELECT user_id, 'settings.updated', jsonb_build_object('settings', settings), $3 FROM saved`,
      [userId, JSON.stringify(settings), Date.now()],
    );
  }

  async markRead(userId: string, channelId: string, seq: number): Promise<number | null> {
    const rows = await this.db.query<{ lastReadSeq: number }>(
      `UPDATE channel_members AS m SET last_read_seq = GREATEST(m.last_read_seq, LEAST($3::bigint, c.last_seq))
       FROM channels c
       WHERE m.channel_id = $2 AND m.user_id = $1 AND c.id = m.channel_id
       RETURNING m.last_read_seq AS "lastReadSeq"`,
      [userId, channelId, seqArg(seq)],
    );
    return rows[0]?.lastReadSeq ?? null;
  }

  async markThreadRead(
    userId: string,
    channelId: string,
    rootId: string,
    seq: number,
  ): Promise<number | null> {
    // A marker stored under another channel (a root id of a different channel) is left alone.
    const rows = await this.db.query<{ lastReadSeq: number }>(
      `INSERT INTO thread_reads (user_id, root_id, channel_id, last_read_seq)
       SELECT m.user_id, $3, m.channel_id, GREATEST(0, LEAST($4::bigint, c.last_seq))
       FROM channel_members m JOIN channels c ON c.id = m.channel_id
       WHERE m.channel_id = $2 AND m.user_id = $1
       ON CONFLICT (user_id, root_id) DO UPDATE
         SET last_read_seq = GREATEST(thread_reads.last_read_seq, excluded.last_read_seq)
         WHERE thread_reads.channel_id = excluded.channel_id
       RETURNING last_read_seq AS "lastReadSeq"`,
      [userId, channelId, rootId, seqArg(seq)],
    );
    return rows[0]?.lastReadSeq ?? null;
  }

  async unreadSummary(userId: string): Promise<Unread[]> {
    // The followed threads are the explicit follows plus the roots the user takes part
    // in (GIN index on thread_participants) unless explicitly unfollowed. Unread counts
    // scan only the messages after each marker.
    const rows = await this.db.query<Unread>(
      `WITH mine AS (
         SELECT channel_id, last_read_seq FROM channel_members WHERE user_id = $1
       ),
       explicit AS (
         SELECT f.root_id, f.channel_id, f.following FROM thread_follows f
         JOIN mine ON mine.channel_id = f.channel_id
         WHERE f.user_id = $1
       ),
       followed AS (
         SELECT root_id, channel_id FROM explicit WHERE following
         UNION
         SELECT r.id, r.channel_id FROM messages r JOIN mine ON mine.channel_id = r.channel_id
         WHERE r.thread_participants <> '[]'::jsonb AND r.thread_participants @> jsonb_build_array($1::text)
           AND NOT EXISTS (SELECT 1 FROM explicit e WHERE e.root_id = r.id AND NOT e.following)
       ),
       unread AS (
         SELECT m.channel_id, count(*) AS unread,
           count(*) FILTER (WHERE m.broadcast IS NOT NULL OR m.mentions @> jsonb_build_array($1::text)) AS mentions
         FROM mine JOIN messages m ON m.channel_id = mine.channel_id AND m.seq > mine.last_read_seq
         WHERE m.author_id <> $1 AND m.deleted_at IS NULL
           AND (m.thread_root_id IS NULL
             OR EXISTS (SELECT 1 FROM followed f WHERE f.root_id = m.thread_root_id AND f.channel_id = m.channel_id))
         GROUP BY m.channel_id
       ),
       threads AS (
         SELECT f.channel_id, count(*) AS threads
         FROM followed f
         LEFT JOIN thread_reads tr ON tr.user_id = $1 AND tr.root_id = f.root_id AND tr.channel_id = f.channel_id
         JOIN messages m ON m.channel_id = f.channel_id AND m.thread_root_id = f.root_id
           AND m.seq > coalesce(tr.last_read_seq, 0)
         WHERE m.author_id <> $1 AND m.deleted_at IS NULL
         GROUP BY f.channel_id
       )
       SELECT mine.channel_id AS "channelId", mine.last_read_seq AS "lastReadSeq",
         coalesce(u.unread, 0) AS unread, coalesce(u.mentions, 0) AS mentions, coalesce(t.threads, 0) AS threads
       FROM mine
       LEFT JOIN unread u ON u.channel_id = mine.channel_id
       LEFT JOIN threads t ON t.channel_id = mine.channel_id
       ORDER BY mine.channel_id`,
      [userId],
    );
    return rows.map((r) => ({
      channelId: r.channelId,
      lastReadSeq: Number(r.lastReadSeq),
      unread: Number(r.unread),
      mentions: Number(r.mentions),
      threads: Number(r.threads),
    }));
  }

  async presenceAudience(
    userId: string,
    maxChannelMembers: number,
  ): Promise<{ users: string[]; largeChannels: string[] }> {
    // Member counts stop at max + 1: a huge channel is known to be large without counting it.
    const rows = await this.db.query<{ users: string[]; largeChannels: string[] }>(
      `WITH mine AS (
         SELECT m.channel_id, c.kind IN ('dm', 'group_dm') AS direct,
           (SELECT count(*) FROM (SELECT 1 FROM channel_members x WHERE x.channel_id = m.channel_id
                                  LIMIT $2::bigint + 1) q) AS n
         FROM channel_members m JOIN channels c ON c.id = m.channel_id
         WHERE m.user_id = $1
       )
       SELECT
         (SELECT coalesce(jsonb_agg(u.user_id ORDER BY u.user_id), '[]'::jsonb) FROM (
            SELECT DISTINCT x.user_id FROM mine JOIN channel_members x ON x.channel_id = mine.channel_id
            WHERE (mine.direct OR mine.n <= $2) AND x.user_id <> $1) u) AS users,
         (SELECT coalesce(jsonb_agg(mine.channel_id ORDER BY mine.channel_id), '[]'::jsonb) FROM mine
          WHERE NOT mine.direct AND mine.n > $2) AS "largeChannels"`,
      [userId, nonNegative(maxChannelMembers)],
    );
    const row = rows[0];
    return { users: row?.users ?? [], largeChannels: row?.largeChannels ?? [] };
  }

  async sharingWith(userId: string, others: string[]): Promise<string[]> {
    if (others.length === 0) return [];
    const rows = await this.db.query<{ id: string }>(
      `SELECT o.id FROM (SELECT DISTINCT x AS id FROM jsonb_array_elements_text($2::text::jsonb) AS t(x)) o
       WHERE o.id = $1 OR EXISTS (
         SELECT 1 FROM channel_members theirs
         JOIN channel_members mine ON mine.channel_id = theirs.channel_id AND mine.user_id = $1
         WHERE theirs.user_id = o.id)`,
      [userId, JSON.stringify(others)],
    );
    // In the order asked, once each.
    const sharing = new Set(rows.map((r) => r.id));
    return [...new Set(others)].filter((id) => sharing.has(id));
  }
}
