/**
 * The `Directory` port's queries: users (created from token claims, looked up, searched
 * by prefix) and the listings that span channels.
 */
import { fail } from "../../core/errors.js";
import type { ChannelListing, Directory } from "../../core/ports.js";
import type { SiteRole, User } from "../../core/types.js";
import { channelColumns, toChannelRecord, toUser, userColumns } from "./row-mapping.js";
import { type SqlQuery, sqlErrorOf, uniqueViolation } from "./sql-driver.js";

/** The `Directory` port over one SQL connection (or pool). */
export class SqlDirectory implements Directory {
  constructor(private readonly db: SqlQuery) {}

  async upsertUser(user: {
    id: string;
    username: string;
    displayName: string;
    role: SiteRole;
  }): Promise<User> {
    try {
      // The display name is the user's to change after creation (updateProfile).
      const rows = await this.db.query<User>(
        `INSERT INTO users (id, username, display_name, role, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username, role = excluded.role
         RETURNING ${userColumns}`,
        [user.id, user.username, user.displayName, user.role, Date.now()],
      );
      return toUser(rows[0]!);
    } catch (err) {
      const info = sqlErrorOf(err);
      if (info?.code === uniqueViolation && info.constraint === "users_username_key") {
        throw fail.conflict(`username ${user.username} is taken`);
      }
      throw err;
    }
  }

  async getUser(userId: string): Promise<User | null> {
    const rows = await this.db.query<User>(`SELECT ${userColumns} FROM users WHERE id = $1`, [userId]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async getUsersByUsername(usernames: string[]): Promise<User[]> {
    if (usernames.length === 0) return [];
    // ARRAY(...) is computed once, so `= ANY` can use the lower(username) index.
    const rows = await this.db.query<User>(
      `SELECT ${userColumns} FROM users
       WHERE lower(username) = ANY (ARRAY(SELECT lower(x) FROM jsonb_array_elements_text($1::text::jsonb) AS t(x)))
       ORDER BY username, id`,
      [JSON.stringify(usernames)],
    );
    return rows.map(toUser);
  }

  async updateProfile(
    userId: string,
    patch: { displayName?: string; title?: string; timeZone?: string },
  ): Promise<User | null> {
    const rows = await this.db.query<User>(
      `UPDATE users SET display_name = coalesce($2, display_name), title = coalesce($3, title),
         time_zone = coalesce($4, time_zone)
       WHERE id = $1 RETURNING ${userColumns}`,
      [userId, patch.displayName ?? null, patch.title ?? null, patch.timeZone ?? null],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  async searchUsers(prefix: string, limit: number): Promise<User[]> {
    if (limit <= 0) return [];
    // lower() on the SQL side, so the pattern and the indexed expression fold case alike.
    // Not prepared: only a plan that sees the prefix can turn LIKE into index ranges.
    const pattern = `${escapeLike(prefix)}%`;
    // A display name also matches by any of its words: "carl" finds "Anna Carlsen".
    const rows = await this.db.query<User>(
      `SELECT ${userColumns} FROM users
       WHERE NOT deactivated AND (lower(username) LIKE lower($1) OR lower(display_name) LIKE lower($1)
                                  OR lower(display_name) LIKE '% ' || lower($1))
       ORDER BY username, id LIMIT $2`,
      [pattern, Math.floor(limit)],
      { prepare: false },
    );
    return rows.map(toUser);
  }

  async locateMessage(messageId: string): Promise<string | null> {
    const rows = await this.db.query<{ channelId: string }>(
      `SELECT channel_id AS "channelId" FROM messages WHERE id = $1`,
      [messageId],
    );
    return rows[0]?.channelId ?? null;
  }

  async listChannels(
    userId: string,
    opts: { includePublic: boolean; includeArchived: boolean },
  ): Promise<ChannelListing[]> {
    // Two indexed halves (the user's memberships, the public channels) rather than one
    // OR that would scan every channel.
    const rows = await this.db.query<ChannelListing>(
      `WITH mine AS (SELECT channel_id, role FROM channel_members WHERE user_id = $1),
       listed AS (
         SELECT c.*, mine.role AS my_role FROM mine JOIN channels c ON c.id = mine.channel_id
         UNION ALL
         SELECT c.*, NULL AS my_role FROM channels c
         WHERE $2::boolean AND c.kind = 'public' AND NOT EXISTS (SELECT 1 FROM mine WHERE mine.channel_id = c.id)
       )
       SELECT ${channelColumns},
         (SELECT count(*) FROM channel_members x WHERE x.channel_id = c.id) AS "memberCount",
         c.my_role AS "myRole"
       FROM listed c
       WHERE $3::boolean OR NOT c.archived
       ORDER BY c.name, c.id`,
      [userId, opts.includePublic, opts.includeArchived],
    );
    return rows.map((r) => ({ ...toChannelRecord(r), memberCount: r.memberCount, myRole: r.myRole ?? null }));
  }
}

/**
 * Escapes LIKE's wildcards (`%`, `_`) and its escape character (`\`) so that `text`
 * matches only itself.
 */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
