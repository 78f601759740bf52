/**
 * ClusterNode: this node's part of a cluster of Colink nodes that share Postgres and a
 * registry/bus (Redis). It wraps the node's own actor system and decides, per envelope,
 * whether the actor lives here or on another node.
 *
 * Ownership: virtual shards map to live nodes by rendezvous hashing; a node serves a
 * shard only while it holds the shard's lease (renewed every TTL/3) and the fencing epoch
 * it took in Postgres when it won the lease, which every commit carries. It stops serving
 * a shard as soon as it cannot be sure of its lease any more (renewal failed for most of
 * a TTL), before another node can win it; a commit made after that anyway fails the fence.
 *
 * Routing: an envelope for a shard owned here goes to the local actors; for a shard this
 * node is about to own (lease not won yet), it waits here; otherwise it is forwarded over
 * the bus to the owner, whose reply comes back the same way. Replies to forwarded calls,
 * published events and revocations leave through the bus in the order the actors made
 * them; each node delivers events to its own subscribers.
 *
 * Hand-off: a node that joins or leaves changes the rendezvous owners. The old owner stops
 * taking new envelopes for the shards it loses (they go to the new owner, which holds
 * them), lets their actors finish and commit, then releases the leases and says so; the
 * new owner wins the leases, takes new epochs, and serves what it held.
 */
import { decode, encode } from "@msgpack/msgpack";
import { fail } from "../../../core/errors.js";
import type { ClusterRegistry, NodeBus, ShardFence, ShardFencing } from "../../../core/ports.js";
import { type Answer, type Grant, noReply, type Outcome, type Outlet, type Routed } from "../../envelope.js";
import type { PresenceEntry } from "../../presence.js";
import type { ActorSystem, LocalActorHooks, LocalActors, TopicInterest } from "../actor-system.js";
import { shardOf } from "../placement.js";
import { ownerOfShard } from "./rendezvous.js";

/** What a node needs to join a cluster. */
export interface ClusterNodeOptions {
  nodeId: string;
  shards: number;
  leaseTtlMs: number;
  bus: NodeBus;
  registry: ClusterRegistry;
  fencing: ShardFencing;
  /** The transport's outlet: local replies, local event delivery, local revocations. */
  outlet: Outlet;
  log?: (line: string) => void;
}

/** Starts this node's own actors, answering through `outlet` and routing actor-to-actor envelopes through `route`. */
export type StartLocalActors = (outlet: Outlet, hooks: Required<LocalActorHooks>) => Promise<LocalActors>;

/** Messages to one node. */
type NodeMessage =
  | { t: "req"; from: string; env: Routed; hops: number }
  | { t: "rep"; callId: number; outcome: Answer; grant?: Grant };

/** Messages to every node. */
type Notice =
  | { t: "revoke"; userId: string; topic: string }
  | { t: "released"; node: string; shards: number[] }
  | { t: "left"; node: string }
  | { t: "presence"; list: PresenceEntry[] };

/** Bus topics. */
const inboxOf = (nodeId: string) => `n:${nodeId}`;
const everyone = "all";
const eventTopic = (topic: string) => `t:${topic}`;

/** Call ids for calls forwarded to this node: above the transport's (1 … 2^31-1). */
const firstRemoteCallId = 0x8000_0000;

/** An envelope waiting for this node to win its shard. */
interface Held {
  env: Routed;
  from: string;
  hops: number;
  until: number;
}

const encodeOptions = { ignoreUndefined: true } as const;

/** This node's membership, shard ownership and routing. */
export class ClusterNode implements ActorSystem, TopicInterest {
  private inner!: LocalActors;
  private readonly wrapped: Outlet;
  /** Live nodes, sorted, as of the last heartbeat. */
  private live: string[] = [];
  /** Shards whose lease this node holds, with the epoch it took. */
  private readonly owned = new Map<number, number>();
  /** Owned shards being handed off: no new envelopes go to their actors. */
  private readonly releasing = new Set<number>();
  /** Envelopes waiting for this node to win their shard. */
  private readonly held = new Map<number, Held[]>();
  /** Calls forwarded to this node, by the local call id: who asked, and their call id. */
  private readonly remoteCalls = new Map<number, { from: string; callId: number }>();
  private nextRemoteCallId = firstRemoteCallId;
  /** Calls this node forwarded, by call id, until the reply or the timeout. */
  private readonly forwarded = new Map<number, NodeJS.Timeout>();
  /** Bus topics this node listens on for its own subscribers. */
  private readonly topics = new Map<string, Promise<void>>();
  /** Until when the held leases are certainly valid (renewal started before + TTL - margin). */
  private validUntil = 0;
  private expiryTimer: NodeJS.Timeout | null = null;
  private readonly tickTimer: NodeJS.Timeout;
  private ticking: Promise<void> | null = null;
  private tickAgain = false;
  private closing = false;
  private busUp = true;
  private resumeHandler: () => void = () => {};
  private ownersMovedHandler: (moved: (key: string) => boolean) => void = () => {};
  private readonly holdMs: number;
  private readonly forwardTimeoutMs: number;

