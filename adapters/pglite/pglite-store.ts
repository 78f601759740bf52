/**
 * The embedded Store: PGlite (Postgres compiled to WASM) in this process, in memory or
 * persisted in a folder. It runs the same SQL as the Postgres adapter via `SqlStore`.
 * PGlite runs one query at a time and serialises transactions; the group commit keeps
 * that from mattering.
 */
import { mkdir } from "node:fs/promises";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { Store } from "../../core/ports.js";
import { type SqlDriver, type SqlQuery, SqlStore } from "../sql/sql-store.js";

/** PostgreSQL type oid of int8 (bigint). */
const INT8 = 20;

/** Options of the embedded store. */
export interface PgliteStoreOptions {
  /** Folder to persist the database in (created if missing); undefined keeps it in memory. */
  dataDir?: string;
}

function queryOf(db: PGlite | Transaction): SqlQuery {
  return {
    async query<R>(text: string, params: unknown[] = []): Promise<R[]> {
      const result = await db.query<R>(text, params);
      return result.rows;
    },
    async exec(script: string): Promise<void> {
      await db.exec(script);
    },
  };
}

/** A `SqlDriver` over an open PGlite database. */
export function pgliteDriver(db: PGlite): SqlDriver {
  return {
    ...queryOf(db),
    transaction: <T>(fn: (q: SqlQuery) => Promise<T>) => db.transaction((tx) => fn(queryOf(tx))),
    close: () => db.close(),
  };
}

/** Opens PGlite with int8 parsed as number (every bigint here is a time or a seq, far below 2^53). */
export async function openPglite(opts: PgliteStoreOptions = {}): Promise<PGlite> {
  if (opts.dataDir !== undefined) await mkdir(opts.dataDir, { recursive: true });
  return PGlite.create({
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
    parsers: { [INT8]: (value: string) => Number(value) },
  });
}

/** Opens the embedded Store. Call `migrate()` before use. */
export async function openPgliteStore(opts: PgliteStoreOptions = {}): Promise<Store> {
  return new SqlStore(pgliteDriver(await openPglite(opts)));
}
