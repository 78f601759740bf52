/** The `LogFeed` port's queries: each follower's position in each channel's log. */
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

  async markFed(follower: string, channelId: string, seq: number): Promise<void> {
    await this.db.query(
      `INSERT INTO log_feed_positions (follower, channel_id, seq) VALUES ($1, $2, $3)
       ON CONFLICT (follower, channel_id) DO UPDATE SET seq = GREATEST(log_feed_positions.seq, excluded.seq)`,
      [follower, channelId, seq],
    );
  }

  async forgetFollower(follower: string): Promise<void> {
    await this.db.query("DELETE FROM log_feed_positions WHERE follower = $1", [follower]);
  }
}
