/** The `ScheduleQueue` port's query: the pending scheduled messages that fell due, across channels. */
import type { ScheduleQueue } from "../../core/ports.js";
import type { Scheduled } from "../../core/types.js";
import { scheduleColumns, seqArg, toScheduled } from "./row-mapping.js";
import type { SqlQuery } from "./sql-driver.js";

/** The `ScheduleQueue` port over one SQL connection (or pool). */
export class SqlScheduleQueue implements ScheduleQueue {
  constructor(private readonly db: SqlQuery) {}

  async dueSchedules(now: number, limit: number): Promise<Scheduled[]> {
    if (limit <= 0) return [];
    const rows = await this.db.query<Scheduled>(
      `SELECT ${scheduleColumns} FROM scheduled_messages s
       WHERE s.status = 'pending' AND s.send_at <= $1 ORDER BY s.send_at, s.id LIMIT $2`,
      [seqArg(now), Math.floor(limit)],
    );
    return rows.map(toScheduled);
  }
}
