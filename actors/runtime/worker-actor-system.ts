/**
 * The main thread's side of the actor worker threads (W ≥ 1): it starts the workers,
 * batches envelopes to each once per pass of the event loop, and replays what the
 * workers' actors output onto the transport's Outlet. The worker's side is worker-host.ts;
 * the messages between them are in thread-messages.ts.
 */
import { Worker } from "node:worker_threads";
import { type Logger, silentLogger } from "../../core/logger.js";
import type { ShardFence } from "../../core/ports.js";
import type { Outlet, Routed } from "../envelope.js";
import type { PresenceEntry } from "../user/presence.js";
import {
  type LocalActorHooks,
  type LocalActors,
  mergeFollowingHealth,
  type Readiness,
} from "./actor-system.js";
import { shardOf, workerOfShard } from "./placement.js";
import type { FromWorker, OutletRecord, ToWorker } from "./thread-messages.js";

/** Replays outlet records, in order, onto an Outlet; `bytes` is the buffer their encoded parts are in. */
export function replayOutlet(outlet: Outlet, list: OutletRecord[], bytes: ArrayBuffer): void {
  for (const rec of list) {
    if (rec[0] === "r") {
      outlet.reply(
        rec[1],
        { ok: true, packed: new Uint8Array(bytes, rec[2], rec[3]), headroom: true },
        rec[4],
      );
    } else if (rec[0] === "e") outlet.reply(rec[1], rec[2], rec[3]);
    else if (rec[0] === "p") outlet.publish(rec[1], new Uint8Array(bytes, rec[2], rec[3]));
    else if (rec[0] === "v") outlet.revoke(rec[1], rec[2]);
    else outlet.accountChanged(rec[1], rec[2]);
  }
}

/** Actors in W worker threads. */
export class WorkerActorSystem implements LocalActors {
  private readonly outboxes: Routed[][];
  private flushScheduled = false;
  private pingSeq = 0;
  /** Answers awaited from the workers (a ping's pong, a release's released), by request id. */
  private readonly awaited = new Map<number, (answer: FromWorker) => void>();

  private constructor(
    private readonly workers: Worker[],
    private readonly shards: number,
    outlet: Outlet,
    hooks: LocalActorHooks,
  ) {
    this.outboxes = workers.map(() => []);
    for (const w of workers) {
      w.on("message", (msg: FromWorker) => {
        if (msg.t === "out") replayOutlet(outlet, msg.list, msg.bytes);
        else if (msg.t === "route") {
          // An actor's envelope to another actor, possibly on another worker (or node).
          for (const env of msg.list) (hooks.route ?? ((e: Routed) => this.deliver(e)))(env);
        } else if (msg.t === "presence") {
          // The sender's book has it already; every other worker's book gets it in order.
          for (const other of workers) {
            if (other !== w) other.postMessage({ t: "presence", list: msg.list } satisfies ToWorker);
          }
          hooks.sharePresence?.(msg.list);
        } else if (msg.t === "stale") {
          hooks.staleShard?.(msg.stale);
        } else if (msg.t === "pong" || msg.t === "released") {
          this.awaited.get(msg.id)?.(msg);
          this.awaited.delete(msg.id);
        }
      });
    }
  }

  /**
   * Starts `count` workers running `script` with `workerData`, and resolves once each has
   * loaded its store. Rejects with the first worker's failure.
   */
  static async start(opts: {
    script: URL;
    count: number;
    shards: number;
    workerData: unknown;
    outlet: Outlet;
    hooks?: LocalActorHooks;
    /** Where a worker's uncaught error is written. */
    logger?: Logger;
  }): Promise<WorkerActorSystem> {
    const workers = Array.from(
      { length: opts.count },
      (_, index) =>
        new Worker(opts.script, { workerData: { index, count: opts.count, config: opts.workerData } }),
    );
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const onMessage = (msg: FromWorker) => {
              if (msg.t === "ready") resolve();
              else if (msg.t === "failed") reject(new Error(msg.message));
              else return;
              w.off("message", onMessage);
            };
            w.on("message", onMessage);
            w.once("error", reject);
            w.once("exit", (code) => reject(new Error(`actor worker exited with code ${code}`)));
          }),
      ),
    ).catch(async (err) => {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    });
    for (const w of workers) {
      w.removeAllListeners("exit");
      w.removeAllListeners("error");
      w.on("error", (err) => (opts.logger ?? silentLogger).error({ err }, "actor worker failed"));
    }
    return new WorkerActorSystem(workers, opts.shards, opts.outlet, opts.hooks ?? {});
  }

  deliver(env: Routed): void {
    const index = workerOfShard(shardOf(env.key, this.shards), this.workers.length);
    this.outboxes[index]!.push(env);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // One postMessage per worker per pass of the event loop: each one wakes the worker
      // (a system call), and uWS hands over every frame that arrived as a turn of its own,
      // so a flush at the end of the turn would post each request by itself.
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    for (let i = 0; i < this.workers.length; i++) {
      const list = this.outboxes[i]!;
      if (list.length === 0) continue;
      this.outboxes[i] = [];
      this.workers[i]!.postMessage({ t: "envs", list } satisfies ToWorker);
    }
  }

  async ready(): Promise<Readiness> {
    const answers = await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<Extract<FromWorker, { t: "pong" }> | null>((resolve) => {
            const id = ++this.pingSeq;
            const timer = setTimeout(() => {
              this.awaited.delete(id);
              resolve(null);
            }, 2000);
            this.awaited.set(id, (answer) => {
              clearTimeout(timer);
              resolve(answer.t === "pong" ? answer : null);
            });
            w.postMessage({ t: "ping", id } satisfies ToWorker);
          }),
      ),
    );
    const up = answers.every((a) => a?.ok === true);
    const health = mergeFollowingHealth(answers.flatMap((a) => (a ? [a.health] : [])));
    return { ready: up, checks: { store: up ? "up" : "down", ...health } };
  }

  purgeSessions(prefix: string): void {
    this.flush();
    for (const w of this.workers) w.postMessage({ t: "purge", prefix } satisfies ToWorker);
  }

  applyPresence(list: PresenceEntry[]): void {
    for (const w of this.workers) w.postMessage({ t: "presence", list } satisfies ToWorker);
  }

  setOwnedShards(fences: ShardFence[]): void {
    // Through the same ports as the envelopes: a worker applies it in order with them.
    this.flush();
    for (const w of this.workers) w.postMessage({ t: "owned", fences } satisfies ToWorker);
  }

  async releaseShards(shards: number[]): Promise<void> {
    this.flush();
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const id = ++this.pingSeq;
            this.awaited.set(id, () => resolve());
            w.postMessage({ t: "release", id, shards } satisfies ToWorker);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    // Envelopes still waiting for the end of this pass go first, as with every other message.
    this.flush();
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void w.terminate().then(() => resolve()), 15_000);
            w.on("message", (msg: FromWorker) => {
              if (msg.t !== "closed") return;
              clearTimeout(timer);
              void w.terminate().then(() => resolve());
            });
            w.postMessage({ t: "close" } satisfies ToWorker);
          }),
      ),
    );
  }
}
