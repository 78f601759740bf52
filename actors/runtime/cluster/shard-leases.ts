/**
 * ShardLeases: this node's membership and shard ownership.
 *
 * Ownership: virtual shards map to live nodes by rendezvous hashing; a node serves a
 * shard only while it holds the shard's lease (renewed every TTL/3) and the fencing epoch
 * it took in Postgres when it won the lease, which every commit carries. It stops serving
 * a shard as soon as it cannot be sure of its lease any more (renewal failed for most of
 * a TTL), before another node can win it; a commit made after that anyway fails the fence.
 *
 * Hand-off: a node that joins or leaves changes the rendezvous owners. The old owner stops
 * taking new envelopes for the shards it loses (they go to the new owner, which holds
 * them), lets their actors finish and commit, then releases the leases and says so; the
 * new owner wins the leases, takes new epochs, and serves what it held.
 */

import type { Logger } from "../../../core/logger.js";
import type { ClusterRegistry, ShardFence, ShardFencing } from "../../../core/ports.js";
import type { LocalActors } from "../actor-system.js";
import { shardOf } from "../placement.js";
import type { Notice } from "./bus-codec.js";
import { ownerOfShard } from "./rendezvous.js";
import type { ShardOwners } from "./request-forwarding.js";
import { sessionPrefixOf } from "./topic-interest.js";

/** What the leases need. */
export interface ShardLeaseOptions {
  nodeId: string;
  shards: number;
  leaseTtlMs: number;
  registry: ClusterRegistry;
  fencing: ShardFencing;
  /** Lease changes (info) and failed registry calls (warn). */
  log: Logger;
}

/** What the leases tell the rest of the node. */
export interface LeaseEvents {
  /** This node now serves `shard` (it won the lease and took an epoch). */
  won(shard: number): void;
  /** A heartbeat ended, however it went. */
  beatEnded(): void;
  /** Actors moved between nodes (a node joined or left); `moved` tells which keys. */
  ownersMoved(moved: (key: string) => boolean): void;
  /** Tells every node. */
  notify(notice: Notice): void;
}

/** This node's membership and the shards it owns, with their leases and epochs. */
export class ShardLeases implements ShardOwners {
  /** Live nodes, sorted, as of the last heartbeat. */
  private live: string[] = [];
  /** Shards whose lease this node holds, with the epoch it took. */
  private readonly owned = new Map<number, number>();
  /** Owned shards being handed off: no new envelopes go to their actors. */
  private readonly releasing = new Set<number>();
  /** Until when the held leases are certainly valid (renewal started before + TTL - margin). */
  private validUntil = 0;
  private expiryTimer: NodeJS.Timeout | null = null;
  private readonly tickTimer: NodeJS.Timeout;
  private ticking: Promise<void> | null = null;
  private tickAgain = false;
  private closing = false;
  /** Set by the first `tick` (the node's own, once its actors run); the timer waits for it. */
  private started = false;

  constructor(
    private readonly opts: ShardLeaseOptions,
    /** This node's own actors (started after the leases: they answer through the node). */
    private readonly local: () => Pick<LocalActors, "setOwnedShards" | "releaseShards" | "purgeSessions">,
    private readonly events: LeaseEvents,
  ) {
    // The timer beats only once the node has called `tick` itself, after its actors started:
    // a beat before that would hand shards to actors that are not there yet (a slow start,
    // such as an actor worker opening its ports, failed the beat and gave every lease up).
    this.tickTimer = setInterval(
      () => {
        if (this.started) void this.tick();
      },
      Math.max(100, Math.floor(opts.leaseTtlMs / 3)),
    );
    this.tickTimer.unref();
  }

  serves(shard: number): boolean {
    return this.owned.has(shard) && !this.releasing.has(shard);
  }

  ownerOf(shard: number): string | null {
    return ownerOfShard(shard, this.live);
  }

