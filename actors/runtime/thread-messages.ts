/**
 * Every message between the main thread and an actor worker thread, in one place. The
 * main thread's side is WorkerActorSystem (worker-actor-system.ts), the worker's side
 * runActorWorker and PortOutlet (worker-host.ts). Each side posts through its port, which
 * keeps order: envelopes reach a worker in the order the main thread sent them, and a
 * worker's outputs reach the Outlet in the order its actors made them.
 */
import type { ShardFence } from "../../core/ports.js";
import type { AccountChange, Grant, Outcome, Routed } from "../envelope.js";
import type { PresenceEntry } from "../user/presence.js";
import type { FollowingHealth } from "./actor-system.js";

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
  | [kind: "v", userId: string, topic: string]
  | [kind: "a", userId: string, change: AccountChange];

/** Messages from a worker to the main thread. */
export type FromWorker =
  | { t: "ready" }
  | { t: "failed"; message: string }
  | { t: "out"; list: OutletRecord[]; bytes: ArrayBuffer }
  | { t: "route"; list: Routed[] }
  | { t: "presence"; list: PresenceEntry[] }
  | { t: "pong"; id: number; ok: boolean; health: FollowingHealth }
  | { t: "released"; id: number }
  | { t: "stale"; stale: ShardFence }
  | { t: "closed" };
