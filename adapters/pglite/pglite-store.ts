/**
 * The embedded Store: PGlite (Postgres compiled to WASM) in this process, in memory or
 * persisted in a folder. It runs the same SQL as the Postgres adapter via `SqlStore`.
 * PGlite runs one query at a time and serialises transactions; the group commit keeps
 * that from mattering.
 *
 * Memory: a WASM heap grows but never shrinks, so whatever PGlite touches once stays
 * resident until the process exits. Two things follow. Postgres's shared memory (sized by
 * the settings below) lives in that heap and is touched at start, so it is kept small. And
 * PGlite's initdb (a second Postgres instance, a copy of its heap and the new data folder
 * held in memory: over 600 MB for a few seconds) runs in a throwaway child process, so
 * that its memory goes back to the system instead of staying in the server's heap.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { Store } from "../../core/ports.js";
import { type SqlDriver, type SqlQuery, SqlStore } from "../sql/sql-store.js";

/** PostgreSQL type oid of int8 (bigint). */
const INT8 = 20;

/**
 * Postgres settings that size PGlite's resident memory, given at every start (they win
 * over the data folder's postgresql.conf, so folders made before them shrink too) and
 * to initdb (which writes them into postgresql.conf).
 *
 * - `shared_buffers` 48MB, down from 128MB. PGlite touches all of its shared memory when
 *   it starts, so every MB of buffers is a MB of RSS from the first second (128MB of them
 *   were 110 MB of the idle server's RSS). Pages that do not fit stay in the OS page
 *   cache, read back with a system call each: once S3's tables (1,000 channels) outgrew
 *   the buffers, past about 100,000 messages, 16MB took a quarter more CPU per message
 *   and 32MB a tenth to a fifth more; 48MB stayed within the noise of 128MB.
 * - `wal_buffers` stays at the 4MB it was (with fewer buffers Postgres would shrink it to
 *   1/32 of them): a group commit writes one large batch of WAL.
 * - `maintenance_work_mem` 16MB, down from 64MB: a CREATE INDEX in a future migration
 *   would grow the heap by that much for good.
 *
 * Fewer connection slots (PGlite is one backend) would save 2 to 4 MB but shrink the
 * shared lock table with them; not worth it.
 */
const memorySettings: Readonly<Record<string, string>> = {
  shared_buffers: "48MB",
  wal_buffers: "4MB",
  maintenance_work_mem: "16MB",
};

/** The settings as `name=value` pairs. */
const settingPairs = Object.entries(memorySettings).map(([name, value]) => `${name}=${value}`);

/** PGlite's own start parameters (single-user mode, its fsync and parallelism choices) plus ours. */
const startParams = [...PGlite.defaultStartParams, ...settingPairs.flatMap((s) => ["-c", s])];

/** initdb's parameters: the settings go into the new folder's postgresql.conf. */
const initDbStartParams = settingPairs.flatMap((s) => ["--set", s]);

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

/**
 * The child's program: open PGlite on the folder (which runs initdb) and close it. It
 * loads PGlite's CommonJS build by path, so it needs none of this project's code (the
 * tests run this file from TypeScript source). WASM runs on V8's baseline compiler only:
 * for this one-off run, optimising the hot functions took more time and memory (about
 * 110 MB more at the peak) than it saved. A V8 without the flag says so and goes on.
 */
const initDataDirScript = `
require("node:v8").setFlagsFromString("--liftoff-only");
const { PGlite } = require(process.argv[1]);
const opts = JSON.parse(process.argv[2]);
PGlite.create(opts)
  .then((db) => db.close())
  .catch((err) => { console.error(err); process.exit(1); });
`;

/** Keeps the end of a child's stderr for an error message. */
const stderrTailBytes = 4000;

/**
 * Runs PGlite's initdb on `dataDir` in a child process that then exits, so the memory it
 * takes goes back to the system instead of staying in this process's WASM heap.
 */
export async function initDataDirInChild(dataDir: string): Promise<void> {
  const pgliteEntry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const opts = { dataDir, startParams, initDbStartParams };
  const child = spawn(process.execPath, ["-e", initDataDirScript, pgliteEntry, JSON.stringify(opts)], {
    stdio: ["ignore", "inherit", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-stderrTailBytes);
  });
  const exit = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve(code === 0 ? "" : `exit ${code ?? signal}`));
  });
  if (exit) throw new Error(`PGlite initdb in ${dataDir} failed (${exit}): ${stderr.trim()}`);
}

/** Opens PGlite with int8 parsed as number (every bigint here is a time or a seq, far below 2^53). */
export async function openPglite(opts: PgliteStoreOptions = {}): Promise<PGlite> {
  if (opts.dataDir !== undefined) {
    await mkdir(opts.dataDir, { recursive: true });
    // PGlite's own test for an initialised folder.
    if (!existsSync(join(opts.dataDir, "PG_VERSION"))) await initDataDirInChild(opts.dataDir);
  }
  return PGlite.create({
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
    startParams,
    initDbStartParams,
    parsers: { [INT8]: (value: string) => Number(value) },
  });
}

/** Opens the embedded Store. Call `migrate()` before use. */
export async function openPgliteStore(opts: PgliteStoreOptions = {}): Promise<Store> {
  return new SqlStore(pgliteDriver(await openPglite(opts)));
}
