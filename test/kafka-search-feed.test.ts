/**
 * The search index fed from the event stream (COLINK_SEARCH_FEED=kafka, the default when
 * both KAFKA_BROKERS and OPENSEARCH_URL are set), end to end against a real Kafka 4.1.1,
 * OpenSearch 2.19.6 and Postgres: the relay writes the channel logs to Kafka, and each
 * node's consumer in the group `<prefix>-search-indexer` indexes them into OpenSearch (no
 * thread follows the logs into OpenSearch). Sends, edits, deletes, reactions and thread
 * replies reach the index; while OpenSearch is cut off searches answer from Postgres and
 * the group's lag shows in /ready, and the consumer catches up once it is back; in a
 * two-node cluster both nodes are in the group and every channel's messages, whichever
 * node owns it, are indexed, also when a node is killed in the middle of a stream of sends
 * and started again.
 */
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shardOf } from "../actors/runtime/placement.js";
import { type ColinkClient, ColinkRequestError } from "../client/index.js";
import type { ResultOf } from "../core/ops.js";
import {
  clusterClient,
  clusterSettled,
  clusterToken,
  leaseHolders,
  PartitionProxy,
  startCluster,
  type TestCluster,
  testShards,
} from "./cluster/cluster-harness.js";
import { connectAs, startServer, type TestServer, testDatabaseUrl } from "./harness.js";
import { startKafka, type TestKafka } from "./support/kafka.js";
import { startOpenSearch, type TestOpenSearch } from "./support/opensearch.js";

/** How long the relay and the consumer together may take to index what was acknowledged. */
const indexedWithinMs = 60_000;

/** A crashed member holds its partitions until its session times out (15 s), then the group rebalances. */
const afterCrashWithinMs = 120_000;

let kafka: TestKafka;
let opensearch: TestOpenSearch;

beforeAll(async () => {
  const [k, o] = await Promise.allSettled([startKafka(), startOpenSearch({ log: () => {} })]);
  // Kept even when the other failed to start, so that afterAll stops it.
  if (k.status === "fulfilled") kafka = k.value;
  if (o.status === "fulfilled") opensearch = o.value;
  for (const r of [k, o]) if (r.status === "rejected") throw r.reason;
}, 600_000);

afterAll(async () => {
  await opensearch?.stop();
  await kafka?.cleanup();
});

/** The message ids OpenSearch's messages index holds under `prefix`. */
async function indexedIds(prefix: string): Promise<Set<string>> {
  const res = await fetch(`${opensearch.url}/${prefix}-messages/_search`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ size: 10_000, _source: false, query: { match_all: {} } }),
  });
  // Not there yet (404), or its shards not allocated yet (503): nothing indexed so far.
  if (!res.ok) return new Set();
  const body = (await res.json()) as { hits: { hits: Array<{ _id: string }> } };
  return new Set(body.hits.hits.map((h) => h._id));
}

