/**
 * ActorSystem: how the transport reaches the actors, wherever they run. With W = 0 the
 * actors share the main thread (LocalActorSystem, local-actor-system.ts); with W ≥ 1 each
 * worker thread hosts the shards `shard mod W` (WorkerActorSystem on the main thread,
 * worker-actor-system.ts; the worker's side in worker-host.ts; what crosses between them
 * in thread-messages.ts). Either way every output reaches the transport's Outlet in the
 * order the actor made it (a worker's port keeps order). In a cluster, ClusterNode
 * (cluster/cluster-node.ts) wraps this node's own actors. docs/architecture.md follows a
 * request through them.
 */
import type { ShardFence } from "../../core/ports.js";
import type { Routed } from "../envelope.js";
import type { PresenceEntry } from "../user/presence.js";

/** The transport's handle on the actors. */
export interface ActorSystem {
  /** Sends an envelope to its actor; the answer comes through the Outlet. */
  deliver(env: Routed): void;
  /** Ready when every thread's store (and, in a cluster, Redis) answers; with how search and the event stream are doing. */
  ready(): Promise<Readiness>;
  /** Drains pending commits and stops the actors. */
  close(): Promise<void>;
  /** In a cluster: how the transport tells which topics its connections listen to. */
  readonly interest?: TopicInterest;
  /** In a cluster: how a sign-out reaches the connections of the session on every node. */
  readonly signOuts?: SignOutNotices;
}

/**
 * Sign-outs told to every node of a cluster: each node closes its own connections of the
 * signed-out session and refuses its tokens from then on.
 */
export interface SignOutNotices {
  /** Tells every other node that sign-in session `signInSession` of `userId` ended. */
  announce(userId: string, signInSession: string): void;
  /** `handler` runs for each sign-out another node announced. */
  onSignOut(handler: (userId: string, signInSession: string) => void): void;
}

/**
 * What `GET /ready` answers. `ready` is whether the node can serve at all (its store, and
 * in a cluster Redis); search and the event stream degrade without making it unready: search
 * answers from Postgres while OpenSearch is down, and the relay catches up once Kafka is back.
 */
export interface Readiness {
  ready: boolean;
  checks: ReadinessChecks;
}

export interface ReadinessChecks {
  store: "up" | "down";
  /** The follower's state as FollowingHealth says, summed over the node's threads. */
  search: FollowingHealth["search"];
  stream?: FollowingHealth["stream"];
  cluster?: { registry: "up" | "down"; bus: "up" | "down" };
}

/** How one thread's log followers are doing (ActorHost.health). */
export interface FollowingHealth {
  /**
   * The index that answers searches; `degraded` while it fails (answers come from Postgres)
   * or cannot be written (its lag grows). `lagEvents`: channel events not indexed yet.
   */
  search: { index: "postgres" | "opensearch"; status: "ok" | "degraded"; lagEvents: number };
  /** The Kafka relay, when there is one; `failing` while Kafka refuses, `lagEvents` not relayed yet. */
  stream?: { status: "ok" | "failing"; lagEvents: number };
}

/** The health of a node's threads as one: degraded if any is, lags summed. */
export function mergeFollowingHealth(list: readonly FollowingHealth[]): FollowingHealth {
  const first = list[0];
  if (!first) return { search: { index: "postgres", status: "ok", lagEvents: 0 } };
  const search = {
    index: first.search.index,
    status: list.some((h) => h.search.status === "degraded") ? ("degraded" as const) : ("ok" as const),
    lagEvents: list.reduce((sum, h) => sum + h.search.lagEvents, 0),
  };
  if (!first.stream) return { search };
  const streams = list.flatMap((h) => (h.stream ? [h.stream] : []));
  return {
    search,
    stream: {
      status: streams.some((s) => s.status === "failing") ? "failing" : "ok",
      lagEvents: streams.reduce((sum, s) => sum + s.lagEvents, 0),
    },
  };
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
