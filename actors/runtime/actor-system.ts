/**
 * ActorSystem: how the transport reaches the actors, wherever they run. With W = 0 the
 * actors share the main thread; with W ≥ 1 each worker thread hosts the shards
 * `shard mod W`. Either way every output reaches the transport's Outlet in the order
 * the actor made it (a worker's port keeps order).
 */
import { Worker } from "node:worker_threads";
import type { Envelope, Grant, Outcome, Outlet } from "../envelope.js";
import type { PresenceEntry } from "../presence.js";
import type { ActorHost, Routed } from "./actor-host.js";
import { shardOf, workerOfShard } from "./placement.js";

/** The transport's handle on the actors. */
export interface ActorSystem {
  /** Sends an envelope to its actor; the answer comes through the Outlet. */
  deliver(env: Routed): void;
  /** Resolves true when every thread's store answers. */
  ready(): Promise<boolean>;
  /** Drains pending commits and stops the actors. */
  close(): Promise<void>;
}

/** Actors on the calling thread (W = 0). */
export class LocalActorSystem implements ActorSystem {
  constructor(
    private readonly host: ActorHost,
    private readonly ping: () => Promise<void>,
    private readonly closeStore: () => Promise<void>,
  ) {}

  deliver(env: Routed): void {
    this.host.deliver(env);
  }

  async ready(): Promise<boolean> {
    return this.ping().then(
      () => true,
      () => false,
    );
  }

  async close(): Promise<void> {
    await this.host.close();
    await this.closeStore();
  }
}

/** Messages from the main thread to a worker. */
export type ToWorker =
  | { t: "envs"; list: Routed[] }
  | { t: "presence"; list: PresenceEntry[] }
  | { t: "ping"; id: number }
  | { t: "close" };

/** One output, as it crosses from a worker to the main thread. */
export type OutletRecord =
  | [kind: "r", callId: number, outcome: Outcome, grant: Grant | undefined]
  | [kind: "p", topic: string, frame: Uint8Array]
  | [kind: "v", userId: string, topic: string];

/** Messages from a worker to the main thread. */
export type FromWorker =
  | { t: "ready" }
  | { t: "failed"; message: string }
  | { t: "out"; list: OutletRecord[] }
  | { t: "route"; list: Routed[] }
  | { t: "presence"; list: PresenceEntry[] }
  | { t: "pong"; id: number; ok: boolean }
  | { t: "closed" };

/** Replays outlet records, in order, onto an Outlet. */
export function replayOutlet(outlet: Outlet, list: OutletRecord[]): void {
  for (const rec of list) {
    if (rec[0] === "r") outlet.reply(rec[1], rec[2], rec[3]);
    else if (rec[0] === "p") outlet.publish(rec[1], rec[2]);
    else outlet.revoke(rec[1], rec[2]);
  }
}

/** Actors in W worker threads. */
export class WorkerActorSystem implements ActorSystem {
  private readonly outboxes: Routed[][];
  private flushScheduled = false;
  private pingSeq = 0;
  private readonly pings = new Map<number, (ok: boolean) => void>();

  private constructor(
    private readonly workers: Worker[],
    private readonly shards: number,
    outlet: Outlet,
  ) {
    this.outboxes = workers.map(() => []);
    for (const w of workers) {
      w.on("message", (msg: FromWorker) => {
        if (msg.t === "out") replayOutlet(outlet, msg.list);
        else if (msg.t === "route") {
          // An actor's envelope to another actor, possibly on another worker.
          for (const env of msg.list) this.deliver(env);
        } else if (msg.t === "presence") {
          // The sender's book has it already; every other worker's book gets it in order.
          for (const other of workers) {
            if (other !== w) other.postMessage({ t: "presence", list: msg.list } satisfies ToWorker);
          }
        } else if (msg.t === "pong") {
          this.pings.get(msg.id)?.(msg.ok);
          this.pings.delete(msg.id);
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
      w.on("error", (err) => console.error("actor worker failed:", err));
    }
    return new WorkerActorSystem(workers, opts.shards, opts.outlet);
  }

  deliver(env: Routed): void {
    const index = workerOfShard(shardOf(env.key, this.shards), this.workers.length);
    this.outboxes[index]!.push(env);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // One postMessage per worker per turn: a structured clone per envelope costs more.
      queueMicrotask(() => this.flush());
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

  async ready(): Promise<boolean> {
    const answers = this.workers.map(
      (w) =>
        new Promise<boolean>((resolve) => {
          const id = ++this.pingSeq;
          const timer = setTimeout(() => {
            this.pings.delete(id);
            resolve(false);
          }, 2000);
          this.pings.set(id, (ok) => {
            clearTimeout(timer);
            resolve(ok);
          });
          w.postMessage({ t: "ping", id } satisfies ToWorker);
        }),
    );
    return (await Promise.all(answers)).every(Boolean);
  }

  async close(): Promise<void> {
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

/** An Outlet that records outputs and posts them to the main thread once per turn. */
export class PortOutlet implements Outlet {
  private buffer: OutletRecord[] = [];
  private scheduled = false;

  constructor(private readonly post: (msg: FromWorker) => void) {}

  reply(callId: number, outcome: Outcome, grant?: Grant): void {
    this.push(["r", callId, outcome, grant]);
  }

  publish(topic: string, frame: Uint8Array): void {
    this.push(["p", topic, frame]);
  }

  revoke(userId: string, topic: string): void {
    this.push(["v", userId, topic]);
  }

  private push(rec: OutletRecord): void {
    this.buffer.push(rec);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const list = this.buffer;
      this.buffer = [];
      this.post({ t: "out", list });
    });
  }
}

/** Re-export for the worker entry: envelopes carry their destination. */
export type { Envelope, Routed };
