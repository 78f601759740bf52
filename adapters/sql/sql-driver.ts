/**
 * The tiny SQL driver the store is written against, so that PGlite (embedded) and
 * Postgres (production) share every statement, and the classification of driver errors:
 * which fields say what collided, and which codes mean the database is unreachable.
 */
import { fail } from "../../core/errors.js";

/** Per-statement options of `SqlQuery.query`. */
export interface QueryOptions {
  /**
   * False: plan the statement with this call's parameter values every time instead of
   * caching a plan, for statements whose best plan depends on the values (a LIKE prefix).
   * Drivers that never cache plans ignore it. Default true.
   */
  prepare?: boolean;
}

/** What a statement runner offers: parameterised queries and multi-statement scripts. */
export interface SqlQuery {
  /**
   * Runs one statement with `$1…` parameters and returns its rows as objects keyed by
   * column name. Drivers return int8 as number, json/jsonb parsed and booleans as booleans.
   */
  query<R = Record<string, unknown>>(text: string, params?: unknown[], opts?: QueryOptions): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/** A database connection (or pool) as `SqlStore` needs it. */
export interface SqlDriver extends SqlQuery {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (q: SqlQuery) => Promise<T>): Promise<T>;
  /** Closes the connection(s). */
  close(): Promise<void>;
}

/** The SQLSTATE, constraint and detail of a database error, whichever driver raised it. */
export interface SqlErrorInfo {
  code: string;
  constraint: string | undefined;
  detail: string | undefined;
}

/** Reads a database error's fields; PGlite names them like node-postgres, postgres.js in snake case. */
export function sqlErrorOf(err: unknown): SqlErrorInfo | null {
  if (typeof err !== "object" || err === null) return null;
  const e = err as { code?: unknown; constraint?: unknown; constraint_name?: unknown; detail?: unknown };
  if (typeof e.code !== "string" || !/^[0-9A-Z]{5}$/.test(e.code)) return null;
  const constraint = typeof e.constraint === "string" ? e.constraint : e.constraint_name;
  return {
    code: e.code,
    constraint: typeof constraint === "string" ? constraint : undefined,
    detail: typeof e.detail === "string" ? e.detail : undefined,
  };
}

/** Error codes meaning "the database cannot be reached right now", from Postgres, Node or postgres.js. */
const unreachableCodes = new Set([
  "53300", // too_many_connections
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/**
 * True when a driver error means the database is unreachable (SQLSTATE class 08 and the
 * codes above) rather than that the statement was wrong.
 */
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (unreachableCodes.has(code) || /^08[0-9A-Z]{3}$/.test(code));
}

/** Turns "database unreachable" into the retryable `unavailable` error; anything else passes. */
export function unavailableOr(err: unknown): unknown {
  if (!isUnreachable(err)) return err;
  const e = fail.unavailable("database unavailable");
  e.cause = err;
  return e;
}

/**
 * Wraps a driver so that an unreachable database surfaces as ColinkError `unavailable`
 * (retryable). A commit that fails this way has an unknown outcome: it may have landed.
 */
export function guarded(db: SqlDriver): SqlDriver {
  const q = (inner: SqlQuery): SqlQuery => ({
    query: <R>(text: string, params?: unknown[], opts?: QueryOptions) =>
      inner.query<R>(text, params, opts).catch((err: unknown) => Promise.reject(unavailableOr(err))),
    exec: (script: string) => inner.exec(script).catch((err: unknown) => Promise.reject(unavailableOr(err))),
  });
  return {
    ...q(db),
    transaction: <T>(fn: (tx: SqlQuery) => Promise<T>) =>
      db.transaction((tx) => fn(q(tx))).catch((err: unknown) => Promise.reject(unavailableOr(err))),
    close: () => db.close(),
  };
}

/** SQLSTATE of a unique violation. */
export const uniqueViolation = "23505";
