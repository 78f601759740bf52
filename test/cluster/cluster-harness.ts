/**
 * Cluster harness: a private Redis server and Colink nodes as separate processes sharing
 * one Postgres schema and that Redis, on loopback ports. A node may reach Redis through a
 * `PartitionProxy` that the test can cut.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";
import postgres from "postgres";
import { type ColinkProcess, freePort, localDatabaseUrl, startColink } from "../../bench/lib/processes.js";
import { ColinkClient } from "../../client/index.js";

/** A redis-server of the test's own, without persistence (a restart loses everything, as a crash would). */
export interface TestRedis {
  port: number;
  url: string;
  /** Kills it (SIGKILL). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: "127.0.0.1" }, () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a private redis-server on a free port. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    await waitForPort(port, 10_000);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill: () =>
      new Promise<void>((resolve) => {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once("exit", () => resolve());
        c.kill("SIGKILL");
      }),
  };
}

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
export interface TestCluster {
  redis: TestRedis;
  schema: string;
  nodes: ColinkProcess[];
  /** Starts one more node (joining the running ones). */
  addNode(env?: Record<string, string>): Promise<ColinkProcess>;
  /** Stops every node, the Redis and drops the schema. */
  cleanup(): Promise<void>;
}

/** Lease TTL of test clusters: short, so failover tests are quick. */
export const testLeaseTtlMs = 2000;

/** Starts `count` nodes sharing a fresh schema and a private Redis. */
export async function startCluster(
  count: number,
  opts: { env?: Record<string, string>; redisUrlOf?: (index: number, redis: TestRedis) => string } = {},
): Promise<TestCluster> {
  const redis = await startRedis();
  const schema = `c_${Math.random().toString(36).slice(2, 10)}`;
  const nodes: ColinkProcess[] = [];
  let next = 0;
  const addNode = async (env: Record<string, string> = {}) => {
    const index = next++;
    const node = await startColink("postgres", {
      COLINK_DB_SCHEMA: schema,
      REDIS_URL: opts.redisUrlOf?.(index, redis) ?? redis.url,
      COLINK_NODE_ID: `node-${index}`,
      COLINK_LEASE_TTL_MS: String(testLeaseTtlMs),
      COLINK_SHARDS: "64",
      COLINK_DEV_AUTH: "on",
      ...opts.env,
      ...env,
    });
    nodes.push(node);
    return node;
  };
  // One after the other: the first migrates the schema.
  for (let i = 0; i < count; i++) await addNode();
  return {
    redis,
    schema,
    nodes,
    addNode,
    async cleanup() {
      await Promise.all(nodes.map((n) => n.cleanup()));
      await redis.kill();
      const sql = postgres(localDatabaseUrl, { onnotice: () => {} });
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.end();
    },
  };
}

/** Who holds each shard's lease now (node id), read from Redis. */
export async function leaseHolders(redisUrl: string, shards = 64): Promise<Map<number, string>> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  try {
    await redis.connect();
    const keys = Array.from({ length: shards }, (_, s) => `colink:lease:${s}`);
    const values = await redis.mget(...keys);
    const holders = new Map<number, string>();
    values.forEach((v, s) => {
      if (v) holders.set(s, v.split("|")[0]!);
    });
    return holders;
  } finally {
    redis.disconnect();
  }
}

/**
 * Waits until every node is ready and the shards are spread as rendezvous hashing over
 * `nodes` says: every shard leased, each node holding some.
 */
export async function clusterSettled(
  nodes: ColinkProcess[],
  redisUrl?: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (redisUrl) {
      const holders = await leaseHolders(redisUrl);
      const owners = new Set(holders.values());
      if (holders.size < 64 || owners.size < nodes.length) {
        if (Date.now() > deadline)
          throw new Error(`shards not spread: ${holders.size} leased over ${owners.size} node(s)`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
    }
    const ready = await Promise.all(
      nodes.map((n) =>
        fetch(`${n.baseUrl}/ready`).then(
          (r) => r.ok,
          () => false,
        ),
      ),
    );
    if (ready.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error("cluster did not become ready");
    await new Promise((r) => setTimeout(r, 100));
  }
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
export async function clusterToken(
  node: ColinkProcess,
  username: string,
): Promise<{ token: string; userId: string }> {
  const res = await fetch(`${node.baseUrl}/auth/dev/token`, {
    method: "POST",
    body: JSON.stringify({ username }),
  });
  if (!res.ok) throw new Error(`dev token failed: ${res.status}`);
  const body = (await res.json()) as { accessToken: string; user: { id: string } };
  return { token: body.accessToken, userId: body.user.id };
}

/** An SDK client connected to `urls` (the first one first; the others after a failure). */
export async function clusterClient(urls: string[], token: string): Promise<ColinkClient> {
  const client = new ColinkClient({ url: urls, token, reconnect: { minDelayMs: 50, maxDelayMs: 500 } });
  await client.connect();
  return client;
}
