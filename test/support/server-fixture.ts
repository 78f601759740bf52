/**
 * One server per `describe` block, for the end-to-end files: `serverForBlock` registers a
 * beforeAll that starts the real server and an afterAll that closes the SDK clients it
 * connected and removes the server with its data dir and schema. Called inside
 * `describe.each`, so each store (or setup) gets its own server.
 */
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { afterAll, beforeAll } from "vitest";
import type { ColinkClient } from "../../client/index.js";
import { connectAs, type StoreKind, startServer, type TestServer, testDatabaseUrl } from "../harness.js";

/** A block's server and its clients. */
export interface ServerFixture {
  /** The block's server, started by beforeAll (reading it earlier throws). */
  readonly server: TestServer;
  /** A connected SDK client for `username`, closed by afterAll. */
  connect(
    username: string,
    opts?: Parameters<typeof connectAs>[2],
  ): Promise<{ client: ColinkClient; userId: string; token: string }>;
  /**
   * Runs SQL on the server's database behind its back (a row edited or deleted by hand);
   * PGlite allows one process, so the server stops meanwhile and starts again after.
   */
  sqlWhileStopped(text: string, params?: unknown[]): Promise<void>;
}

/**
 * Starts a server on `store` with `env` for the enclosing `describe` block, and stops it
 * after. `env` may be a function, read when the server starts: after the beforeAll hooks
 * registered before this one (a search engine started first, whose URL it needs).
 */
export function serverForBlock(
  store: StoreKind,
  env: Record<string, string> | (() => Record<string, string>) = {},
): ServerFixture {
  let started: TestServer | null = null;
  const clients: ColinkClient[] = [];
  const running = (): TestServer => {
    if (!started) throw new Error("the block's server is started in beforeAll");
    return started;
  };
  beforeAll(async () => {
    started = await startServer(store, typeof env === "function" ? env() : env);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await started?.cleanup();
  });
  return {
    get server() {
      return running();
    },
    async connect(username, opts) {
      const connected = await connectAs(running(), username, opts);
      clients.push(connected.client);
      return connected;
    },
    async sqlWhileStopped(text, params = []) {
      const server = running();
      await server.stop();
      try {
        if (server.schema === null) {
          const db = await PGlite.create({ dataDir: join(server.dataDir, "pglite") });
          await db.query(text, params);
          await db.close();
        } else {
          const sql = postgres(testDatabaseUrl, {
            onnotice: () => {},
            connection: { search_path: server.schema },
          });
          await sql.unsafe(text, params as string[]);
          await sql.end();
        }
      } finally {
        await server.restart();
      }
    },
  };
}

/** Each store with the actors on the main thread and in worker threads (1 on PGlite, `postgresWorkers` on Postgres). */
export function threadSetups(postgresWorkers: number): Array<{ store: StoreKind; workers: number }> {
  return [
    { store: "pglite", workers: 0 },
    { store: "pglite", workers: 1 },
    { store: "postgres", workers: 0 },
    { store: "postgres", workers: postgresWorkers },
  ];
}
