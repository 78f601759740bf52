/**
 * Scale-out under failure, with real Postgres, a real Redis and nodes as processes:
 * kill -9 of a channel's owner during a burst (repeated `COLINK_CHAOS_ROUNDS` times;
 * `npm run test:chaos` runs 10), a Redis restart under load, a node joining under load,
 * and a node partitioned from Redis. After each, every acknowledged message is stored
 * once at its acknowledged seq, the log has no gap, and every client converges on it.
 */
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { shardOf } from "../../actors/runtime/placement.js";
import { ColinkRequestError } from "../../client/index.js";
import { until } from "../harness.js";
import { localDatabaseUrl } from "../support/processes.js";
import {
  ackedCount,
  type BurstClient,
  burstClients,
  checkBurst,
  clusterClient,
  clusterSettled,
  clusterToken,
  leaseHolders,
  PartitionProxy,
  sendBurst,
  startCluster,
  startRedis,
  storedEventSeqs,
  storedMessages,
  type TestCluster,
  testLeaseTtlMs,
} from "./cluster-harness.js";

const shards = 64;
const rounds = Number(process.env.COLINK_CHAOS_ROUNDS ?? 1);

let cluster: TestCluster | null = null;
let proxy: PartitionProxy | null = null;
let clients: BurstClient[] = [];

afterEach(async () => {
  await Promise.all(clients.map((c) => c.client.close()));
  clients = [];
  await cluster?.cleanup();
  cluster = null;
  await proxy?.close();
  proxy = null;
});

