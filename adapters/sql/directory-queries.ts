/**
 * The `Directory` port's queries: users (created from token claims, looked up, searched
 * by the starts of their names) and the listings that span channels.
 */
import { fail } from "../../core/errors.js";
import type { ChannelListing, Directory } from "../../core/ports.js";
import { maxUserSearchWords } from "../../core/search-query.js";
import type { SiteRole, User } from "../../core/types.js";
import { channelColumns, toChannelRecord, toUser, userColumns } from "./row-mapping.js";
import { type SqlQuery, sqlErrorOf, uniqueViolation } from "./sql-driver.js";

/** The unique index on `lower(username)` (migration 0007). */
const usernameIndex = "users_username_lower_key";

/** Tries of a sign-in whose username is taken: each picks another free name. */
const maxUsernameAttempts = 10;

/** The `Directory` port over one SQL connection (or pool). */
export class SqlDirectory implements Directory {
  constructor(private readonly db: SqlQuery) {}

  async upsertUser(user: {
    id: string;
    username: string;
    displayName: string;
    role: SiteRole;
  }): Promise<User> {
    let username = user.username;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.saveUser({ ...user, username });
      } catch (err) {
        const info = sqlErrorOf(err);
        if (info?.code !== uniqueViolation || info.constraint !== usernameIndex) throw err;
        // Another user holds the name in some case. Only a race for the same new name
        // (another sign-in took it between our read and our write) makes this repeat.
        if (attempt === maxUsernameAttempts) throw fail.conflict(`username ${user.username} is taken`);
        username = await this.usernameInstead(user);
      }
    }
  }

  /**
   * Creates the user or refreshes username and role, with its user event, in one statement.
   * The display name is the user's to change after creation (updateProfile). A new user,
   * or a new username or role, is a user event; a sign-in that changes nothing is not.
   */
  private async saveUser(user: { id: string; username: string; displayName: string; role: SiteRole }) {
    // The CTEs all see the table as it was before the statement.
    const rows = await this.db.query<User>(
      `WITH before AS (SELECT username, role FROM users WHERE id = $1),
       saved AS (
         INSERT INTO users (id, username, display_name, role, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username, role = excluded.role
         RETURNING ${userColumns}),
       event AS (
         INSERT INTO user_events (user_id, type, data, at)
         SELECT saved.id, CASE WHEN before.username IS NULL THEN 'user.created' ELSE 'user.updated' END,
                jsonb_build_object('user', to_jsonb(saved)), $5
         FROM saved LEFT JOIN before ON true
         WHERE before.username IS NULL OR before.username <> saved.username OR before.role <> saved.role)
       SELECT * FROM saved`,
      [user.id, user.username, user.displayName, user.role, Date.now()],
    );
    return toUser(rows[0]!);
  }

  /**
   * The username a user gets when the one their token names is another user's (in any
   * case): the one they have already, or, for a new user, the first free `<name>-2`,
   * `<name>-3`, … (as Slack and Mattermost do when provisioning). Compared by the
   * database's `lower`, as the unique index compares.
   */
  private async usernameInstead(user: { id: string; username: string }): Promise<string> {
    const rows = await this.db.query<{ username: string }>(
      // With k names of the form <name>-…, one of <name>-2 … <name>-(k+2) is free.
      `SELECT coalesce(
         (SELECT username FROM users WHERE id = $1),
         (SELECT $2::text || '-' || min(n)
          FROM generate_series(2, 2 + (SELECT count(*) FROM users
                                       WHERE starts_with(lower(username), lower($2::text || '-')))) AS n
          WHERE NOT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($2::text || '-' || n)))) AS username`,
      [user.id, user.username],
    );
    return rows[0]!.username;
  }

  async getUser(userId: string): Promise<User | null> {
    const rows = await this.db.query<User>(`SELECT ${userColumns} FROM users WHERE id = $1`, [userId]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async listUsers(afterId: string, limit: number): Promise<User[]> {
    const rows = await this.db.query<User>(
      `SELECT ${userColumns} FROM users WHERE id > $1 ORDER BY id LIMIT $2`,
      [afterId, Math.floor(limit)],
    );
    return rows.map(toUser);
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
    patch: { displayName?: string; title?: string; timeZone?: string; avatarFileId?: string | null },
  ): Promise<User | null> {
    const rows = await this.db.query<User>(
      `WITH saved AS (
         UPDATE users SET display_name = coalesce($2, display_name), title = coalesce($3, title),
           time_zone = coalesce($4, time_zone),
           avatar_file_id = CASE WHEN $6::boolean THEN $7::text ELSE avatar_file_id END
         WHERE id = $1 RETURNING ${userColumns}),
       event AS (
         INSERT INTO user_events (user_id, type, data, at)
         SELECT saved.id, 'user.updated', jsonb_build_object('user', to_jsonb(saved)), $5 FROM saved)
       SELECT * FROM saved`,
      [
        userId,
        patch.displayName ?? null,
        patch.title ?? null,
        patch.timeZone ?? null,
        Date.now(),
        patch.avatarFileId !== undefined,
        patch.avatarFileId ?? null,
      ],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  async searchUsers(query: string, limit: number): Promise<User[]> {
    const words = query.split(/\s+/).filter(Boolean).slice(0, maxUserSearchWords);
    if (limit <= 0 || words.length === 0) return [];
    // Every word starts the username or a word of the display name: "ann carl" finds
    // "Anna Carlsen". lower() on the SQL side, so the pattern and the indexed expression
    // fold case alike. Not prepared: only a plan that sees the prefix can use index ranges.
    const matches = words.map(
      (_, i) =>
        `(lower(username) LIKE lower($${i + 3}) OR lower(display_name) LIKE lower($${i + 3})
          OR lower(display_name) LIKE '% ' || lower($${i + 3}))`,
    );
    const rows = await this.db.query<User>(
      `SELECT ${userColumns} FROM users
       WHERE NOT deactivated AND ${matches.join(" AND ")}
       ORDER BY lower(username) = lower($1) DESC, username, id LIMIT $2`,
      [query.trim(), Math.floor(limit), ...words.map((w) => `${escapeLike(w)}%`)],
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