  /**
   * Another node fenced this one out of a shard it thought it owned: stop serving it. An
   * actor of this node's own older tenure says nothing about the current one (after losing
   * a lease and taking the shard again, its leftover work fails the fence); giving the
   * shard up for it would drop the new tenure's actors, whose leftovers would then do the
   * same, over and over while requests keep coming.
   */
  fencedOut({ shard, epoch }: ShardFence): void {
    if (this.owned.get(shard) !== epoch) return;
    this.lose([shard], "a newer owner fenced it");
    void this.tick();
  }

  /** Leaves the cluster: stops the heartbeat, says so, and hands every shard off. */
  async leave(): Promise<void> {
    this.closing = true;
    clearInterval(this.tickTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    await this.ticking;
    const { registry, nodeId } = this.opts;
    await registry
      .leave(nodeId)
      .catch((err: unknown) =>
        this.opts.log.warn({ err }, "could not leave the cluster registry; membership lapses with the TTL"),
      );
    this.events.notify({ t: "left", node: nodeId });
    this.live = this.live.filter((n) => n !== nodeId);
    await this.handOff([...this.owned.keys()]);
  }

  /** One heartbeat: membership, renewals, hand-offs and acquisitions. Runs one at a time. */
  tick(): Promise<void> {
    this.started = true;
    if (this.ticking) {
      this.tickAgain = true;
      return this.ticking;
    }
    this.ticking = this.beat()
      .catch((err: unknown) => this.opts.log.warn({ err }, "cluster heartbeat failed"))
      .finally(() => {
        this.ticking = null;
        this.events.beatEnded();
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
      await registry
        .release(nodeId, won)
        .catch((err: unknown) =>
          this.opts.log.warn({ err, shards: won }, "could not release leases; they lapse with the TTL"),
        );
      throw err;
    }
    await registry
      .stamp(nodeId, fences, leaseTtlMs)
      .catch((err: unknown) => this.opts.log.warn({ err }, "could not stamp the epochs of new leases"));
    for (const f of fences) this.owned.set(f.shard, f.epoch);
    this.publishOwned();
    this.opts.log.info(
      { took: fences.length, serving: this.owned.size },
      `took ${fences.length} shard(s); serving ${this.owned.size}`,
    );
    for (const f of fences) this.events.won(f.shard);
  }

  /**
   * A node that is gone takes its sessions with it; users whose actor moved are told
   * again about the sessions this node holds (the new actor starts without them).
   */
  private membershipChanged(before: string[], after: string[]): void {
    if (before.length === 0 || before.join() === after.join()) return;
    for (const gone of before.filter((n) => !after.includes(n))) {
      this.local().purgeSessions(sessionPrefixOf(gone));
    }
    const { shards } = this.opts;
    this.events.ownersMoved((key) => {
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
    this.opts.log.warn({ shards, why }, `gave up ${shards.length} shard(s): ${why}`);
  }

  /** Hands shards off cleanly: no new envelopes, finish and commit, release, tell everyone. */
  private async handOff(shards: number[]): Promise<void> {
    if (shards.length === 0) return;
    for (const s of shards) this.releasing.add(s);
    await this.local().releaseShards(shards);
    const still = shards.filter((s) => this.releasing.delete(s) && this.owned.delete(s));
    this.publishOwned();
    const { registry, nodeId } = this.opts;
    await registry
      .release(nodeId, still)
      .catch((err: unknown) =>
        this.opts.log.warn(
          { err, shards: still },
          "could not release handed-off leases; they lapse with the TTL",
        ),
      );
    this.events.notify({ t: "released", node: nodeId, shards: still });
    this.opts.log.info(
      { handedOff: still.length, serving: this.owned.size },
      `handed off ${still.length} shard(s); serving ${this.owned.size}`,
    );
  }

  private publishOwned(): void {
    this.local().setOwnedShards([...this.owned].map(([shard, epoch]) => ({ shard, epoch })));
  }
}
