/**
 * The `Accounts` port's queries: an admin deactivates, reactivates or sets the role of a
 * user, each change with its user event (user.updated: the event stream and the people
 * index follow the outbox) and its audit entry in one statement; the admin page's list of
 * users; and what the transport checks a user's tokens against.
 */

import type { AccountState, Accounts, AuditOrigin } from "../../core/ports.js";
import { maxUserSearchWords } from "../../core/search-query.js";
import type { SiteRole, User } from "../../core/types.js";
import { auditAppendFrom } from "./audit-queries.js";
import { escapeLike } from "./directory-queries.js";
import { toUser, userColumns } from "./row-mapping.js";
import type { SqlQuery } from "./sql-driver.js";

/**
 * One statement that changes a user with `set` (SQL over `$2`), writes user.updated when
 * `changed` (SQL over `before` and `saved`) holds, and audits `action` with `details`
 * (SQL over `before` and `saved`). `$1` is the user id, `$3`…`$6` the origin.
 */
function accountChange(set: string, changed: string, action: string, details: string): string {
  return `WITH before AS (SELECT deactivated, role FROM users WHERE id = $1),
   saved AS (UPDATE users SET ${set} WHERE id = $1 RETURNING ${userColumns}),
   event AS (
     INSERT INTO user_events (user_id, type, data, at)
     SELECT saved.id, 'user.updated', jsonb_build_object('user', to_jsonb(saved)), $3
     FROM saved, before WHERE ${changed}),
   audited AS (${auditAppendFrom("saved, before", {
     at: "$3",
     actorId: "$4",
     action: `'${action}'`,
     target: "saved.id",
     details,
     ip: "$5",
     requestId: "$6",
   })})
   SELECT * FROM saved`;
}

/** The `Accounts` port over one SQL connection (or pool). */
export class SqlAccounts implements Accounts {
  constructor(private readonly db: SqlQuery) {}

  async setDeactivated(userId: string, deactivated: boolean, origin: AuditOrigin): Promise<User | null> {
    const sql = accountChange(
      "deactivated = $2",
      "before.deactivated <> saved.deactivated",
      deactivated ? "user.deactivate" : "user.reactivate",
      "jsonb_build_object('username', saved.username, 'changed', before.deactivated <> saved.deactivated)",
    );
    return this.change(sql, userId, deactivated, origin);
  }

  async setRole(userId: string, role: SiteRole, origin: AuditOrigin): Promise<User | null> {
    const sql = accountChange(
      // The count tells the trigger of migration 0008 that this update may change the role.
      "role = $2, role_admin_sets = role_admin_sets + 1",
      "before.role <> saved.role",
      "role.set",
      "jsonb_build_object('username', saved.username, 'role', saved.role, 'previous', before.role)",
    );
    return this.change(sql, userId, role, origin);
  }

  private async change(sql: string, userId: string, value: unknown, o: AuditOrigin): Promise<User | null> {
    const rows = await this.db.query<User>(sql, [userId, value, o.at, o.actorId, o.ip, o.requestId]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async listAccounts(opts: { q?: string; after?: string; limit: number }): Promise<User[]> {
    const words = (opts.q ?? "").split(/\s+/).filter(Boolean).slice(0, maxUserSearchWords);
    // As search.users matches (Directory.searchUsers), deactivated users included.
    const matches = words.map(
      (_, i) =>
        `(lower(username) LIKE lower($${i + 3}) OR lower(display_name) LIKE lower($${i + 3})
          OR lower(display_name) LIKE '% ' || lower($${i + 3}))`,
    );
    const rows = await this.db.query<User>(
      `SELECT ${userColumns} FROM users
       WHERE ($1::text IS NULL OR lower(username) > $1) ${matches.map((m) => `AND ${m}`).join(" ")}
       ORDER BY lower(username) LIMIT $2`,
      [opts.after ?? null, Math.max(1, Math.floor(opts.limit)), ...words.map((w) => `${escapeLike(w)}%`)],
      { prepare: false },
    );
    return rows.map(toUser);
  }

  async accountOf(userId: string): Promise<AccountState | null> {
    const rows = await this.db.query<AccountState>(
      `SELECT deactivated, CASE WHEN role_admin_sets > 0 THEN role END AS "roleFromAdmin" FROM users WHERE id = $1`,
      [userId],
    );
    const r = rows[0];
    return r ? { deactivated: r.deactivated, roleFromAdmin: r.roleFromAdmin ?? null } : null;
  }
}