/** The node id holding a channel's shard lease, waiting for one other than `not`. */
async function ownerOf(redisUrl: string, channelId: string, not?: string): Promise<string> {
  const shard = shardOf(channelId, shards);
  const deadline = Date.now() + (testLeaseTtlMs + 1000) * 3;
  for (;;) {
    const owner = (await leaseHolders(redisUrl, shards)).get(shard);
    if (owner !== undefined && owner !== not) return owner;
    if (Date.now() > deadline) throw new Error(`no live owner of shard ${shard}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Takes the shard epoch of `channelId` behind its owner's back (as a node that won the
 * lease after the owner lost it would), and returns the owner, whose commits now fail.
 */
async function fenceOutOwner(c: TestCluster, channelId: string) {
  const owner = await ownerOf(c.redis.url, channelId);
  const sql = postgres(localDatabaseUrl, { onnotice: () => {} });
  await sql.unsafe(`UPDATE ${c.schema}.shard_epochs SET epoch = epoch + 1 WHERE shard = $1`, [
    shardOf(channelId, shards),
  ]);
  await sql.end();
  return c.nodes.find((n) => n.output().includes(`node=${owner} `))!;
}

describe("scale-out failures", () => {
  it(
    `kill -9 of the owner during a burst loses nothing (${rounds} round(s))`,
    async () => {
      cluster = await startCluster(3);
      const c = cluster;
      await clusterSettled(c.nodes, c.redis.url);
      for (let round = 0; round < rounds; round++) {
        const tag = `k${round}`;
        const burst = await burstClients(c.nodes, 2, tag);
        clients.push(...burst.clients);
        const owner = await ownerOf(c.redis.url, burst.channelId);
        const victim = c.nodes.find((n) => n.output().includes(`node=${owner} `))!;
        expect(victim).toBeDefined();

        const sending = sendBurst(burst.clients, burst.channelId, 40, tag);
        await until(() => ackedCount(burst.clients) >= 60, 30_000, "part of the burst");
        const killedAt = Date.now();
        await victim.stop("SIGKILL");
        const next = await ownerOf(c.redis.url, burst.channelId, owner);
        const failoverMs = Date.now() - killedAt;
        expect(next).not.toBe(owner);
        // Within the lease TTL plus a margin (one heartbeat and the fence, on a busy machine).
        expect(failoverMs).toBeLessThan(testLeaseTtlMs + 3000);
        // For `npm run test:chaos`: the figure each round measured.
        console.log(
          `chaos round ${round + 1}: ${ackedCount(burst.clients)} acked at kill; failover ${failoverMs} ms`,
        );

        await sending;
        await checkBurst(c.schema, burst.channelId, burst.clients);
        // Bring the node back for the next round (it rejoins and takes its shards again).
        await victim.restart();
        await clusterSettled(c.nodes, c.redis.url);
        await Promise.all(burst.clients.map((b) => b.client.close()));
        clients = [];
      }
    },
    120_000 * rounds,
  );

  it("recovers from a Redis restart under load without restarting the nodes", async () => {
    // The owner's local senders keep committing while Redis is away (over a thousand
    // messages on a fast machine). Every client must get them back as a replay: past the
    // replay limit a resume is answered with `resync` by design, which this test does not
    // exercise.
    cluster = await startCluster(3, { env: { COLINK_REPLAY_LIMIT: "100000" } });
    const c = cluster;
    await clusterSettled(c.nodes, c.redis.url);
    const pids = c.nodes.map((n) => n.pid);
    const burst = await burstClients(c.nodes, 2, "r");
    clients = burst.clients;
    // Sends go on until 60 more are acked after the restart, however fast the nodes are.
    let restartedAt = Number.POSITIVE_INFINITY;
    const sending = sendBurst(burst.clients, burst.channelId, 2000, "r", () => {
      return ackedCount(burst.clients) >= restartedAt + 60;
    });
    await until(() => ackedCount(burst.clients) >= 60, 30_000, "part of the burst");
    await c.redis.kill();
    await new Promise((r) => setTimeout(r, 1000));
    await c.redis.start();
    restartedAt = ackedCount(burst.clients);
    // The restart happened under load: the burst was not over yet.
    expect(restartedAt).toBeLessThan(6 * 2000);
    await sending;
    expect(ackedCount(burst.clients)).toBeGreaterThanOrEqual(restartedAt + 60);
    await checkBurst(c.schema, burst.channelId, burst.clients);
    expect(c.nodes.map((n) => n.pid)).toEqual(pids);
    await clusterSettled(c.nodes, c.redis.url);
  }, 120_000);

  it("moves shards to a node that joins while traffic flows, losing and reordering nothing", async () => {
    cluster = await startCluster(2);
    const c = cluster;
    await clusterSettled(c.nodes, c.redis.url);
    const burst = await burstClients(c.nodes, 3, "j");
    clients = burst.clients;
    const before = await leaseHolders(c.redis.url, shards);
    // Sends go on until 60 more are acked after the move, however fast the nodes are.
    let settledAt = Number.POSITIVE_INFINITY;
    const sending = sendBurst(burst.clients, burst.channelId, 2000, "j", () => {
      return ackedCount(burst.clients) >= settledAt + 60;
    });
    await until(() => ackedCount(burst.clients) >= 60, 30_000, "part of the burst");
    await c.addNode();
    await clusterSettled(c.nodes, c.redis.url);
    settledAt = ackedCount(burst.clients);
    // The shards moved under load: the burst was not over yet.
    expect(settledAt).toBeLessThan(6 * 2000);
    await sending;
    expect(ackedCount(burst.clients)).toBeGreaterThanOrEqual(settledAt + 60);
    const after = await leaseHolders(c.redis.url, shards);
    const moved = [...after].filter(([s, node]) => before.get(s) !== node);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every(([, node]) => node === "node-2")).toBe(true);
    await checkBurst(c.schema, burst.channelId, burst.clients);
  }, 120_000);

  it("stops a node cut off from Redis from writing, and lets another node take over", async () => {
    // node-2 reaches Redis through a proxy the test cuts.
    const redis = await startRedis();
    const cut = await PartitionProxy.start(redis.port);
    proxy = cut;
    cluster = await startCluster(3, {
      redis,
      redisUrlOf: (index) => (index === 2 ? `redis://127.0.0.1:${cut.port}` : redis.url),
    });
    const c = cluster;
    await clusterSettled(c.nodes, c.redis.url);
    const isolated = c.nodes[2]!;
    // A channel whose shard node-2 owns, and a client of it on node-2.
    const { token } = await clusterToken(c.nodes[0]!, "partitioned");
    const onIsolated = await clusterClient([isolated.wsUrl], token);
    const onOther = await clusterClient([c.nodes[0]!.wsUrl], token);
    clients = [onIsolated, onOther].map((client) => ({ client, seen: [], acked: new Map() }));
    let channelId = "";
    for (let i = 0; i < 50 && !channelId; i++) {
      const { channel } = await onIsolated.request("ch.create", { name: `p${i}`, kind: "public" });
      if ((await leaseHolders(c.redis.url, shards)).get(shardOf(channel.id, shards)) === "node-2") {
        channelId = channel.id;
      }
    }
    expect(channelId).not.toBe("");
    const first = await onIsolated.send(channelId, "before the cut");

    cut.cut();
    // Past the node's own safety margin, it refuses writes rather than write as a stale owner.
    await new Promise((r) => setTimeout(r, testLeaseTtlMs));
    const refused = await onIsolated
      .request("msg.send", { channelId, text: "during the cut", clientMsgId: "cut-1" }, { timeoutMs: 15_000 })
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(refused).toBeInstanceOf(ColinkRequestError);
    expect((refused as ColinkRequestError).code).toBe("unavailable");

    // Another node takes the shard once the lease lapsed, and the log goes on.
    const next = await ownerOf(c.redis.url, channelId, "node-2");
    expect(next).not.toBe("node-2");
    const after = await onOther.send(channelId, "after the takeover", { timeoutMs: 30_000 });
    expect(after.message.seq).toBe(first.message.seq + 1);

    // Healed: node-2 comes back by itself and serves again.
    cut.heal();
    await clusterSettled(c.nodes, c.redis.url);
    const again = await onIsolated.send(channelId, "after the heal", { timeoutMs: 30_000 });
    expect(again.message.seq).toBe(after.message.seq + 1);
  }, 120_000);

  it("fails the commits of a node fenced out by a newer epoch; the node drops the shard and takes it anew", async () => {
    cluster = await startCluster(2);
    const c = cluster;
    await clusterSettled(c.nodes, c.redis.url);
    const { token } = await clusterToken(c.nodes[0]!, "fenced");
    const client = await clusterClient([c.nodes[0]!.wsUrl], token);
    clients = [{ client, seen: [], acked: new Map() }];
    const { channel } = await client.request("ch.create", { name: "fenced", kind: "public" });
    const first = await client.send(channel.id, "one");
    const ownerNode = await fenceOutOwner(c, channel.id);
    const second = await client.send(channel.id, "two", { clientMsgId: "fenced-2", timeoutMs: 30_000 });
    expect(second.message.seq).toBe(first.message.seq + 1);
    expect(ownerNode.output()).toContain("a newer owner fenced it");
    expect(await storedEventSeqs(c.schema, channel.id)).toEqual([1, 2, 3, 4]);
  }, 60_000);

  it("a node fenced out while committing several busy channels of the shard at once drops the shard; nothing acknowledged is lost", async () => {
    cluster = await startCluster(2);
    const c = cluster;
    await clusterSettled(c.nodes, c.redis.url);
    const { token } = await clusterToken(c.nodes[0]!, "fenced-many");
    const client = await clusterClient([c.nodes[0]!.wsUrl], token);
    clients = [{ client, seen: [], acked: new Map() }];
    // Channels until three share a shard: one actor thread, one group committer for all three.
    const byShard = new Map<number, string[]>();
    let group: string[] = [];
    for (let i = 0; i < 500 && group.length < 3; i++) {
      const { channel } = await client.request("ch.create", { name: `fenced-many-${i}`, kind: "public" });
      const shard = shardOf(channel.id, shards);
      group = [...(byShard.get(shard) ?? []), channel.id];
      byShard.set(shard, group);
    }
    expect(group).toHaveLength(3);
    for (const id of group) await client.send(id, "warm");
    const ownerNode = await fenceOutOwner(c, group[0]!);
    // All at once, so the owner's first fenced commit holds the writes of all three channels.
    const perChannel = 20;
    const acked = await Promise.all(
      group.flatMap((id) =>
        Array.from({ length: perChannel }, async (_, k) => {
          const clientMsgId = `${id}-${k}`;
          const { message } = await client.send(id, `busy ${k}`, { clientMsgId, timeoutMs: 60_000 });
          return { channelId: id, clientMsgId, seq: message.seq };
        }),
      ),
    );
    expect(ownerNode.output()).toContain("a newer owner fenced it");
    for (const id of group) {
      // channel.created, member.joined, the warm-up message, then each acknowledged send once.
      const events = await storedEventSeqs(c.schema, id);
      expect(events).toEqual(Array.from({ length: perChannel + 3 }, (_, i) => i + 1));
      const stored = new Map((await storedMessages(c.schema, id)).map((m) => [m.clientMsgId, m.seq]));
      for (const a of acked.filter((a) => a.channelId === id)) expect(stored.get(a.clientMsgId)).toBe(a.seq);
    }
  }, 120_000);
});