  private constructor(private readonly opts: ClusterNodeOptions) {
    this.holdMs = opts.leaseTtlMs * 2 + 2000;
    this.forwardTimeoutMs = this.holdMs + 3000;
    const { outlet, bus } = opts;
    this.wrapped = {
      reply: (callId, outcome, grant) => {
        const remote = this.remoteCalls.get(callId);
        if (remote === undefined) return outlet.reply(callId, outcome, grant);
        this.remoteCalls.delete(callId);
        this.answer(remote.from, remote.callId, outcome, grant);
      },
      publish: (topic, frame) => {
        outlet.publish(topic, frame);
        bus.publish(eventTopic(topic), frame).catch(() => {});
      },
      revoke: (userId, topic) => {
        outlet.revoke(userId, topic);
        this.notify({ t: "revoke", userId, topic });
      },
    };
    this.tickTimer = setInterval(() => this.tick(), Math.max(100, Math.floor(opts.leaseTtlMs / 3)));
    this.tickTimer.unref();
  }

  /** Joins the cluster: starts the local actors, listens on the bus, takes a first share of shards. */
  static async start(opts: ClusterNodeOptions, startLocal: StartLocalActors): Promise<ClusterNode> {
    const node = new ClusterNode(opts);
    node.inner = await startLocal(node.wrapped, {
      route: (env) => node.deliver(env),
      sharePresence: (list) => {
        node.notify({ t: "presence", list });
        opts.registry.savePresence(list).catch(() => {});
      },
      // Another node fenced this one out of a shard it thought it owned: stop serving it.
      // An actor of this node's own older tenure says nothing about the current one (after
      // losing a lease and taking the shard again, its leftover work fails the fence); giving
      // the shard up for it would drop the new tenure's actors, whose leftovers would then do
      // the same, over and over while requests keep coming.
      staleShard: ({ shard, epoch }) => {
        if (node.owned.get(shard) !== epoch) return;
        node.lose([shard], "a newer owner fenced it");
        void node.tick();
      },
    });
    node.inner.setOwnedShards([]);
    opts.bus.onMessage((topic, payload) => node.onBusMessage(topic, payload));
    opts.bus.onConnection((up) => node.onBusConnection(up));
    await opts.bus.subscribe(inboxOf(opts.nodeId));
    await opts.bus.subscribe(everyone);
    // Who is online already (changes from now on arrive on the bus).
    node.inner.applyPresence(await opts.registry.loadPresence());
    await node.tick();
    return node;
  }

  get interest(): TopicInterest {
    return this;
  }

  /** Called when the bus came back after a loss: events may have been missed, clients must resume. */
  onResumeNeeded(handler: () => void): void {
    this.resumeHandler = handler;
  }

  onOwnersMoved(handler: (moved: (key: string) => boolean) => void): void {
    this.ownersMovedHandler = handler;
  }

  get sessionPrefix(): string {
    return `${this.opts.nodeId}/`;
  }

  /** Makes sure events of `topic` published on other nodes reach this node. */
  want(topic: string): Promise<void> {
    let ready = this.topics.get(topic);
    if (!ready) {
      ready = this.opts.bus.subscribe(eventTopic(topic));
      // A failed subscribe is retried by the next want.
      ready.catch(() => this.topics.delete(topic));
      this.topics.set(topic, ready);
    }
    return ready;
  }

  /** This node has no subscriber of `topic` left. */
  drop(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.opts.bus.unsubscribe(eventTopic(topic)).catch(() => {});
  }

  deliver(env: Routed): void {
    this.route(env, this.opts.nodeId, 0);
  }

  async ready(): Promise<boolean> {
    const registry = this.opts.registry.ping().then(
      () => true,
      () => false,
    );
    return (await this.inner.ready()) && (await registry) && this.busUp;
  }

