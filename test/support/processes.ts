/**
 * Starting servers as child processes for the tests and the benchmarks: Colink itself
 * (the built `dist/app/main.js`), a private redis-server, and (through `spawnListening`)
 * the peers the benchmarks compare it with. Each waits until it listens, can be pinned to
 * CPUs with taskset, and is stopped by the run that started it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

/** A server running as a child process. */
export interface Spawned {
  pid: number;
  port: number;
  /** Everything it printed so far. */
  output(): string;
  /** Stops it (SIGTERM drains Colink; SIGKILL is a crash) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
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

/**
 * Runs `node script` with `env` and resolves once it prints `listening on http://host:PORT`.
 * With `cpus` (e.g. "0"), the process is pinned with taskset.
 */
export async function spawnListening(
  script: string,
  env: Record<string, string>,
  opts: { cpus?: string; nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<Spawned> {
  const node = [process.execPath, ...(opts.nodeArgs ?? []), script];
  const [cmd, ...args] = opts.cpus ? ["taskset", "-c", opts.cpus, ...node] : node;
  const child: ChildProcess = spawn(cmd!, args, {
    env: { ...(process.env as Record<string, string>), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stderr!.on("data", (d) => {
    log += d.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start:\n${log}`)),
      opts.timeoutMs ?? 60_000,
    );
    child.stdout!.on("data", (d) => {
      log += d.toString();
      const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  return {
    pid: child.pid!,
    port,
    output: () => log,
    stop: (signal: NodeJS.Signals = "SIGTERM") =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill(signal);
        // A server that does not drain in time is killed.
        setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
      }),
  };
}

/** Which store a Colink under test runs on. */
export type StoreKind = "pglite" | "postgres";

/** The Postgres the tests and benchmarks use. */
export const localDatabaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A Colink server started for a test or a benchmark, with its own data. */
export interface ColinkProcess extends Spawned {
  dataDir: string;
  /** Its Postgres schema (the value of COLINK_DB_SCHEMA), or null on PGlite. */
  schema: string | null;
  baseUrl: string;
  wsUrl: string;
  /** Starts it again on the same data and port. */
  restart(): Promise<void>;
  /** Stops it and removes its data dir and Postgres schema. */
  cleanup(): Promise<void>;
}

const mainScript = new URL("../../dist/app/main.js", import.meta.url).pathname;

/**
 * Starts the built Colink on `store`, with its own data dir (and, on Postgres, its own
 * schema), on loopback, with dev sign-in on. `env` adds or overrides variables.
 */
export async function startColink(
  store: StoreKind,
  env: Record<string, string> = {},
  opts: { cpus?: string; nodeArgs?: string[] } = {},
): Promise<ColinkProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "colink-"));
  const schema = `t_${Math.random().toString(36).slice(2, 10)}`;
  const baseEnv: Record<string, string> = {
    // Tests and benchmarks say how many actor threads they want; unsaid, the main thread.
    COLINK_WORKERS: "0",
    ...(process.env as Record<string, string>),
    COLINK_HOST: "127.0.0.1",
    COLINK_DATA_DIR: dataDir,
    COLINK_DEV_AUTH: "on",
    ...(store === "postgres" ? { DATABASE_URL: localDatabaseUrl, COLINK_DB_SCHEMA: schema } : {}),
    ...env,
  };
  if (store === "pglite") delete baseEnv.DATABASE_URL;
  // An explicit port (not 0): uWS sets SO_REUSEADDR only then, which a restart on the
  // same port needs while the killed server's connections sit in TIME_WAIT.
  const port = Number(env.COLINK_PORT) || (await freePort());
  let current: Spawned;
  const launch = async () => {
    current = await spawnListening(mainScript, { ...baseEnv, COLINK_PORT: String(port) }, opts);
  };
  await launch().catch((err: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const stop = (signal?: NodeJS.Signals) => current.stop(signal);
  return {
    dataDir,
    schema: store === "postgres" ? baseEnv.COLINK_DB_SCHEMA! : null,
    port,
    get pid() {
      return current.pid;
    },
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    output: () => current.output(),
    stop,
    restart: launch,
    async cleanup() {
      await stop("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
      if (store === "postgres") {
        const sql = postgres(localDatabaseUrl, { onnotice: () => {} });
        await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await sql.end();
      }
    },
  };
}

/** A redis-server of a test's or benchmark's own, without persistence (a restart loses everything, as a crash would). */
export interface TestRedis {
  port: number;
  url: string;
  /** Its process id now (0 while it is not running). */
  readonly pid: number;
  /** Kills it (SIGKILL). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

/** Resolves once something accepts connections on `port` of 127.0.0.1, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: "127.0.0.1" }, () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a private redis-server on a free port. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    await waitForPort(port, 10_000);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      const c = child as ChildProcess | null;
      return c && c.exitCode === null && c.signalCode === null ? (c.pid ?? 0) : 0;
    },
    start,
    kill: () =>
      new Promise<void>((resolve) => {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once("exit", () => resolve());
        c.kill("SIGKILL");
      }),
  };
}

/** Stops a child the harness started: SIGTERM, SIGKILL after 10 s; resolves once it has exited. */
export function stopChild(child: ChildProcess | null): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
