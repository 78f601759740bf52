/**
 * The Colink a scenario loads: one this run starts (on the store and worker count the
 * point asks for, with its own data), or the remote deployment named on the command line.
 */
import { limitsOutOfReach } from "../../test/support/limits.js";
import { type StoreKind, startColink } from "../../test/support/processes.js";
import type { BenchContext } from "./scenario.js";

/** A Colink ready for load. */
export interface ColinkTarget {
  baseUrl: string;
  wsUrl: string;
  /** Tokens for a remote target without dev sign-in (else empty). */
  tokens: string[];
  /** Worker threads (W) of a local server; -1 when unknown (remote). */
  workers: number;
  /** Processes to account CPU and memory to (empty for a remote target). */
  pids(): number[];
  /** The Postgres schema of a local server on Postgres (else null). */
  schema: string | null;
}

/** Default worker threads of a local Colink in benchmarks (overridable per point). */
export const defaultBenchWorkers = Number(process.env.COLINK_WORKERS ?? 0);

/**
 * Runs `fn` against a Colink: a fresh local one on `store` with `workers` threads, or the
 * remote target (then `store` and `workers` are whatever the deployment uses).
 */
export async function withColink<T>(
  ctx: BenchContext,
  opts: { store: StoreKind; workers?: number; env?: Record<string, string> },
  fn: (target: ColinkTarget) => Promise<T>,
): Promise<T> {
  if (ctx.target.kind === "remote") {
    const t = ctx.target;
    return fn({
      baseUrl: t.baseUrl,
      wsUrl: t.wsUrl,
      tokens: t.tokens,
      workers: -1,
      pids: () => [],
      schema: null,
    });
  }
  const workers = opts.workers ?? defaultBenchWorkers;
  const server = await startColink(opts.store, {
    COLINK_WORKERS: String(workers),
    // Load tests open many connections from few users on one address and send fast: the
    // rate limits count every request but never refuse one (S12 sets its own).
    COLINK_MAX_PENDING_REQUESTS: "100000",
    ...limitsOutOfReach,
    ...opts.env,
  });
  try {
    return await fn({
      baseUrl: server.baseUrl,
      wsUrl: server.wsUrl,
      tokens: [],
      workers,
      pids: () => [server.pid],
      schema: server.schema,
    });
  } finally {
    await server.cleanup();
  }
}
