/**
 * The production Store: Postgres through postgres.js, running the same SQL as the
 * embedded adapter via `SqlStore`. Statements are prepared per connection (the SQL
 * texts are fixed), so each one costs one round trip after its first use.
 */
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import postgres from "postgres";
import type { Store } from "../../core/ports.js";
import { type QueryOptions, type SqlDriver, type SqlQuery, unavailableOr } from "../sql/sql-driver.js";
import { SqlStore } from "../sql/sql-store.js";

/** Options of the Postgres store. */
export interface PostgresStoreOptions {
  /** Connection URL, e.g. `postgres://user@host:5432/db`. */
  url: string;
  /** Schema for every table; created if missing and set as each connection's search_path. */
  schema?: string;
  /** Pool size (default 10). */
  maxConnections?: number;
}

/** Unquoted identifiers only: the schema name goes into SQL text and the startup packet. */
const schemaName = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function queryOf(sql: postgres.Sql | postgres.TransactionSql): SqlQuery {
  return {
    async query<R>(text: string, params: unknown[] = [], opts: QueryOptions = {}): Promise<R[]> {
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
        prepare: opts.prepare ?? true,
      });
      return rows as unknown as R[];
    },
    async exec(script: string): Promise<void> {
      // No parameters: postgres.js uses the simple protocol, which takes several statements.
      await sql.unsafe(script);
    },
  };
}

/** A `SqlDriver` over a postgres.js client (pool). */
export function postgresDriver(sql: postgres.Sql): SqlDriver {
  return {
    ...queryOf(sql),
    async transaction<T>(fn: (q: SqlQuery) => Promise<T>): Promise<T> {
      return (await sql.begin((tx) => fn(queryOf(tx)))) as T;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

/** Opens a postgres.js pool with int8 parsed as number, no notice logging and the schema on the search_path. */
export function openPostgresClient(opts: PostgresStoreOptions): postgres.Sql {
  if (opts.schema !== undefined && !schemaName.test(opts.schema)) {
    throw new Error(`invalid schema name: ${opts.schema}`);
  }
  return postgres(opts.url, {
    max: opts.maxConnections ?? 10,
    onnotice: () => {},
    // Every bigint here is a time or a seq, far below 2^53.
    types: {
      int8: {
        to: 20,
        from: [20],
        serialize: (x: number | bigint) => String(x),
        parse: (x: string) => Number(x),
      },
    },
    transform: { undefined: null },
    // postgres.js leaves Nagle's algorithm on; a commit's small writes then wait for
    // delayed ACKs. Our own socket turns it off (`socket` is an option its types omit).
    ...({ socket: noDelaySocket } as object),
    connection: {
      application_name: "colink",
      ...(opts.schema !== undefined ? { search_path: opts.schema } : {}),
    },
  }) as unknown as postgres.Sql;
}

/** A TCP (or unix) socket to the server with TCP_NODELAY, connected, for postgres.js. */
async function noDelaySocket(o: { host: string[]; port: number[]; path?: string | false }): Promise<Socket> {
  const socket = o.path ? connect(o.path) : connect({ host: o.host[0]!, port: o.port[0]!, noDelay: true });
  socket.setNoDelay(true);
  await once(socket, "connect");
  return socket;
}

/**
 * Opens a postgres.js pool as a `SqlDriver`, creating the schema if one is given, and
 * checks that the database answers (else throws the retryable `unavailable`).
 */
export async function openPostgresDriver(opts: PostgresStoreOptions): Promise<SqlDriver> {
  const sql = openPostgresClient(opts);
  const driver = postgresDriver(sql);
  try {
    if (opts.schema !== undefined) {
      try {
        await driver.exec(`CREATE SCHEMA IF NOT EXISTS "${opts.schema}"`);
      } catch (err) {
        // Two processes creating it at once: the loser sees a duplicate; the schema exists.
        const code = (err as { code?: string }).code;
        if (code !== "23505" && code !== "42P06") throw err;
      }
    }
    await driver.query("SELECT 1 AS ok");
  } catch (err) {
    await driver.close();
    throw unavailableOr(err);
  }
  return driver;
}

/** Opens the Postgres Store, creating the schema if one is given. Call `migrate()` before use. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  return new SqlStore(await openPostgresDriver(opts));
}
