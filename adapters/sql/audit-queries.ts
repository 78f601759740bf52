/**
 * The `AuditLog` port's queries, and the append that any statement of the store uses to
 * audit a change in the same transaction. The chain itself is kept by the database: a
 * BEFORE INSERT trigger on audit_log (migration 0008) locks the chain's head, takes the
 * entry's id under that lock and fills `prev_hash` and `hash`, so every insert is chained
 * and concurrent writers are serialised instead of forking the chain.
 */
import type { AuditFilter, AuditLog, AuditRecord } from "../../core/ports.js";
import { type AuditEntry, type AuditVerdict, auditGenesisHash } from "../../core/types.js";
import type { SqlQuery } from "./sql-driver.js";

/** The columns of an `AuditEntry`, from `audit_log`. */
export const auditColumns = `id::text AS id, at::float8 AS at, actor_id AS "actorId", action, target, details,
  ip, request_id AS "requestId", prev_hash AS "prevHash", hash`;

/**
 * The statement part that appends audit entries from a JSON array parameter (`param`, such
 * as `$7`, holding `JSON.stringify(records)` of `AuditRecord`s), in array order. Use it as a
 * data-modifying CTE of the statement that makes the change (`audited AS (${auditAppend("$7")})`),
 * or alone inside the change's transaction: the entries commit with the change or not at all.
 */
export function auditAppend(param: string): string {
  return `INSERT INTO audit_log (at, actor_id, action, target, details, ip, request_id)
    SELECT r.at, r."actorId", r.action, coalesce(r.target, ''), coalesce(r.details, '{}'::jsonb),
           coalesce(r.ip, ''), coalesce(r."requestId", '')
    FROM jsonb_to_recordset(${param}::text::jsonb)
      AS r(at bigint, "actorId" text, action text, target text, details jsonb, ip text, "requestId" text)`;
}

/**
 * The statement part that appends one audit entry per row of `from` (a CTE or table), with
 * each field an SQL expression over it: for a change whose entry names what it changed.
 */
export function auditAppendFrom(
  from: string,
  fields: {
    at: string;
    actorId: string;
    action: string;
    target: string;
    details: string;
    ip: string;
    requestId: string;
  },
): string {
  const f = fields;
  return `INSERT INTO audit_log (at, actor_id, action, target, details, ip, request_id)
    SELECT ${f.at}, ${f.actorId}, ${f.action}, ${f.target}, ${f.details}, ${f.ip}, ${f.requestId} FROM ${from}`;
}

/** Appends `records` in one statement on `q` (a transaction's connection, to audit a change made in it). */
export async function appendAudit(q: SqlQuery, records: readonly AuditRecord[]): Promise<AuditEntry[]> {
  if (records.length === 0) return [];
  const rows = await q.query<AuditEntry>(
    `WITH added AS (${auditAppend("$1")} RETURNING ${auditColumns}) SELECT * FROM added ORDER BY id::bigint`,
    [JSON.stringify(records)],
  );
  return rows.map(toAuditEntry);
}

/** A row as a plain `AuditEntry` (numbers as numbers). */
export function toAuditEntry(r: AuditEntry): AuditEntry {
  return {
    id: String(r.id),
    at: Number(r.at),
    actorId: r.actorId,
    action: r.action,
    target: r.target,
    details: r.details,
    ip: r.ip,
    requestId: r.requestId,
    prevHash: r.prevHash,
    hash: r.hash,
  };
}

/** Entries verified per query. */
const verifyPage = 1000;

/** The `AuditLog` port over one SQL connection (or pool). */
export class SqlAuditLog implements AuditLog {
  constructor(private readonly db: SqlQuery) {}

  async recordAudit(entry: AuditRecord): Promise<AuditEntry> {
    const [added] = await appendAudit(this.db, [entry]);
    return added!;
  }

  async listAudit(filter: AuditFilter): Promise<{ entries: AuditEntry[]; nextCursor?: string }> {
    const limit = Math.max(1, Math.floor(filter.limit));
    // Not prepared: the plan must see which filters are given to pick its index.
    const rows = await this.db.query<AuditEntry>(
      `SELECT ${auditColumns} FROM audit_log
       WHERE ($1::text IS NULL OR actor_id = $1) AND ($2::text IS NULL OR action = $2)
         AND ($3::text IS NULL OR target = $3)
         AND ($4::bigint IS NULL OR at >= $4) AND ($5::bigint IS NULL OR at <= $5)
         AND ($6::text IS NULL OR id < $6::text::bigint)
       ORDER BY audit_log.id DESC LIMIT $7`,
      [
        filter.actor ?? null,
        filter.action ?? null,
        filter.target ?? null,
        filter.from ?? null,
        filter.to ?? null,
        filter.before ?? null,
        limit + 1,
      ],
      { prepare: false },
    );
    const entries = rows.slice(0, limit).map(toAuditEntry);
    return rows.length > limit ? { entries, nextCursor: entries[entries.length - 1]!.id } : { entries };
  }

  async verifyAudit(): Promise<AuditVerdict> {
    // The head first: entries appended while this runs have larger ids and are left out.
    const [head] = await this.db.query<{ lastId: string; lastHash: string; entries: number }>(
      `SELECT last_id::text AS "lastId", last_hash AS "lastHash", entries::float8 AS entries FROM audit_chain`,
    );
    if (!head) return { ok: false, checked: 0, reason: "the chain's head (audit_chain) is missing" };
    let prev = auditGenesisHash;
    let prevId: string | null = null;
    let checked = 0;
    for (let after = "0"; ; ) {
      const rows = await this.db.query<{ id: string; prevHash: string; hash: string; computed: string }>(
        `SELECT id::text AS id, prev_hash AS "prevHash", hash,
           colink_audit_hash(id, at, actor_id, action, target, details, ip, request_id, prev_hash) AS computed
         FROM audit_log WHERE id > $1::text::bigint AND id <= $2::text::bigint ORDER BY audit_log.id LIMIT $3`,
        [after, head.lastId, verifyPage],
      );
      for (const r of rows) {
        if (r.prevHash !== prev) {
          const before = prevId === null ? "the start of the chain" : `entry ${prevId}`;
          return {
            ok: false,
            checked,
            brokenAt: r.id,
            reason: `prevHash is not the hash of ${before}: an entry before it was deleted or changed`,
          };
        }
        if (r.computed !== r.hash) {
          return {
            ok: false,
            checked,
            brokenAt: r.id,
            reason: "hash does not match the entry's fields: the entry was changed",
          };
        }
        prev = r.hash;
        prevId = r.id;
        checked++;
      }
      if (rows.length < verifyPage) break;
      after = rows[rows.length - 1]!.id;
    }
    if (prev !== head.lastHash || checked !== Number(head.entries)) {
      return {
        ok: false,
        checked,
        brokenAt: head.lastId,
        reason: `the chain's head names entry ${head.lastId} as its newest of ${head.entries}: entries are missing`,
      };
    }
    return { ok: true, checked };
  }

  async readAudit(afterId: number, limit: number): Promise<Array<AuditEntry & { seq: number }>> {
    const rows = await this.db.query<AuditEntry>(
      `SELECT ${auditColumns} FROM audit_log WHERE id > $1 ORDER BY audit_log.id LIMIT $2`,
      [Math.max(0, Math.floor(afterId)), Math.max(1, Math.floor(limit))],
    );
    return rows.map((r) => ({ ...toAuditEntry(r), seq: Number(r.id) }));
  }
}
