/** The `UserEventLog` port's query: the user-event outbox, read by id. */
import type { UserEventLog } from "../../core/ports.js";
import type { UserEvent } from "../../core/types.js";
import type { SqlQuery } from "./sql-driver.js";

/** The `UserEventLog` port over one SQL connection (or pool). */
export class SqlUserEventLog implements UserEventLog {
  constructor(private readonly db: SqlQuery) {}

  async readUserEvents(afterId: number, limit: number): Promise<UserEvent[]> {
    const rows = await this.db.query<UserEvent>(
      `SELECT id::float8 AS id, user_id AS "userId", type, data, at::float8 AS at
       FROM user_events WHERE id > $1 ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id), at: Number(r.at) }));
  }
}
