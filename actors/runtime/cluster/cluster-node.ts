/**
 * ClusterNode: this node's part of a cluster of Colink nodes that share Postgres and a
 * registry/bus (Redis). It wraps the node's own actor system and decides, per envelope,
 * whether the actor lives here or on another node. It wires four parts, one job each:
 * ShardLeases (membership, leases and epochs, hand-off), RequestForwarding (an envelope
 * to its node, the reply back), BusTopicInterest (which event topics this node listens
 * to) and bus-codec.ts (what crosses the bus, on which bus topic).
 *
 * Replies to forwarded calls, published events and revocations leave through the bus in
 * the order the actors made them; each node delivers events to its own subscribers. The
 * transport's sign-outs go to every node as notices (SignOutNotices).
 */

import { type Logger, silentLogger } from "../../../core/logger.js";
import type { ClusterRegistry, NodeBus, ShardFencing } from "../../../core/ports.js";
import type { Outlet, Routed } from "../../envelope.js";
import type {
  ActorSystem,
  LocalActorHooks,
  LocalActors,
  Readiness,
  SignOutNotices,
  TopicInterest,
} from "../actor-system.js";
import {
  decodeBusMessage,
  encodeBusMessage,
  eventTopic,
  eventTopicOf,
  everyone,
  inboxOf,
  type Notice,
} from "./bus-codec.js";
import { RequestForwarding } from "./request-forwarding.js";
import { ShardLeases } from "./shard-leases.js";
import { BusTopicInterest } from "./topic-interest.js";

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
  /** Where the node writes lease changes, bus loss and failures (one child per part). */
  log?: Logger;
}

/** Starts this node's own actors, answering through `outlet` and routing actor-to-actor envelopes through `route`. */
export type StartLocalActors = (outlet: Outlet, hooks: Required<LocalActorHooks>) => Promise<LocalActors>;

/** This node's membership, shard ownership and routing. */
export class ClusterNode implements ActorSystem {
  private inner!: LocalActors;
  private readonly wrapped: Outlet;
  private readonly leases: ShardLeases;
  private readonly forwarding: RequestForwarding;
  private readonly topics: BusTopicInterest;
  private busUp = true;
  private signOutHandler: ((userId: string, signInSession: string) => void) | null = null;

  private readonly log: Logger;

  private constructor(private readonly opts: ClusterNodeOptions) {
    const { outlet, bus } = opts;
    this.log = opts.log ?? silentLogger;
    this.topics = new BusTopicInterest(bus, opts.nodeId, this.log.child({ part: "topics" }));
    this.leases = new ShardLeases({ ...opts, log: this.log.child({ part: "leases" }) }, () => this.inner, {
      won: (shard) => this.forwarding.releaseHeld(shard),
      beatEnded: () => this.forwarding.expireHeld(),
      ownersMoved: (moved) => this.topics.ownersMoved(moved),
      notify: (notice) => this.notify(notice),
    });
    this.forwarding = new RequestForwarding({
      nodeId: opts.nodeId,
      shards: opts.shards,
      leaseTtlMs: opts.leaseTtlMs,
      bus,
      outlet,
      deliverHere: (env) => this.inner.deliver(env),
      owners: this.leases,
      log: this.log.child({ part: "forwarding" }),
    });
    this.wrapped = {
      reply: (callId, outcome, grant) => this.forwarding.reply(callId, outcome, grant),
      publish: (topic, frame) => {
        outlet.publish(topic, frame);
        bus
          .publish(eventTopic(topic), frame)
          // Debug only: while the bus is down every publish fails, and "cluster bus lost"
          // has said so once; clients resume when it is back.
          .catch((err: unknown) => this.log.debug({ err, topic }, "event not published on the bus"));
      },
      revoke: (userId, topic) => {
        outlet.revoke(userId, topic);
        this.notify({ t: "revoke", userId, topic });
      },
      // Like a sign-out, on every node: each closes its own sockets of the user.
      accountChanged: (userId, change) => {
        outlet.accountChanged(userId, change);
        this.notify({ t: "account", userId, change });
      },
    };
  }

