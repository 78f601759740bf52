/**
 * A long-lived load generator process that takes commands: for scenarios that open
 * thousands of connections once and then run many measured windows over them (S2 fan-out,
 * S4 idle connections), where bench/lib/generators.ts (one task, one result) would
 * reconnect for every window. The process runs a module from bench/generators/ with tsx,
 * optionally pinned with taskset; it exits when told to, when the parent goes away, or
 * after a lifetime limit, so nothing outlives a run.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The parent's handle on one generator process. */
export class GenSession {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on("message", (msg: { rid: number; ok: boolean; value?: unknown; error?: string }) => {
      const w = this.waiting.get(msg.rid);
      if (!w) return;
      this.waiting.delete(msg.rid);
      if (msg.ok) w.resolve(msg.value);
      else w.reject(new Error(`generator ${name}: ${msg.error}`));
    });
    child.once("exit", (code, signal) => {
      this.exited = true;
      for (const w of this.waiting.values())
        w.reject(new Error(`generator ${name} exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  /** Starts `module` (a path relative to bench/) and waits until it takes commands. */
  static async start(name: string, module: string, opts: { cpus?: string } = {}): Promise<GenSession> {
    const script = fileURLToPath(new URL(`../${module}`, import.meta.url));
    const child = fork(script, [], {
      execArgv: ["--import", "tsx"],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      ...(opts.cpus
        ? { execPath: "taskset", execArgv: ["-c", opts.cpus, process.execPath, "--import", "tsx"] }
        : {}),
    });
    const session = new GenSession(name, child);
    // Command 0 is the module's "ready".
    await new Promise((resolve, reject) => session.waiting.set(0, { resolve, reject }));
    return session;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends a command; resolves with the generator's answer. */
  call<R>(cmd: { kind: string } & Record<string, unknown>, timeoutMs = 300_000): Promise<R> {
    if (this.exited) return Promise.reject(new Error(`generator ${this.name} has exited`));
    const rid = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(new Error(`generator ${this.name}: ${cmd.kind} timed out`));
      }, timeoutMs);
      this.waiting.set(rid, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as R);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ rid, cmd });
    });
  }

  /** Ends the process (asks, then kills after 5 s) and waits for it. */
  stop(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.send({ rid: -1, cmd: { kind: "exit" } });
      setTimeout(() => this.child.kill("SIGKILL"), 5000).unref();
    });
  }
}

/**
 * The generator side: call once at the top of a generator module. Answers each command
 * with `handle`'s result; exits on `exit`, when the parent disconnects, or after
 * `lifetimeMs` however busy it is.
 */
export function serveCommands(
  handle: (cmd: { kind: string } & Record<string, unknown>) => Promise<unknown>,
  lifetimeMs = 60 * 60 * 1000,
): void {
  if (!process.send) throw new Error("a generator module runs under bench/lib/gen-session.ts");
  const send = process.send.bind(process);
  setTimeout(() => process.exit(2), lifetimeMs).unref();
  process.on("disconnect", () => process.exit(0));
  process.on("message", (msg: { rid: number; cmd: { kind: string } & Record<string, unknown> }) => {
    if (msg.cmd.kind === "exit") {
      process.exit(0);
    }
    handle(msg.cmd).then(
      (value) => send({ rid: msg.rid, ok: true, value }),
      (err: unknown) =>
        send({
          rid: msg.rid,
          ok: false,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        }),
    );
  });
  send({ rid: 0, ok: true, value: null });
}
