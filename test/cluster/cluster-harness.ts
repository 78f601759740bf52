/**
 * Cluster harness: a private Redis server and Colink nodes as separate processes sharing
 * one Postgres schema and that Redis, on loopback ports (started by test/support/cluster.ts,
 * with short leases and few shards here). A node may reach Redis through a
 * `PartitionProxy` that the test can cut.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import postgres from "postgres";
import { ColinkClient } from "../../client/index.js";
import { devToken } from "../harness.js";
import {
  type Cluster,
  type ClusterOptions,
  leaseHolders,
  clusterSettled as settled,
  startCluster as startBenchCluster,
} from "../support/cluster.js";
import {
  type ColinkProcess,
  freePort,
  localDatabaseUrl,
  startRedis,
  type TestRedis,
} from "../support/processes.js";

export { leaseHolders, startRedis, type TestRedis };

/**
 * A TCP proxy to a port that can be cut: while cut it drops every connection and refuses
 * new ones, which is what a node sees when the network between it and Redis fails.
 */
export class PartitionProxy {
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<PartitionProxy> {
    const port = await freePort();
    const server = createServer();
    const proxy = new PartitionProxy(server, port);
    server.on("connection", (client) => {
      if (proxy.cutOff) {
        client.destroy();
        return;
      }
      const upstream = createConnection({ port: targetPort, host: "127.0.0.1" });
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on("close", () => proxy.sockets.delete(s));
        s.on("error", () => {});
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return proxy;
  }

  /** Cuts every connection and refuses new ones. */
  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.destroy();
  }

  /** Lets connections through again. */
  heal(): void {
    this.cutOff = false;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A cluster under test. */
export type TestCluster = Cluster;

/** Lease TTL of test clusters: short, so failover tests are quick. */
export const testLeaseTtlMs = 2000;

/** Shards of test clusters (COLINK_SHARDS): few, so that lease reads are cheap. */
export const testShards = 64;

/** Starts `count` nodes sharing a fresh schema and a private Redis, with the test lease TTL and shards. */
export function startCluster(
  count: number,
  opts: Omit<ClusterOptions, "shards" | "leaseTtlMs"> = {},
): Promise<TestCluster> {
  return startBenchCluster(count, { ...opts, shards: testShards, leaseTtlMs: testLeaseTtlMs });
}

/**
 * Waits until every node is ready and the shards are spread as rendezvous hashing over
 * `nodes` says: every shard leased, each node holding some.
 */
export function clusterSettled(nodes: ColinkProcess[], redisUrl?: string, timeoutMs = 30_000): Promise<void> {
  return settled(nodes, redisUrl, { shards: testShards, timeoutMs });
}

/** The messages of a channel as stored, in seq order, straight from Postgres. */
export async function storedMessages(
  schema: string,
  channelId: string,
): Promise<Array<{ seq: number; clientMsgId: string; text: string }>> {
  const sql = postgres(localDatabaseUrl, { onnotice: () => {} });
  try {
    const rows = await sql.unsafe(
      `SELECT seq, client_msg_id AS "clientMsgId", text FROM ${schema}.messages WHERE channel_id = $1 ORDER BY seq`,
      [channelId],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      clientMsgId: String(r.clientMsgId),
      text: String(r.text),
    }));
  } finally {
    await sql.end();
  }
}

/** The seqs of every event of a channel as stored. */
export async function storedEventSeqs(schema: string, channelId: string): Promise<number[]> {
  const sql = postgres(localDatabaseUrl, { onnotice: () => {} });
  try {
    const rows = await sql.unsafe(
      `SELECT seq FROM ${schema}.channel_events WHERE channel_id = $1 ORDER BY seq`,
      [channelId],
    );
    return rows.map((r) => Number(r.seq));
  } finally {
    await sql.end();
  }
}

/** A dev token from any node (the key is shared, so every node accepts it). */
export const clusterToken = devToken;

/** An SDK client connected to `urls` (the first one first; the others after a failure). */
export async function clusterClient(urls: string[], token: string): Promise<ColinkClient> {
  const client = new ColinkClient({ url: urls, token, reconnect: { minDelayMs: 50, maxDelayMs: 500 } });
  await client.connect();
  return client;
}

/** What one client of a burst saw and had acknowledged. */
export interface BurstClient {
  client: ColinkClient;
  /** Seqs of `message.created` events delivered to this client, in delivery order. */
  seen: number[];
  /** Acknowledged sends: clientMsgId → seq. */
  acked: Map<string, number>;
}

/**
 * Clients on the given nodes (each with every node's URL, its own first), all members of
 * one new channel and subscribed to it.
 */
export async function burstClients(
  nodes: ColinkProcess[],
  perNode: number,
  tag: string,
): Promise<{ channelId: string; clients: BurstClient[] }> {
  const clients: BurstClient[] = [];
  for (let i = 0; i < nodes.length * perNode; i++) {
    const home = i % nodes.length;
    const urls = [...nodes.slice(home), ...nodes.slice(0, home)].map((n) => n.wsUrl);
    const { token } = await clusterToken(nodes[0]!, `${tag}u${i}`);
    clients.push({ client: await clusterClient(urls, token), seen: [], acked: new Map() });
  }
  const { channel } = await clients[0]!.client.request("ch.create", { name: `${tag}-ch`, kind: "public" });
  for (const c of clients.slice(1)) await c.client.request("ch.join", { channelId: channel.id });
  for (const c of clients) {
    await c.client.subscribe(channel.id, (type, data) => {
      if (type === "message.created") c.seen.push(data.seq as number);
    });
  }
  return { channelId: channel.id, clients };
}

/**
 * Each client sends `count` messages one after the other (the SDK retries until acked),
 * or fewer when `stop` turns true first.
 */
export function sendBurst(
  clients: BurstClient[],
  channelId: string,
  count: number,
  tag: string,
  stop: () => boolean = () => false,
): Promise<void> {
  return Promise.all(
    clients.map(async (c, i) => {
      for (let k = 0; k < count && !stop(); k++) {
        const clientMsgId = `${tag}-c${i}-m${k}`;
        const { message } = await c.client.send(channelId, `${tag} ${i} ${k}`, {
          clientMsgId,
          timeoutMs: 60_000,
        });
        c.acked.set(clientMsgId, message.seq);
      }
    }),
  ).then(() => {});
}

/** Total acknowledged sends so far. */
export function ackedCount(clients: BurstClient[]): number {
  return clients.reduce((n, c) => n + c.acked.size, 0);
}

/**
 * The invariants after a burst: every acknowledged message is stored once under the seq
 * it was acknowledged with, the log has no gap, each client's own messages are stored in
 * the order it sent them, and every client ends up having seen exactly the stored log.
 */
export async function checkBurst(schema: string, channelId: string, clients: BurstClient[]): Promise<void> {
  const stored = await storedMessages(schema, channelId);
  const byKey = new Map(stored.map((m) => [m.clientMsgId, m.seq]));
  if (byKey.size !== stored.length) throw new Error("a clientMsgId is stored twice");
  for (const c of clients) {
    let last = 0;
    for (const [key, seq] of c.acked) {
      if (byKey.get(key) !== seq)
        throw new Error(`acked ${key} at seq ${seq} but stored at ${byKey.get(key)}`);
      if (seq <= last) throw new Error(`${key} stored before an earlier send of the same client`);
      last = seq;
    }
  }
  const events = await storedEventSeqs(schema, channelId);
  const gapFree = events.every((seq, i) => seq === i + 1);
  if (!gapFree) throw new Error(`the log has a gap: ${events.join(",")}`);
  const order = stored.map((m) => m.seq);
  const deadline = Date.now() + 20_000;
  for (const c of clients) {
    while (c.seen.length < order.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (JSON.stringify(c.seen) !== JSON.stringify(order)) {
      throw new Error(`a client saw ${c.seen.length} events, not the stored ${order.length} in order`);
    }
  }
}
