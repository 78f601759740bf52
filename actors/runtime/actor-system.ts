/**
 * ActorSystem: how the transport reaches the actors, wherever they run. With W = 0 the
 * actors share the main thread; with W ≥ 1 each worker thread hosts the shards
 * `shard mod W`. Either way every output reaches the transport's Outlet in the order
 * the actor made it (a worker's port keeps order).
 */
import { Worker } from "node:worker_threads";
import type { ShardFence } from "../../core/ports.js";
import { okFrameHeadroom, packedIn, packResult } from "../../core/protocol.js";
import type { Envelope, Grant, Outcome, Outlet, Routed } from "../envelope.js";
import type { PresenceEntry } from "../presence.js";
import type { ActorHost } from "./actor-host.js";
import { shardOf, workerOfShard } from "./placement.js";

/** The transport's handle on the actors. */
export interface ActorSystem {
  /** Sends an envelope to its actor; the answer comes through the Outlet. */
  deliver(env: Routed): void;
  /** Resolves true when every thread's store (and, in a cluster, Redis) answers. */
  ready(): Promise<boolean>;
  /** Drains pending commits and stops the actors. */
  close(): Promise<void>;
  /** In a cluster: how the transport tells which topics its connections listen to. */
  readonly interest?: TopicInterest;
}

/** This node's own actors (on this thread or in workers), as a cluster node steers them. */
export interface LocalActors extends ActorSystem {
  /** Cluster: the shards this node owns now and their epochs (see ActorHost.setOwnedShards). */
  setOwnedShards(fences: ShardFence[]): void;
  /** Cluster hand-off: lets the actors of `shards` finish and commit, then drops them. */
  releaseShards(shards: number[]): Promise<void>;
  /** Ends every session whose id starts with `prefix` (sessions of a node that is gone). */
  purgeSessions(prefix: string): void;
  /** Applies presence entries made on another node. */
  applyPresence(list: PresenceEntry[]): void;
}

/**
 * The topics a node's connections listen to. In a cluster, events are made on the node
 * that owns their actor; this is how the others ask to receive them.
 */
export interface TopicInterest {
  /** Resolves once events of `topic` made anywhere reach this node's outlet. */
  want(topic: string): Promise<void>;
  /** No connection of this node listens to `topic` any more. */
  drop(topic: string): void;
  /** `handler` runs when events may have been missed (the bus was lost): clients must resume. */
  onResumeNeeded(handler: () => void): void;
  /**
   * `handler` runs when actors moved between nodes (a node joined or left); `moved` tells
   * which keys. Presence lives in user actors: the transport tells a moved user's actor
   * again about the sessions it holds.
   */
  onOwnersMoved(handler: (moved: (key: string) => boolean) => void): void;
  /** Starts the ids of this node's presence sessions, so that the sessions of a node that is gone can be ended. */
  readonly sessionPrefix: string;
}

/** How a node's own actors reach the rest of a cluster (all absent on a single node). */
export interface LocalActorHooks {
  /** Where actors' envelopes to other actors go; by default straight to the owning thread. */
  route?: (env: Routed) => void;
  /** Where presence changes made here go besides this node's other threads. */
  sharePresence?: (list: PresenceEntry[]) => void;
  /** Told when an actor loaded under a shard's epoch found it may not write any more (see ActorHostDeps.staleShard). */
  staleShard?: (stale: ShardFence) => void;
}

/** Actors on the calling thread (W = 0). */
export class LocalActorSystem implements LocalActors {
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

  setOwnedShards(fences: ShardFence[]): void {
    this.host.setOwnedShards(fences);
  }

  purgeSessions(prefix: string): void {
    this.host.purgeSessions(prefix);
  }

  applyPresence(list: PresenceEntry[]): void {
    this.host.applyPresence(list);
  }

  releaseShards(shards: number[]): Promise<void> {
    return this.host.releaseShards(shards);
  }
}

/** Messages from the main thread to a worker. */
export type ToWorker =
  | { t: "envs"; list: Routed[] }
  | { t: "presence"; list: PresenceEntry[] }
  | { t: "ping"; id: number }
  | { t: "owned"; fences: ShardFence[] }
  | { t: "release"; id: number; shards: number[] }
  | { t: "purge"; prefix: string }
  | { t: "close" };

