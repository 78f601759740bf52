/**
 * The `LogFeed` port's queries: each follower's position in each channel's log (and in the
 * user-event outbox, under its own key).
 */
import type { LogFeed } from "../../core/ports.js";
import type { SqlQuery } from "./sql-driver.js";

/** The `LogFeed` port over one SQL connection (or pool). */
export class SqlLogFeed implements LogFeed {
  constructor(private readonly db: SqlQuery) {}

  async feedBacklog(
    follower: string,
    limit: number,
  ): Promise<Array<{ channelId: string; handledSeq: number; lastSeq: number }>> {
    const rows = await this.db.query<{ channel_id: string; handled_seq: number; last_seq: number }>(
      `SELECT c.id AS channel_id, COALESCE(p.seq, 0)::float8 AS handled_seq, c.last_seq::float8 AS last_seq
       FROM channels c LEFT JOIN log_feed_positions p ON p.follower = $1 AND p.channel_id = c.id
       WHERE c.last_seq > COALESCE(p.seq, 0)
       LIMIT $2`,
      [follower, limit],
    );
    return rows.map((r) => ({
      channelId: r.channel_id,
      handledSeq: Number(r.handled_seq),
      lastSeq: Number(r.last_seq),
    }));
  }

  async markFed(
    follower: string,
    positions: ReadonlyArray<{ channelId: string; seq: number }>,
  ): Promise<void> {
    if (positions.length === 0) return;
    await this.db.query(
      `INSERT INTO log_feed_positions (follower, channel_id, seq)
       SELECT $1, p."channelId", p.seq FROM jsonb_to_recordset($2::text::jsonb) AS p("channelId" text, seq bigint)
       ON CONFLICT (follower, channel_id) DO UPDATE SET seq = GREATEST(log_feed_positions.seq, excluded.seq)`,
      [follower, JSON.stringify(positions)],
    );
  }

  async fedPosition(follower: string, key: string): Promise<number> {
    const rows = await this.db.query<{ seq: number }>(
      "SELECT seq::float8 AS seq FROM log_feed_positions WHERE follower = $1 AND channel_id = $2",
      [follower, key],
    );
    return Number(rows[0]?.seq ?? 0);
  }

  async forgetFollower(follower: string): Promise<void> {
    await this.db.query("DELETE FROM log_feed_positions WHERE follower = $1", [follower]);
  }
}
