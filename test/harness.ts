/**
 * End-to-end harness: starts the real server (`dist/app/main.js`, built by `npm test`)
 * as a child process on a free port, with its own data dir or Postgres schema, and
 * gives tests dev tokens and SDK clients.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { ColinkClient } from "../client/index.js";

/** The Postgres the tests use. */
export const testDatabaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Which store a server runs on. */
export type StoreKind = "pglite" | "postgres";

/** Both stores, for `describe.each`. */
export const storeKinds: StoreKind[] = ["pglite", "postgres"];

/** A running server under test. */
export interface TestServer {
  port: number;
  /** Its data directory (PGlite files, the dev issuer's key). */
  dataDir: string;
  baseUrl: string;
  wsUrl: string;
  /** Its output so far (for failure messages). */
  output(): string;
  /** Stops it: SIGTERM drains, SIGKILL is a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same data (and the same port when free). */
  restart(): Promise<void>;
  /** Removes its data (call after stop). */
  cleanup(): Promise<void>;
}

const mainScript = new URL("../dist/app/main.js", import.meta.url).pathname;

/** Starts a server on `store`, with extra environment variables. */
export async function startServer(store: StoreKind, env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "colink-test-"));
  const schema = `t_${Math.random().toString(36).slice(2, 10)}`;
  const baseEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    COLINK_HOST: "127.0.0.1",
    COLINK_PORT: "0",
    COLINK_DATA_DIR: dataDir,
    COLINK_DEV_AUTH: "on",
    ...(store === "postgres" ? { DATABASE_URL: testDatabaseUrl, COLINK_DB_SCHEMA: schema } : {}),
    ...env,
  };
  if (store === "pglite") delete baseEnv.DATABASE_URL;
  let child: ChildProcess | null = null;
  let log = "";
  let port = 0;

  const launch = async (fixedPort: number) => {
    log = "";
    const proc = spawn(process.execPath, [mainScript], {
      env: { ...baseEnv, COLINK_PORT: String(fixedPort) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    proc.stderr!.on("data", (d) => {
      log += d.toString();
    });
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 60_000);
      proc.stdout!.on("data", (d) => {
        log += d.toString();
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${log}`));
      });
    });
  };

  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    const proc = child as ChildProcess | null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      proc.kill(signal);
    });
  };

  // An explicit port (not 0): uWS sets SO_REUSEADDR only then, which a restart on the
  // same port needs while the killed server's connections sit in TIME_WAIT.
  await launch(await freePort()).catch((err: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const server: TestServer = {
    dataDir,
    get port() {
      return port;
    },
    get baseUrl() {
      return `http://127.0.0.1:${port}`;
    },
    get wsUrl() {
      return `ws://127.0.0.1:${port}/ws`;
    },
    output: () => log,
    stop,
    restart: () => launch(port),
    async cleanup() {
      await stop("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
      if (store === "postgres") {
        const sql = postgres(testDatabaseUrl, { onnotice: () => {} });
        await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await sql.end();
      }
    },
  };
  return server;
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A dev token and user id for `username`. */
export async function devToken(
  server: TestServer,
  username: string,
): Promise<{ token: string; userId: string }> {
  const res = await fetch(`${server.baseUrl}/auth/dev/token`, {
    method: "POST",
    body: JSON.stringify({ username }),
  });
  if (!res.ok) throw new Error(`dev token failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { accessToken: string; user: { id: string } };
  return { token: body.accessToken, userId: body.user.id };
}

/** A connected SDK client for `username`. */
export async function connectAs(
  server: TestServer,
  username: string,
  opts: Partial<ConstructorParameters<typeof ColinkClient>[0]> = {},
): Promise<{ client: ColinkClient; userId: string; token: string }> {
  const { token, userId } = await devToken(server, username);
  const client = new ColinkClient({ url: server.wsUrl, token, ...opts });
  await client.connect();
  return { client, userId, token };
}

/** JSON over HTTP with a bearer token. */
export async function api(
  server: TestServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waits until `check` is true, polling. */
export async function until(check: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