  /** Joins the cluster: starts the local actors, listens on the bus, takes a first share of shards. */
  static async start(opts: ClusterNodeOptions, startLocal: StartLocalActors): Promise<ClusterNode> {
    const node = new ClusterNode(opts);
    node.inner = await startLocal(node.wrapped, {
      route: (env) => node.deliver(env),
      sharePresence: (list) => {
        node.notify({ t: "presence", list });
        opts.registry
          .savePresence(list)
          .catch((err: unknown) => node.log.warn({ err }, "could not save presence to the registry"));
      },
      staleShard: (stale) => node.leases.fencedOut(stale),
    });
    node.inner.setOwnedShards([]);
    opts.bus.onMessage((topic, payload) => node.onBusMessage(topic, payload));
    opts.bus.onConnection((up) => node.onBusConnection(up));
    await opts.bus.subscribe(inboxOf(opts.nodeId));
    await opts.bus.subscribe(everyone);
    // Who is online already (changes from now on arrive on the bus).
    node.inner.applyPresence(await opts.registry.loadPresence());
    await node.leases.tick();
    return node;
  }

  get interest(): TopicInterest {
    return this.topics;
  }

  readonly signOuts: SignOutNotices = {
    announce: (userId, session) => this.notify({ t: "signout", userId, session }),
    onSignOut: (handler) => {
      this.signOutHandler = handler;
    },
  };

  deliver(env: Routed): void {
    this.forwarding.route(env, this.opts.nodeId, 0);
  }

  async ready(): Promise<Readiness> {
    const registry = this.opts.registry.ping().then(
      () => true,
      () => false,
    );
    const local = await this.inner.ready();
    const registryUp = await registry;
    return {
      ready: local.ready && registryUp && this.busUp,
      checks: {
        ...local.checks,
        cluster: { registry: registryUp ? "up" : "down", bus: this.busUp ? "up" : "down" },
      },
    };
  }

  /** Leaves the cluster: hands every shard off, then stops the local actors. */
  async close(): Promise<void> {
    await this.leases.leave();
    this.forwarding.close();
    await this.inner.close();
    await this.opts.registry.close();
  }

  private notify(notice: Notice): void {
    this.opts.bus
      .publish(everyone, encodeBusMessage(notice))
      .catch((err: unknown) => this.log.warn({ err, notice: notice.t }, "notice not published on the bus"));
  }

  private onBusMessage(topic: string, payload: Uint8Array): void {
    const eventsOf = eventTopicOf(topic);
    if (eventsOf !== null) {
      this.opts.outlet.publish(eventsOf, payload);
      return;
    }
    const message = decodeBusMessage(payload);
    if (message === null) return;
    switch (message.t) {
      case "req":
        this.forwarding.route(message.env, message.from, message.hops);
        break;
      case "rep":
        this.forwarding.replied(message);
        break;
      case "revoke":
        this.opts.outlet.revoke(message.userId, message.topic);
        break;
      case "presence":
        this.inner.applyPresence(message.list);
        break;
      case "signout":
        this.signOutHandler?.(message.userId, message.session);
        break;
      case "account":
        this.opts.outlet.accountChanged(message.userId, message.change);
        break;
      case "released":
      case "left":
        // Shards may be free for this node now: look at once rather than at the next beat.
        void this.leases.tick();
        break;
    }
  }

  private onBusConnection(up: boolean): void {
    const wasUp = this.busUp;
    this.busUp = up;
    if (up && !wasUp) {
      this.log.info({}, "cluster bus is back; clients resume");
      this.topics.resumeNeeded();
      void this.leases.tick();
    } else if (!up && wasUp) {
      this.log.warn({}, "cluster bus lost");
    }
  }
}
