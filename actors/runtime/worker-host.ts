/**
 * The body of an actor worker thread: receives envelopes from the main thread, hosts
 * the actors of its shards, and posts their outputs back in order (PortOutlet). The
 * composition root's worker script (app/actor-worker.ts) calls `runActorWorker` with the
 * ports it chose (the store; an external search index and an event stream when configured). The main thread's side is worker-actor-system.ts; the messages between
 * them are in thread-messages.ts.
 */
import { parentPort } from "node:worker_threads";
import type { Limits } from "../../core/config.js";
import type { Logger } from "../../core/logger.js";
import { okFrameHeadroom, packedIn, packResult } from "../../core/protocol.js";
import type { AccountChange, Grant, Outcome, Outlet } from "../envelope.js";
import { ActorHost, type HostPorts } from "./actor-host.js";
import type { FromWorker, OutletRecord, ToWorker } from "./thread-messages.js";

/** Runs this worker thread's actors over `openPorts()` until told to close. */
export async function runActorWorker(
  openPorts: () => Promise<HostPorts>,
  limits: Limits,
  maxCommitsInFlight: number,
  /** True for the actor keys this worker hosts (its shards). */
  owns: (key: string) => boolean,
  /** Virtual shards keys hash into. */
  shards: number,
  logger: Logger,
) {
  const port = parentPort;
  if (!port) throw new Error("runActorWorker must run in a worker thread");
  const post = (msg: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(msg, transfer);
  let ports: HostPorts;
  try {
    ports = await openPorts();
  } catch (err) {
    logger.error({ err }, "actor worker could not open its store");
    post({ t: "failed", message: err instanceof Error ? err.message : String(err) });
    return;
  }
  const { store } = ports;
  const host = new ActorHost({
    store,
    ...(ports.searchIndex ? { searchIndex: ports.searchIndex } : {}),
    ...(ports.stream ? { stream: ports.stream } : {}),
    ...(ports.streamFedIndex ? { streamFedIndex: ports.streamFedIndex } : {}),
    files: ports.files,
    outlet: new PortOutlet(post),
    limits,
    maxCommitsInFlight,
    owns,
    shards,
    // The target may live on another worker: the main thread knows the placement.
    route: batched((list) => post({ t: "route", list })),
    sharePresence: batched((list) => post({ t: "presence", list })),
    staleShard: (stale) => post({ t: "stale", stale }),
    logger,
  });
  port.on("message", (msg: ToWorker) => {
    if (msg.t === "envs") {
      for (const env of msg.list) host.deliver(env);
    } else if (msg.t === "presence") {
      host.applyPresence(msg.list);
    } else if (msg.t === "ping") {
      store.ping().then(
        () => post({ t: "pong", id: msg.id, ok: true, health: host.health }),
        () => post({ t: "pong", id: msg.id, ok: false, health: host.health }),
      );
    } else if (msg.t === "purge") {
      host.purgeSessions(msg.prefix);
    } else if (msg.t === "owned") {
      host.setOwnedShards(msg.fences);
    } else if (msg.t === "release") {
      void host.releaseShards(msg.shards).then(() => post({ t: "released", id: msg.id }));
    } else if (msg.t === "close") {
      void host
        .close()
        .then(() => ports.closeExtras())
        .then(() => store.close())
        .finally(() => post({ t: "closed" }));
    }
  });
  post({ t: "ready" });
}

/** Collects items and hands them over once per turn, in order: one postMessage, not one per item. */
export function batched<T>(send: (list: T[]) => void): (item: T) => void {
  let list: T[] = [];
  return (item) => {
    list.push(item);
    if (list.length > 1) return;
    queueMicrotask(() => {
      const full = list;
      list = [];
      send(full);
    });
  };
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

  accountChanged(userId: string, change: AccountChange): void {
    this.push(["a", userId, change]);
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
