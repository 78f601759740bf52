/**
 * A node that loses its leases (say Redis restarted empty) and takes its shards again
 * under new epochs still has actors of the older tenure finishing their work; their
 * commits fail the fence. That must not make the node give up the new tenure: it would
 * drop the new actors, whose leftovers would fail in turn, over and over while clients
 * retry (a send then went unanswered for a minute). Only a report about the tenure the
 * node holds now means another node took the shard.
 *
 * The node runs on real Redis and a real store (its fencing epochs); its actors are a FAKE
 * that records what the node tells them, since the race between an old actor's leftover
 * commit and the node's new epoch cannot be produced on purpose with real actors.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Outlet } from "../../actors/envelope.js";
import type { LocalActorHooks, LocalActors, Readiness } from "../../actors/runtime/actor-system.js";
import { ClusterNode } from "../../actors/runtime/cluster/cluster-node.js";
import { openPgliteStore } from "../../adapters/pglite/pglite-store.js";
import { openRedisCluster } from "../../adapters/redis/redis-cluster.js";
import type { Logger } from "../../core/logger.js";
import type { ShardFence, Store } from "../../core/ports.js";
import { until } from "../harness.js";
import { startRedis, type TestRedis } from "./cluster-harness.js";

/** FAKE local actors: record the shards and epochs the node hands them. */
class FakeLocalActors implements LocalActors {
  owned: ShardFence[] = [];
  hooks!: Required<LocalActorHooks>;
  deliver(): void {}
  ready = async (): Promise<Readiness> => ({
    ready: true,
    checks: { store: "up", search: { index: "postgres", status: "ok", lagEvents: 0 } },
  });
  close = async () => {};
  setOwnedShards(fences: ShardFence[]): void {
    this.owned = fences;
  }
  releaseShards = async () => {};
  purgeSessions(): void {}
  applyPresence(): void {}
  epochOf(shard: number): number | undefined {
    return this.owned.find((f) => f.shard === shard)?.epoch;
  }
}

/** A logger that keeps each line's message, for the assertions below. */
function recordingLogger(lines: string[]): Logger {
  const record = (_fields: Record<string, unknown>, message: string) => void lines.push(message);
  const logger: Logger = {
    debug: record,
    info: record,
    warn: record,
    error: record,
    child: () => logger,
    isLevelEnabled: () => true,
  };
  return logger;
}

const noOutlet: Outlet = { reply() {}, publish() {}, revoke() {}, accountChanged() {} };

let redis: TestRedis | null = null;
let store: Store | null = null;
let node: ClusterNode | null = null;

afterEach(async () => {
  await node?.close();
  node = null;
  await store?.close();
  store = null;
  await redis?.kill();
  redis = null;
});

describe("a node's stale shard reports", () => {
  it("ignores an actor of its own older tenure and gives the shard up for the current one", async () => {
    redis = await startRedis();
    store = await openPgliteStore();
    await store.migrate();
    const { bus, registry } = await openRedisCluster({ url: redis.url, nodeId: "n1" });
    const actors = new FakeLocalActors();
    const log: string[] = [];
    node = await ClusterNode.start(
      {
        nodeId: "n1",
        shards: 4,
        leaseTtlMs: 2000,
        bus,
        registry,
        fencing: store,
        outlet: noOutlet,
        log: recordingLogger(log),
      },
      async (_outlet, hooks) => {
        actors.hooks = hooks;
        return actors;
      },
    );
    // Alone in the cluster, it serves every shard.
    expect(actors.owned.map((f) => f.shard).sort()).toEqual([0, 1, 2, 3]);
    const epoch = actors.epochOf(2)!;

    // An actor loaded under an earlier epoch of shard 2 failed the fence.
    actors.hooks.staleShard({ shard: 2, epoch: epoch - 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(actors.epochOf(2)).toBe(epoch);
    expect(log.filter((l) => l.includes("fenced"))).toEqual([]);

    // An actor of the current tenure failed it: another writer holds a newer epoch, so the
    // node stops serving the shard, then takes it again under an epoch of its own.
    actors.hooks.staleShard({ shard: 2, epoch });
    expect(log).toContain("gave up 1 shard(s): a newer owner fenced it");
    await until(() => (actors.epochOf(2) ?? 0) > epoch, 10_000, "shard 2 taken again");
    expect(actors.epochOf(2)).toBe(epoch + 1);
  });
});
