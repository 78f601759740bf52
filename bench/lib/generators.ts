/**
 * Load generators as separate processes, so that the load is not measured by the same
 * event loop that makes it, and so that several can use both cores. A generator module
 * default-exports `(task) => Promise<result>`; `runGenerators` forks one process per
 * task (optionally pinned with taskset), and collects the results and each process's pid.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

const entry = fileURLToPath(new URL("./generator-entry.ts", import.meta.url));

/** A running generator. */
export interface Generator<R> {
  pid: number;
  /** Resolves with the generator's result. */
  result: Promise<R>;
}

/** Starts one generator process per task running `module` (a path relative to bench/). */
export function startGenerators<T, R>(
  module: string,
  tasks: T[],
  opts: { cpus?: string } = {},
): Generator<R>[] {
  return tasks.map((task) => {
    const child = fork(entry, [module], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      ...(opts.cpus
        ? { execPath: "taskset", execArgv: ["-c", opts.cpus, process.execPath, "--import", "tsx"] }
        : {}),
    });
    const result = new Promise<R>((resolve, reject) => {
      child.once("message", (msg: { ok: boolean; result?: R; error?: string }) => {
        if (msg.ok) resolve(msg.result as R);
        else reject(new Error(`generator ${module}: ${msg.error}`));
        child.disconnect();
      });
      child.once("exit", (code) => reject(new Error(`generator ${module} exited with ${code}`)));
    });
    child.send(task as object);
    return { pid: child.pid!, result };
  });
}

/** Runs generators and waits for every result. */
export async function runGenerators<T, R>(
  module: string,
  tasks: T[],
  opts: { cpus?: string } = {},
): Promise<R[]> {
  return Promise.all(startGenerators<T, R>(module, tasks, opts).map((g) => g.result));
}