/**
 * One output, as it crosses from a worker to the main thread. Encoded results and event
 * frames travel in the turn's one buffer (see PortOutlet), as their `at` and `size` in it;
 * an error outcome travels as itself.
 */
export type OutletRecord =
  | [kind: "r", callId: number, at: number, size: number, grant: Grant | undefined]
  | [kind: "e", callId: number, outcome: Outcome, grant: Grant | undefined]
  | [kind: "p", topic: string, at: number, size: number]
  | [kind: "v", userId: string, topic: string];

/** Messages from a worker to the main thread. */
export type FromWorker =
  | { t: "ready" }
  | { t: "failed"; message: string }
  | { t: "out"; list: OutletRecord[]; bytes: ArrayBuffer }
  | { t: "route"; list: Routed[] }
  | { t: "presence"; list: PresenceEntry[] }
  | { t: "pong"; id: number; ok: boolean }
  | { t: "released"; id: number }
  | { t: "stale"; stale: ShardFence }
  | { t: "closed" };

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
    else outlet.revoke(rec[1], rec[2]);
  }
}

/** Actors in W worker threads. */
export class WorkerActorSystem implements LocalActors {
  private readonly outboxes: Routed[][];
  private flushScheduled = false;
  private pingSeq = 0;
  private readonly pings = new Map<number, (ok: boolean) => void>();

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
          this.pings.get(msg.id)?.(msg.t === "released" || msg.ok);
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
    hooks?: LocalActorHooks;
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
            this.pings.set(id, () => resolve());
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

/**
 * An Outlet that records outputs and posts them to the main thread once per turn. The
 * turn's encoded results and event frames are copied into one buffer that is transferred,
 * not cloned: the main thread then gets views into it, instead of one cloned buffer (an
 * allocation each side, and garbage) per reply and per event.
 */
export class PortOutlet implements Outlet {
  private buffer: OutletRecord[] = [];
  private bytes = new Uint8Array(initialOutputBytes);
  private used = 0;
  private scheduled = false;

  constructor(private readonly post: (msg: FromWorker, transfer?: ArrayBuffer[]) => void) {}

  reply(callId: number, outcome: Outcome, grant?: Grant): void {
    if (!outcome.ok) {
      this.push(["e", callId, outcome, grant]);
      return;
    }
    // Encoded here, where the actors run, rather than on the main thread, which every
    // socket write goes through: under load it is the busiest thread (see PackedOutcome).
    // Room is left in front for the reply's frame header, which the main thread writes
    // there (`okFrameInPlace`) instead of copying the result into a new frame.
    const packed = packedIn(outcome.result) ?? packResult(outcome.result);
    const at = this.append(packed, okFrameHeadroom);
    this.push(["r", callId, at, packed.length, grant]);
  }

  publish(topic: string, frame: Uint8Array): void {
    this.push(["p", topic, this.append(frame, 0), frame.length]);
  }

  revoke(userId: string, topic: string): void {
    this.push(["v", userId, topic]);
  }

  /** Copies `data` into the turn's buffer after `gap` free bytes; returns where it starts. */
  private append(data: Uint8Array, gap: number): number {
    const at = this.used + gap;
    const end = at + data.length;
    if (end > this.bytes.length) {
      const grown = new Uint8Array(Math.max(end, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(data, at);
    this.used = end;
    return at;
  }

  private push(rec: OutletRecord): void {
    this.buffer.push(rec);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const list = this.buffer;
      const bytes = this.bytes.buffer.slice(0, this.used);
      this.buffer = [];
      this.used = 0;
      // A rare huge turn (a long member list) does not keep its buffer for good.
      if (this.bytes.length > maxKeptOutputBytes) this.bytes = new Uint8Array(initialOutputBytes);
      this.post({ t: "out", list, bytes }, [bytes]);
    });
  }
}

/** Bytes a turn's output buffer starts with; it grows as needed and is kept up to `maxKeptOutputBytes`. */
const initialOutputBytes = 256 * 1024;
const maxKeptOutputBytes = 4 * 1024 * 1024;

/** Re-export for the worker entry: envelopes carry their destination. */
export type { Envelope, Routed };
