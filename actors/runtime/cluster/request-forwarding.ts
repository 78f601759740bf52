/**
 * Routing in a cluster: an envelope for a shard owned here goes to the local actors; for
 * a shard this node is about to own (lease not won yet), it waits here; otherwise it is
 * forwarded over the bus to the owner, whose reply comes back the same way. A call
 * forwarded to this node gets a local call id; its reply leaves through the bus to the
 * node that asked, in the order the actors made it.
 */
import { fail } from "../../../core/errors.js";
import type { Logger } from "../../../core/logger.js";
import type { NodeBus } from "../../../core/ports.js";
import { type Answer, type Grant, noReply, type Outcome, type Outlet, type Routed } from "../../envelope.js";
import { shardOf } from "../placement.js";
import { encodeBusMessage, inboxOf, type NodeMessage, replyMessage } from "./bus-codec.js";

/** Which node serves a shard, as this node's leases tell (ShardLeases). */
export interface ShardOwners {
  /** True while this node holds `shard`'s lease and is not handing it off. */
  serves(shard: number): boolean;
  /** The node that owns `shard` among the live nodes, or null when there is none. */
  ownerOf(shard: number): string | null;
}

/** What request forwarding needs. */
export interface RequestForwardingOptions {
  nodeId: string;
  shards: number;
  leaseTtlMs: number;
  bus: Pick<NodeBus, "publish">;
  /** The transport's outlet: replies to the calls made on this node. */
  outlet: Outlet;
  /** Delivers to this node's own actors. */
  deliverHere: (env: Routed) => void;
  owners: ShardOwners;
  /** Replies that could not be sent back (warn). */
  log: Logger;
}

/** Call ids for calls forwarded to this node: above the transport's (1 … 2^31-1). */
const firstRemoteCallId = 0x8000_0000;

/** An envelope waiting for this node to win its shard. */
interface Held {
  env: Routed;
  from: string;
  hops: number;
  until: number;
}

/** Routes envelopes to their node and answers to the node that asked. */
export class RequestForwarding {
  /** Envelopes waiting for this node to win their shard. */
  private readonly held = new Map<number, Held[]>();
  /** Calls forwarded to this node, by the local call id: who asked, and their call id. */
  private readonly remoteCalls = new Map<number, { from: string; callId: number }>();
  private nextRemoteCallId = firstRemoteCallId;
  /** Calls this node forwarded, by call id, until the reply or the timeout. */
  private readonly forwarded = new Map<number, NodeJS.Timeout>();
  private readonly holdMs: number;
  private readonly forwardTimeoutMs: number;

  constructor(private readonly opts: RequestForwardingOptions) {
    this.holdMs = opts.leaseTtlMs * 2 + 2000;
    this.forwardTimeoutMs = this.holdMs + 3000;
  }

  /** Sends an envelope to its actor: here, held here, or on its owner. `from` waits for the reply. */
  route(env: Routed, from: string, hops: number): void {
    const shard = shardOf(env.key, this.opts.shards);
    if (this.opts.owners.serves(shard)) {
      if (from === this.opts.nodeId || env.callId === noReply) {
        this.opts.deliverHere(env);
        return;
      }
      const callId = this.nextRemoteCallId++;
      if (this.nextRemoteCallId > 0xffff_ffff) this.nextRemoteCallId = firstRemoteCallId;
      this.remoteCalls.set(callId, { from, callId: env.callId });
      this.opts.deliverHere({ ...env, callId });
      return;
    }
    // A closing node has taken itself out of `live`: what it no longer serves goes to the next owner.
    const owner = this.opts.owners.ownerOf(shard);
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

  /** An actor's reply: to the transport, or for a call forwarded here, to the node that asked. */
  reply(callId: number, outcome: Answer, grant?: Grant): void {
    const remote = this.remoteCalls.get(callId);
    if (remote === undefined) {
      this.opts.outlet.reply(callId, outcome, grant);
      return;
    }
    this.remoteCalls.delete(callId);
    this.answer(remote.from, remote.callId, outcome, grant);
  }

  /** A reply from the node a call of this node was forwarded to. */
  replied(message: Extract<NodeMessage, { t: "rep" }>): void {
    // Only calls still waiting: a reply after the timeout is dropped.
    if (this.forwarded.has(message.callId)) {
      this.answer(this.opts.nodeId, message.callId, message.outcome, message.grant);
    }
  }

  /** This node now serves `shard`: the envelopes held for it go to their actors. */
  releaseHeld(shard: number): void {
    const list = this.held.get(shard);
    if (!list) return;
    this.held.delete(shard);
    for (const h of list) this.route(h.env, h.from, h.hops);
  }

  /** Answers held envelopes whose shard did not come in time; re-routes those whose owner changed. */
  expireHeld(): void {
    const now = Date.now();
    for (const [shard, list] of this.held) {
      const owner = this.opts.owners.ownerOf(shard);
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

  /** Stops waiting for the replies of forwarded calls (the node is closing). */
  close(): void {
    for (const timer of this.forwarded.values()) clearTimeout(timer);
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
    this.opts.bus.publish(inboxOf(owner), encodeBusMessage(message)).then(
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
    // A lost reply times out on the asking node.
    this.opts.bus
      .publish(inboxOf(from), encodeBusMessage(replyMessage(callId, outcome, grant)))
      .catch((err: unknown) =>
        this.opts.log.warn({ err, callId, to: from }, "forwarded reply not sent back"),
      );
  }
}

function unavailable(message: string): Outcome {
  return { ok: false, error: fail.unavailable(message).toBody() };
}