  /** Leaves the cluster: hands every shard off, then stops the local actors. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.tickTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    await this.ticking;
    const { registry, nodeId } = this.opts;
    await registry.leave(nodeId).catch(() => {});
    this.notify({ t: "left", node: nodeId });
    this.live = this.live.filter((n) => n !== nodeId);
    await this.handOff([...this.owned.keys()]);
    for (const timer of this.forwarded.values()) clearTimeout(timer);
    await this.inner.close();
    await registry.close();
  }

  // Routing

  /** Sends an envelope to its actor: here, held here, or on its owner. `from` waits for the reply. */
  private route(env: Routed, from: string, hops: number): void {
    const shard = shardOf(env.key, this.opts.shards);
    if (this.owned.has(shard) && !this.releasing.has(shard)) {
      if (from === this.opts.nodeId || env.callId === noReply) {
        this.inner.deliver(env);
        return;
      }
      const callId = this.nextRemoteCallId++;
      if (this.nextRemoteCallId > 0xffff_ffff) this.nextRemoteCallId = firstRemoteCallId;
      this.remoteCalls.set(callId, { from, callId: env.callId });
      this.inner.deliver({ ...env, callId });
      return;
    }
    // A closing node has taken itself out of `live`: what it no longer serves goes to the next owner.
    const owner = ownerOfShard(shard, this.live);
    if (owner === this.opts.nodeId) {
      const list = this.held.get(shard) ?? [];
      list.push({ env, from, hops, until: Date.now() + this.holdMs });
      this.held.set(shard, list);
      return;
    }
    if (owner === null || hops >= 2) {
      this.answer(from, env.callId, unavailable("no node serves this channel now, retry"));
      return;
    }
    this.forward(owner, env, from, hops + 1);
  }

  private forward(owner: string, env: Routed, from: string, hops: number): void {
    const { callId } = env;
    if (from === this.opts.nodeId && callId !== noReply) {
      const timer = setTimeout(() => {
        this.forwarded.delete(callId);
        this.opts.outlet.reply(callId, unavailable("the channel's node did not answer in time, retry"));
      }, this.forwardTimeoutMs);
      timer.unref();
      this.forwarded.set(callId, timer);
    }
    const message: NodeMessage = { t: "req", from, env, hops };
    this.opts.bus.publish(inboxOf(owner), encode(message, encodeOptions)).then(
      (heard) => {
        if (heard === 0) this.answer(from, callId, unavailable("the channel's node is gone, retry"));
      },
      () => this.answer(from, callId, unavailable("the cluster bus is unavailable, retry")),
    );
  }

  /** Answers a call made on node `from`. */
  private answer(from: string, callId: number, outcome: Answer, grant?: Grant): void {
    if (callId === noReply) return;
    if (from === this.opts.nodeId) {
      const timer = this.forwarded.get(callId);
      if (timer) {
        clearTimeout(timer);
        this.forwarded.delete(callId);
      }
      this.opts.outlet.reply(callId, outcome, grant);
      return;
    }
    // `headroom` speaks of a buffer of this process: the bytes reach the asking node in
    // another one, so they cross as a plain packed result.
    const sent: Answer = "packed" in outcome ? { ok: true, packed: outcome.packed } : outcome;
    const message: NodeMessage = grant
      ? { t: "rep", callId, outcome: sent, grant }
      : { t: "rep", callId, outcome: sent };
    // A lost reply times out on the asking node.
    this.opts.bus.publish(inboxOf(from), encode(message, encodeOptions)).catch(() => {});
  }

  private notify(notice: Notice): void {
    this.opts.bus.publish(everyone, encode(notice, encodeOptions)).catch(() => {});
  }

  private onBusMessage(topic: string, payload: Uint8Array): void {
    if (topic.startsWith("t:")) {
      this.opts.outlet.publish(topic.slice(2), payload);
      return;
    }
    let message: NodeMessage | Notice;
    try {
      message = decode(payload) as NodeMessage | Notice;
    } catch {
      return;
    }
    switch (message.t) {
      case "req":
        this.route(message.env, message.from, message.hops);
        break;
      case "rep":
        // Only calls still waiting: a reply after the timeout is dropped.
        if (this.forwarded.has(message.callId)) {
          this.answer(this.opts.nodeId, message.callId, message.outcome, message.grant);
        }
        break;
      case "revoke":
        this.opts.outlet.revoke(message.userId, message.topic);
        break;
      case "presence":
        this.inner.applyPresence(message.list);
        break;
      case "released":
      case "left":
        // Shards may be free for this node now: look at once rather than at the next beat.
        void this.tick();
        break;
    }
  }

  private onBusConnection(up: boolean): void {
    const wasUp = this.busUp;
    this.busUp = up;
    if (up && !wasUp) {
      this.opts.log?.("cluster bus is back; clients resume");
      this.resumeHandler();
      void this.tick();
    } else if (!up && wasUp) {
      this.opts.log?.("cluster bus lost");
    }
  }

  // Ownership

  /** One heartbeat: membership, renewals, hand-offs and acquisitions. Runs one at a time. */
  private tick(): Promise<void> {
    if (this.ticking) {
      this.tickAgain = true;
      return this.ticking;
    }
    this.ticking = this.beat()
      .catch((err: unknown) => this.opts.log?.(`cluster heartbeat failed: ${(err as Error).message}`))
      .finally(() => {
        this.ticking = null;
        this.expireHeld();
        if (this.tickAgain && !this.closing) {
          this.tickAgain = false;
          void this.tick();
        }
      });
    return this.ticking;
  }

