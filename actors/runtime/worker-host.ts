/**
 * The body of an actor worker thread: receives envelopes from the main thread, hosts
 * the actors of its shards, and posts their outputs back in order. The composition
 * root's worker script calls `runActorWorker` with the store it chose.
 */
import { parentPort } from "node:worker_threads";
import type { Limits } from "../../core/config.js";
import type { Store } from "../../core/ports.js";
import { ActorHost } from "./actor-host.js";
import { type FromWorker, PortOutlet, type ToWorker } from "./actor-system.js";

/** Runs this worker thread's actors over `openStore()` until told to close. */
export async function runActorWorker(
  openStore: () => Promise<Store>,
  limits: Limits,
  maxCommitsInFlight: number,
  /** True for the actor keys this worker hosts (its shards). */
  owns: (key: string) => boolean,
  /** Virtual shards keys hash into. */
  shards: number,
) {
  const port = parentPort;
  if (!port) throw new Error("runActorWorker must run in a worker thread");
  const post = (msg: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(msg, transfer);
  let store: Store;
  try {
    store = await openStore();
  } catch (err) {
    post({ t: "failed", message: err instanceof Error ? err.message : String(err) });
    return;
  }
  const host = new ActorHost({
    store,
    outlet: new PortOutlet(post),
    limits,
    maxCommitsInFlight,
    owns,
    shards,
    // The target may live on another worker: the main thread knows the placement.
    route: batched((list) => post({ t: "route", list })),
    sharePresence: batched((list) => post({ t: "presence", list })),
    staleShard: (stale) => post({ t: "stale", stale }),
  });
  port.on("message", (msg: ToWorker) => {
    if (msg.t === "envs") {
      for (const env of msg.list) host.deliver(env);
    } else if (msg.t === "presence") {
      host.applyPresence(msg.list);
    } else if (msg.t === "ping") {
      store.ping().then(
        () => post({ t: "pong", id: msg.id, ok: true }),
        () => post({ t: "pong", id: msg.id, ok: false }),
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
