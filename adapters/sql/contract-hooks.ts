/**
 * What the Store contract suite needs beyond the port, for the SQL adapters: state the
 * port neither sets nor shows, read and written with plain SQL on the store's database.
 */
import type { ReactionRow } from "../../core/ports.js";
import type { SqlQuery } from "./sql-driver.js";

/** The contract suite's hooks over one SQL database (the same connection the store uses). */
export interface SqlContractHooks {
  /** One message's rows in the reactions table, by user then emoji. */
  reactionRows(messageId: string): Promise<ReactionRow[]>;
  /** Marks a user deactivated (an admin action with no port method yet). */
  deactivateUser(userId: string): Promise<void>;
}

/** The hooks over `q`. */
export function sqlContractHooks(q: SqlQuery): SqlContractHooks {
  return {
    async reactionRows(messageId) {
      const rows = await q.query<ReactionRow>(
        `SELECT message_id AS "messageId", user_id AS "userId", emoji, created_at AS at FROM reactions
         WHERE message_id = $1 ORDER BY user_id, emoji`,
        [messageId],
      );
      return rows.map((r) => ({ messageId: r.messageId, userId: r.userId, emoji: r.emoji, at: r.at }));
    },
    async deactivateUser(userId) {
      await q.query("UPDATE users SET deactivated = true WHERE id = $1", [userId]);
    },
  };
}