  private async beat(): Promise<void> {
    if (this.closing) return;
    const { registry, nodeId, leaseTtlMs } = this.opts;
    const started = Date.now();
    const before = this.live;
    this.live = (await registry.heartbeat(nodeId, leaseTtlMs)).sort();
    this.membershipChanged(before, this.live);
    const held = [...this.owned.keys()];
    const kept = new Set(await registry.renew(nodeId, held, leaseTtlMs));
    this.extendValidity(started);
    const lost = held.filter((s) => !kept.has(s));
    if (lost.length > 0) this.lose(lost, "lease lost");

    const desired = new Set<number>();
    for (let s = 0; s < this.opts.shards; s++) {
      if (ownerOfShard(s, this.live) === nodeId) desired.add(s);
    }
    const leaving = [...this.owned.keys()].filter((s) => !desired.has(s) && !this.releasing.has(s));
    if (leaving.length > 0) void this.handOff(leaving);

    const wanted = [...desired].filter((s) => !this.owned.has(s));
    if (wanted.length === 0 || this.closing) return;
    const won = await registry.acquire(nodeId, wanted, leaseTtlMs);
    if (won.length === 0) return;
    let fences: ShardFence[];
    try {
      fences = await this.opts.fencing.takeShards(won);
    } catch (err) {
      await registry.release(nodeId, won).catch(() => {});
      throw err;
    }
    await registry.stamp(nodeId, fences, leaseTtlMs).catch(() => {});
    for (const f of fences) this.owned.set(f.shard, f.epoch);
    this.publishOwned();
    this.opts.log?.(`took ${fences.length} shard(s); serving ${this.owned.size}`);
    for (const f of fences) this.releaseHeld(f.shard);
  }

  /**
   * A node that is gone takes its sessions with it; users whose actor moved are told
   * again about the sessions this node holds (the new actor starts without them).
   */
  private membershipChanged(before: string[], after: string[]): void {
    if (before.length === 0 || before.join() === after.join()) return;
    for (const gone of before.filter((n) => !after.includes(n))) this.inner.purgeSessions(`${gone}/`);
    const { shards } = this.opts;
    this.ownersMovedHandler((key) => {
      const shard = shardOf(key, shards);
      return ownerOfShard(shard, before) !== ownerOfShard(shard, after);
    });
  }

  /** The leases renewed from `started` hold until TTL later; keep a margin for clock rate and delays. */
  private extendValidity(started: number): void {
    this.validUntil = started + Math.floor(this.opts.leaseTtlMs * 0.8);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => {
      if (this.owned.size > 0) this.lose([...this.owned.keys()], "leases could not be renewed");
    }, this.validUntil - Date.now());
    this.expiryTimer.unref();
  }

  /** Stops serving shards this node may no longer own; their actors are dropped. */
  private lose(shards: number[], why: string): void {
    for (const s of shards) {
      this.owned.delete(s);
      this.releasing.delete(s);
    }
    this.publishOwned();
    this.opts.log?.(`gave up ${shards.length} shard(s): ${why}`);
  }

  /** Hands shards off cleanly: no new envelopes, finish and commit, release, tell everyone. */
  private async handOff(shards: number[]): Promise<void> {
    if (shards.length === 0) return;
    for (const s of shards) this.releasing.add(s);
    await this.inner.releaseShards(shards);
    const still = shards.filter((s) => this.releasing.delete(s) && this.owned.delete(s));
    this.publishOwned();
    const { registry, nodeId } = this.opts;
    await registry.release(nodeId, still).catch(() => {});
    this.notify({ t: "released", node: nodeId, shards: still });
    this.opts.log?.(`handed off ${still.length} shard(s); serving ${this.owned.size}`);
  }

  private publishOwned(): void {
    this.inner.setOwnedShards([...this.owned].map(([shard, epoch]) => ({ shard, epoch })));
  }

  private releaseHeld(shard: number): void {
    const list = this.held.get(shard);
    if (!list) return;
    this.held.delete(shard);
    for (const h of list) this.route(h.env, h.from, h.hops);
  }

  /** Answers held envelopes whose shard did not come in time; re-routes those whose owner changed. */
  private expireHeld(): void {
    const now = Date.now();
    for (const [shard, list] of this.held) {
      const owner = ownerOfShard(shard, this.live);
      if (owner !== this.opts.nodeId) {
        this.releaseHeld(shard);
        continue;
      }
      const keep = list.filter((h) => {
        if (h.until > now) return true;
        this.answer(h.from, h.env.callId, unavailable("the channel is moving between nodes, retry"));
        return false;
      });
      if (keep.length > 0) this.held.set(shard, keep);
      else this.held.delete(shard);
    }
  }
}

function unavailable(message: string): Outcome {
  return { ok: false, error: fail.unavailable(message).toBody() };
}
