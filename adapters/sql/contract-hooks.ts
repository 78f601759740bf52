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
  /** Marks a user deactivated (without the audit entry `Accounts.setDeactivated` writes). */
  deactivateUser(userId: string): Promise<void>;
  /** Changes an audit entry's details behind the chain's back (a tamperer with database access). */
  editAuditDetails(id: string, details: Record<string, unknown>): Promise<void>;
  /** Deletes an audit entry behind the chain's back; returns its row, for `restoreAuditRow`. */
  deleteAuditRow(id: string): Promise<Record<string, unknown>>;
  /** Puts a row `deleteAuditRow` returned back as it was (the chain's trigger off for it). */
  restoreAuditRow(row: Record<string, unknown>): Promise<void>;
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
    async editAuditDetails(id, details) {
      await q.query("UPDATE audit_log SET details = $2::text::jsonb WHERE id = $1::text::bigint", [
        id,
        JSON.stringify(details),
      ]);
    },
    async deleteAuditRow(id) {
      const rows = await q.query("DELETE FROM audit_log WHERE id = $1::text::bigint RETURNING *", [id]);
      return rows[0]!;
    },
    async restoreAuditRow(row) {
      // One statement: the trigger is off only while this row goes back in.
      await q.exec(`
        ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain;
        INSERT INTO audit_log SELECT * FROM jsonb_populate_record(NULL::audit_log, '${JSON.stringify(row).replace(/'/g, "''")}'::jsonb);
        ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain;`);
    },
  };
}
