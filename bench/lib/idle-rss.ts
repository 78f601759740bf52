/**
 * The memory of an idle Colink server, with no connections: started on empty data (the
 * first start: PGlite's initdb, or a new Postgres schema, and the migrations), left idle
 * for a few seconds, read from /proc, drained, then started again on the same data (a
 * restart) and read the same way. What a deployment must give the server before any load.
 */
import { readdirSync, readFileSync } from "node:fs";
import { type StoreKind, startColink } from "../../test/support/processes.js";
import type { RunOutcome } from "./scenario.js";

/** The `point` param of the idle-server records in S4 (the others are connection counts). */
export const idleServerPoint = "idle server";

/** How often the process tree's memory is sampled during a start. */
const sampleMs = 100;

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

/** VmRSS and VmHWM (its peak) of a process, in KiB; zeros when it is gone. */
export function memoryKiB(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { rss: field("VmRSS"), hwm: field("VmHWM") };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** The processes below `pid`: its children, theirs, and so on (Linux: /proc/…/children). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return; // gone meanwhile
    }
    for (const t of tasks) {
      let children = "";
      try {
        children = readFileSync(`/proc/${p}/task/${t}/children`, "utf8");
      } catch {
        continue;
      }
      for (const c of children.split(" ").filter(Boolean).map(Number)) {
        out.push(c);
        visit(c);
      }
    }
  };
  visit(pid);
  return out;
}

/**
 * Samples the summed RSS of the processes that appear below this one after it starts
 * (the server and any child it spawns, such as PGlite's initdb), and keeps the highest
 * sum: the memory a machine needs while the server starts. A sample every 100 ms can miss
 * a shorter spike; the server's own VmHWM cannot, but it leaves its children out.
 */
class TreePeak {
  private readonly before = new Set(descendants(process.pid));
  private peakKiB = 0;
  private readonly timer = setInterval(() => this.sample(), sampleMs);

  private sample(): void {
    const pids = descendants(process.pid).filter((p) => !this.before.has(p));
    const sum = pids.reduce((s, p) => s + memoryKiB(p).rss, 0);
    this.peakKiB = Math.max(this.peakKiB, sum);
  }

  /** Stops sampling; the peak in KiB. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peakKiB;
  }
}

/** One start, measured: start time, then RSS after `settleMs` idle. */
async function measureStart(
  start: () => Promise<void>,
  pid: () => number,
  settleMs: number,
): Promise<RunOutcome> {
  const tree = new TreePeak();
  const began = performance.now();
  try {
    await start();
  } catch (err) {
    tree.stop();
    throw err;
  }
  const startMs = performance.now() - began;
  await new Promise((r) => setTimeout(r, settleMs));
  const mem = memoryKiB(pid());
  return {
    metrics: {
      startSec: Math.round(startMs / 10) / 100,
      idleMiB: mib(mem.rss),
      peakMiB: mib(mem.hwm),
      withChildrenPeakMiB: mib(Math.max(tree.stop(), mem.hwm)),
    },
    cpu: {},
  };
}

/**
 * Starts a Colink on `store` with `workers` threads on empty data, measures it idle after
 * `settleMs`, drains it (SIGTERM), starts it again on the same data and measures again.
 * `env` adds server variables.
 */
export async function measureIdleRss(
  store: StoreKind,
  workers: number,
  settleMs: number,
  env: Record<string, string> = {},
): Promise<{ first: RunOutcome; restart: RunOutcome }> {
  let server: Awaited<ReturnType<typeof startColink>> | undefined;
  try {
    const first = await measureStart(
      async () => {
        server = await startColink(store, { COLINK_WORKERS: String(workers), ...env });
      },
      () => server!.pid,
      settleMs,
    );
    await server!.stop("SIGTERM");
    const restart = await measureStart(
      () => server!.restart(),
      () => server!.pid,
      settleMs,
    );
    return { first, restart };
  } finally {
    await server?.cleanup();
  }
}
