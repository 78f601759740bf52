/**
 * The `FlagStore` port's queries: one channel's flags for its actor, and the moderators'
 * queue across channels with each flagged message as moderators see it (the original kept
 * in `removed_messages` when a moderator removed it) and its channel's name and kind. Flags are written by the channel's
 * commit (commit-statement.ts, parts `flags` and `removals`).
 */
import { moderatorViewOf } from "../../core/moderation-rules.js";
import type { FlagStore, StoredMessage } from "../../core/ports.js";
import type { ChannelKind, Flag } from "../../core/types.js";
import { messageColumns, nonNegative, toMessage } from "./row-mapping.js";
import type { SqlQuery } from "./sql-driver.js";

/** The columns of a `Flag` (without its message), from `message_flags f`. */
const flagColumns = `f.id, f.channel_id AS "channelId", f.message_id AS "messageId", f.reporter_id AS "reporterId",
  f.reason, f.created_at AS "createdAt", f.status, f.resolution, f.resolved_by AS "resolvedBy",
  f.resolved_at AS "resolvedAt", f.note`;

/** A flag row as it comes back: the optional fields are NULL when unset. */
interface FlagRow {
  id: string;
  channelId: string;
  messageId: string;
  reporterId: string;
  reason: string;
  createdAt: number;
  status: Flag["status"];
  resolution: Flag["resolution"] | null;
  resolvedBy: string | null;
  resolvedAt: number | null;
  note: string | null;
}

/** A flag row as a `Flag`: the unset optional fields left out. */
function toFlag(r: FlagRow): Flag {
  return {
    id: r.id,
    messageId: r.messageId,
    channelId: r.channelId,
    reporterId: r.reporterId,
    reason: r.reason,
    createdAt: Number(r.createdAt),
    status: r.status,
    ...(r.resolution === null ? {} : { resolution: r.resolution }),
    ...(r.resolvedBy === null ? {} : { resolvedBy: r.resolvedBy }),
    ...(r.resolvedAt === null ? {} : { resolvedAt: Number(r.resolvedAt) }),
    ...(r.note === null ? {} : { note: r.note }),
  };
}

/** The `FlagStore` port over one SQL connection (or pool). */
export class SqlFlagStore implements FlagStore {
  constructor(private readonly db: SqlQuery) {}

  async getFlag(channelId: string, flagId: string): Promise<Flag | null> {
    const rows = await this.db.query<FlagRow>(
      `SELECT ${flagColumns} FROM message_flags f WHERE f.id = $1 AND f.channel_id = $2`,
      [flagId, channelId],
    );
    return rows[0] ? toFlag(rows[0]) : null;
  }

  async openFlagsOf(channelId: string, messageId: string): Promise<Flag[]> {
    const rows = await this.db.query<FlagRow>(
      `SELECT ${flagColumns} FROM message_flags f
       WHERE f.message_id = $1 AND f.status = 'open' AND f.channel_id = $2
       ORDER BY f.id COLLATE "C"`,
      [messageId, channelId],
    );
    return rows.map(toFlag);
  }

  async listFlags(opts: { status?: "open" | "resolved"; before?: string; limit: number }): Promise<Flag[]> {
    const limit = nonNegative(opts.limit);
    if (limit === 0) return [];
    // Ids compare byte by byte ("C"): they are time-ordered in that order, whatever the
    // database's collation.
    const rows = await this.db.query<
      FlagRow & {
        message: StoredMessage | null;
        original: StoredMessage | null;
        channelName: string | null;
        channelKind: ChannelKind | null;
      }
    >(
      `SELECT ${flagColumns}, c.name AS "channelName", c.kind AS "channelKind",
         (SELECT to_jsonb(x) FROM (SELECT ${messageColumns} FROM messages m
            WHERE m.id = f.message_id AND m.channel_id = f.channel_id) x) AS message,
         (SELECT r.original FROM removed_messages r
            WHERE r.message_id = f.message_id AND r.channel_id = f.channel_id) AS original
       FROM message_flags f LEFT JOIN channels c ON c.id = f.channel_id
       WHERE ($1::text IS NULL OR f.status = $1) AND ($2::text IS NULL OR f.id COLLATE "C" < $2::text COLLATE "C")
       ORDER BY f.id COLLATE "C" DESC LIMIT $3`,
      [opts.status ?? null, opts.before ?? null, limit],
    );
    return rows.map((r) => {
      const flag: Flag = toFlag(r);
      if (r.channelName !== null && r.channelKind !== null)
        flag.channel = { name: r.channelName, kind: r.channelKind };
      if (r.message === null) return flag;
      const original = r.original === null ? null : toMessage(r.original);
      return { ...flag, message: moderatorViewOf(toMessage(r.message), original) };
    });
  }
}