/** Waits until OpenSearch holds every id of `ids`; fails naming the ones missing. */
async function allIndexed(prefix: string, ids: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const held = await indexedIds(prefix);
    const missing = ids.filter((id) => !held.has(id));
    if (missing.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`${missing.length} of ${ids.length} not indexed: ${missing.slice(0, 5)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The members of the search indexer's consumer group. */
async function groupMembers(groupId: string): Promise<string[]> {
  const admin = new Kafka({
    clientId: "test-admin",
    brokers: [kafka.brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]?.members.map((m) => m.clientId) ?? [];
  } finally {
    await admin.disconnect();
  }
}

/** Rows of the log followers' positions that the OpenSearch follower (`opensearch`) left in `schema`. */
async function logFollowerPositions(schema: string): Promise<number> {
  const sql = postgres(testDatabaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql.unsafe(
      `SELECT count(*)::int AS n FROM ${schema}.log_feed_positions WHERE follower = 'opensearch'`,
    );
    return Number(rows[0]?.n);
  } finally {
    await sql.end();
  }
}

/** Searches until `q` finds `count` hits answered by OpenSearch (not degraded). */
async function settled(client: ColinkClient, q: string, count: number): Promise<ResultOf<"search">> {
  const deadline = Date.now() + indexedWithinMs;
  for (;;) {
    const result = await client.request("search", { q, limit: 50 });
    if (result.hits.length === count && !result.degraded) return result;
    if (Date.now() > deadline) {
      throw new Error(`${q}: ${result.hits.length} hits (degraded: ${result.degraded}), not ${count}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("one server indexing from Kafka", () => {
  let server: TestServer;
  let proxy: PartitionProxy;
  const clients: ColinkClient[] = [];
  const prefix = `kf${Date.now().toString(36)}`;

  beforeAll(async () => {
    // OpenSearch behind a proxy the test can cut.
    proxy = await PartitionProxy.start(opensearch.port);
    server = await startServer("postgres", {
      COLINK_WORKERS: "2",
      KAFKA_BROKERS: kafka.brokers,
      OPENSEARCH_URL: `http://127.0.0.1:${proxy.port}`,
      COLINK_SEARCH_INDEX_PREFIX: prefix,
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.cleanup();
    await proxy?.close();
  });

  async function readiness(): Promise<{ checks: { search: { status: string; lagEvents: number } } }> {
    const res = await fetch(`${server.baseUrl}/ready`);
    expect(res.status).toBe(200);
    return (await res.json()) as { checks: { search: { status: string; lagEvents: number } } };
  }

  it("indexes sends, edits, deletes, reactions and thread replies, with one indexer: the group", async () => {
    const { client } = await connectAs(server, "kf-kim");
    clients.push(client);
    expect(server.output()).toMatch(/fed from kafka/);
    const { channel } = await client.request("ch.create", { name: "feed", kind: "public" });
    const { message: alpha } = await client.send(
      channel.id,
      "quokka alpha at https://example.com/burrows/kf",
    );
    const { message: beta } = await client.send(channel.id, "quokka beta draft");
    const { message: gamma } = await client.send(channel.id, "quokka gamma, soon gone");
    await settled(client, "quokka", 3);
    // Only OpenSearch's tokenizer splits a URL into words: the consumer indexed it.
    await settled(client, "burrows", 1);

    await client.request("msg.edit", {
      channelId: channel.id,
      messageId: beta.id,
      text: "quokka beta final",
    });
    await client.request("msg.delete", { channelId: channel.id, messageId: gamma.id });
    await client.request("react.add", { channelId: channel.id, messageId: alpha.id, emoji: "tada" });
    await client.send(channel.id, "a reply in alpha's thread", { threadRootId: alpha.id });
    await settled(client, "quokka", 2);
    await settled(client, "final", 1);
    expect((await settled(client, "draft", 0)).hits).toEqual([]);
    expect((await settled(client, "quokka has:reaction", 1)).hits.map((h) => h.messageId)).toEqual([
      alpha.id,
    ]);
    expect((await settled(client, "quokka is:thread", 1)).hits.map((h) => h.messageId)).toEqual([alpha.id]);
    expect((await indexedIds(prefix)).has(gamma.id)).toBe(false);

    // One consumer for the node (its first worker's), and no thread following the logs into OpenSearch.
    expect(await groupMembers(`${prefix}-search-indexer`)).toHaveLength(1);
    expect(await logFollowerPositions(server.schema!)).toBe(0);
    await expect
      .poll(async () => (await readiness()).checks.search, { timeout: 15_000 })
      .toEqual({ index: "opensearch", status: "ok", lagEvents: 0 });
  }, 120_000);

  it("answers from Postgres while OpenSearch is cut off, shows the group's lag, and catches up", async () => {
    const { client } = await connectAs(server, "kf-kit");
    clients.push(client);
    const { channel } = await client.request("ch.create", { name: "outage", kind: "public" });
    proxy.cut();
    try {
      for (let i = 0; i < 5; i++) await client.send(channel.id, `platypus sighting ${i}`);
      await expect
        .poll(async () => (await client.request("search", { q: "platypus" })).hits.length, {
          timeout: 20_000,
        })
        .toBe(5);
      expect((await client.request("search", { q: "platypus" })).degraded).toBe(true);
      // The records wait in Kafka, uncommitted: the group's lag.
      await expect
        .poll(async () => (await readiness()).checks.search, { timeout: 20_000 })
        .toMatchObject({ index: "opensearch", status: "degraded", lagEvents: expect.any(Number) });
      await expect
        .poll(async () => (await readiness()).checks.search.lagEvents, { timeout: 20_000 })
        .toBeGreaterThan(0);
      expect(server.output()).toMatch(/handling a batch of the event stream failed/);
    } finally {
      proxy.heal();
    }
    await settled(client, "platypus", 5);
    await expect
      .poll(async () => (await readiness()).checks.search, { timeout: 30_000 })
      .toEqual({ index: "opensearch", status: "ok", lagEvents: 0 });
    expect(server.output()).toMatch(/handling the event stream again/);
  }, 120_000);
});

describe("a two-node cluster indexing from Kafka in one group", () => {
  let cluster: TestCluster;
  const clients: ColinkClient[] = [];
  const prefix = `kc${Date.now().toString(36)}`;

  beforeAll(async () => {
    cluster = await startCluster(2, {
      env: {
        COLINK_WORKERS: "1",
        KAFKA_BROKERS: kafka.brokers,
        OPENSEARCH_URL: opensearch.url,
        COLINK_SEARCH_INDEX_PREFIX: prefix,
      },
    });
    await clusterSettled(cluster.nodes, cluster.redis.url);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.cleanup();
  });

  const urls = () => cluster.nodes.map((n) => n.wsUrl);

  /** A new channel's id; a refusal that says to retry (its shard just moved) is retried under another name. */
  async function createChannel(client: ColinkClient, name: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await client.request("ch.create", { name: `${name}-${attempt}`, kind: "public" })).channel.id;
      } catch (err) {
        if (!(err instanceof ColinkRequestError && err.retryable) || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Channels created until each node owns at least two of them. */
  async function channelsOnBothNodes(client: ColinkClient, label: string): Promise<string[]> {
    const ids: string[] = [];
    let owners: Array<string | undefined> = [];
    for (let i = 0; i < 40; i++) {
      ids.push(await createChannel(client, `${label}-${i}`));
      const holders = await leaseHolders(cluster.redis.url, testShards);
      owners = ids.map((id) => holders.get(shardOf(id, testShards)));
      if (["node-0", "node-1"].every((n) => owners.filter((o) => o === n).length >= 2)) return ids;
    }
    throw new Error(
      `the channels did not spread over both nodes: ${owners.join(",")}\n${cluster.nodes
        .map((n) =>
          n
            .output()
            .split("\n")
            .filter((l) => l.includes('"cluster"') || l.includes("lease"))
            .slice(-15)
            .join("\n"),
        )
        .join("\n----\n")}`,
    );
  }

  it("has both nodes in the group and indexes the channels of each", async () => {
    const client = await clusterClient(urls(), (await clusterToken(cluster.nodes[0]!, "kc-ada")).token);
    clients.push(client);
    await expect
      .poll(async () => (await groupMembers(`${prefix}-search-indexer`)).length, { timeout: 30_000 })
      .toBe(2);
    const channels = await channelsOnBothNodes(client, "spread");
    const run = Date.now().toString(36);
    const sent: string[] = [];
    for (const channelId of channels) {
      for (let i = 0; i < 3; i++) sent.push((await client.send(channelId, `wallaby${run} ${i}`)).message.id);
    }
    await allIndexed(prefix, sent, indexedWithinMs);
    if (sent.length <= 50)
      expect((await settled(client, `wallaby${run}`, sent.length)).degraded).toBeUndefined();
  }, 180_000);

  it("loses nothing when a node is killed in the middle of a stream of sends and started again", async () => {
    const client = await clusterClient(urls(), (await clusterToken(cluster.nodes[0]!, "kc-bo")).token);
    clients.push(client);
    const channels = await channelsOnBothNodes(client, "crash");
    const acked: string[] = [];
    let sending = true;
    const senders = channels.map(async (channelId, c) => {
      for (let i = 0; sending; i++) {
        try {
          acked.push((await client.send(channelId, `numbat ${c} ${i}`, { timeoutMs: 20_000 })).message.id);
        } catch {
          // Not acknowledged (its owner was moving): not promised to anyone.
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const victim = cluster.nodes[1]!;
      await victim.stop("SIGKILL");
      await new Promise((r) => setTimeout(r, 1500));
      await victim.restart();
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      sending = false;
      await Promise.all(senders);
    }
    // A stream, not a handful: sends to one channel go one at a time, and those to the
    // victim's channels wait out its restart, so a loaded machine acknowledges about 50.
    expect(acked.length).toBeGreaterThan(20);
    await allIndexed(prefix, acked, afterCrashWithinMs);
    await expect
      .poll(async () => (await groupMembers(`${prefix}-search-indexer`)).length, { timeout: 60_000 })
      .toBe(2);
  }, 300_000);
});
