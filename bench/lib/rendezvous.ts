/**
 * A rendezvous directory: how the processes of one run meet at points in time when a
 * one-task-one-result generator (bench/lib/generators.ts) is not enough. A process posts
 * a named JSON note (written to a temporary name, then renamed, so a reader never sees
 * half of it); others poll for it. Polling every few milliseconds costs nothing next to
 * the load, and every wait has a deadline, so a lost process cannot hang a run.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Milliseconds since the epoch, fractional: one clock for every process on this machine. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A directory where the processes of a run post and read notes. */
export class Rendezvous {
  constructor(readonly dir: string) {}

  /** A new, empty rendezvous directory. */
  static create(tag: string): Rendezvous {
    return new Rendezvous(mkdtempSync(join(tmpdir(), `colink-${tag}-`)));
  }

  /** Posts a note (atomically). */
  post(name: string, value: unknown): void {
    const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, join(this.dir, `${name}.json`));
  }

  /** A note, if it was posted. */
  read<T>(name: string): T | undefined {
    const path = join(this.dir, `${name}.json`);
    if (!existsSync(path)) return undefined;
    return JSON.parse(readFileSync(path, "utf8")) as T;
  }

  /**
   * Waits for a note. Rejects after `timeoutMs`, or at once when `abort` (checked on every
   * poll) returns a reason.
   */
  async wait<T>(
    name: string,
    timeoutMs: number,
    opts: { pollMs?: number; abort?: () => string | null } = {},
  ): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const got = this.read<T>(name);
      if (got !== undefined) return got;
      const reason = opts.abort?.() ?? null;
      if (reason) throw new Error(`waiting for "${name}": ${reason}`);
      if (performance.now() > deadline) throw new Error(`no "${name}" within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 10));
    }
  }

  /** Removes the directory. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
