/**
 * Process accounting from /proc (Linux): CPU time and resident memory of the processes
 * taking part in a run (Colink, generators, Postgres, peers), so that every report says
 * who was busy and flags a generator that was the bottleneck.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const ticksPerSecond = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used, or 0 if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces), in parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** Resident memory of a process, in bytes (0 if it is gone). */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pids of the local PostgreSQL server's processes (its backends do the work). */
export function postgresPids(): number[] {
  try {
    return execFileSync("pgrep", ["-x", "postgres"], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Named groups of processes whose CPU use is measured over a window. */
export type ProcessGroups = Record<string, () => number[]>;

/**
 * CPU use of each group over a window, as a share of one core (1.0 = one core busy).
 * Counted per process: one that ended inside the window counts nothing (its last use
 * cannot be read), one that started inside it counts from its start.
 */
export class CpuMeter {
  private start = new Map<number, number>();
  private startedAt = 0;

  constructor(private readonly groups: ProcessGroups) {}

  /** Starts the window. */
  begin(): void {
    this.startedAt = performance.now();
    this.start.clear();
    for (const pids of Object.values(this.groups)) {
      for (const p of pids()) this.start.set(p, cpuSeconds(p));
    }
  }

  /** Ends the window: cores used per group. */
  end(): Record<string, number> {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const out: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.groups)) {
      let used = 0;
      for (const p of pids()) used += Math.max(0, cpuSeconds(p) - (this.start.get(p) ?? 0));
      out[name] = seconds > 0 ? Math.round((used / seconds) * 100) / 100 : 0;
    }
    return out;
  }
}

const sleepUntil = (epochMs: number) => new Promise((r) => setTimeout(r, Math.max(0, epochMs - Date.now())));

/**
 * CPU use over the measuring window [from, from + durationMs) (epoch ms), for processes
 * that end (or close their database connections) as soon as they are done.
 */
export async function cpuOverWindow(
  meter: CpuMeter,
  from: number,
  durationMs: number,
): Promise<Record<string, number>> {
  await sleepUntil(from);
  meter.begin();
  await sleepUntil(from + durationMs);
  return meter.end();
}
