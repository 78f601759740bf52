/**
 * A Colink cluster on this machine: a private Redis and Colink nodes as separate
 * processes sharing one Postgres schema and that Redis, on loopback ports. Used by the
 * cluster tests (test/cluster/cluster-harness.ts) and by the cluster benchmark (S7).
 */
import { Redis } from "ioredis";
import postgres from "postgres";
import {
  type ColinkProcess,
  localDatabaseUrl,
  startColink,
  startRedis,
  type TestRedis,
} from "./processes.js";

/** A running cluster. */
export interface Cluster {
  redis: TestRedis;
  schema: string;
  /** COLINK_SHARDS of every node. */
  shards: number;
  nodes: ColinkProcess[];
  /** Starts one more node (joining the running ones). */
  addNode(env?: Record<string, string>): Promise<ColinkProcess>;
  /** Stops every node, the Redis and drops the schema. */
  cleanup(): Promise<void>;
}

/** Colink's own default of COLINK_SHARDS. */
export const defaultShards = 1024;

/** How a cluster is started. */
export interface ClusterOptions {
  /** Variables of every node. */
  env?: Record<string, string>;
  /** COLINK_SHARDS (default: Colink's, 1024). */
  shards?: number;
  /** COLINK_LEASE_TTL_MS (default: Colink's). */
  leaseTtlMs?: number;
  /** A Redis already started (default: a new one). */
  redis?: TestRedis;
  /** The REDIS_URL of node `index` (default: the Redis's own). */
  redisUrlOf?: (index: number) => string;
}

/**
 * Starts `count` nodes (`node-0`, `node-1`, …) sharing a fresh schema and a private Redis,
 * one after the other (the first migrates the schema).
 */
export async function startCluster(count: number, opts: ClusterOptions = {}): Promise<Cluster> {
  const redis = opts.redis ?? (await startRedis());
  const schema = `c_${Math.random().toString(36).slice(2, 10)}`;
  const shards = opts.shards ?? defaultShards;
  const nodes: ColinkProcess[] = [];
  let next = 0;
  const addNode = async (env: Record<string, string> = {}) => {
    const index = next++;
    const node = await startColink("postgres", {
      COLINK_DB_SCHEMA: schema,
      REDIS_URL: opts.redisUrlOf?.(index) ?? redis.url,
      COLINK_NODE_ID: `node-${index}`,
      COLINK_SHARDS: String(shards),
      ...(opts.leaseTtlMs ? { COLINK_LEASE_TTL_MS: String(opts.leaseTtlMs) } : {}),
      COLINK_DEV_AUTH: "on",
      ...opts.env,
      ...env,
    });
    nodes.push(node);
    return node;
  };
  try {
    for (let i = 0; i < count; i++) await addNode();
  } catch (err) {
    await Promise.all(nodes.map((n) => n.cleanup()));
    if (!opts.redis) await redis.kill();
    throw err;
  }
  return {
    redis,
    schema,
    shards,
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

/** Who holds each shard's lease now (node id), read from Redis (`colink:lease:<shard>` = `<nodeId>|<epoch>`). */
export async function leaseHolders(redisUrl: string, shards: number): Promise<Map<number, string>> {
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
 * Waits until every node is ready and, with `redisUrl`, the shards are spread as
 * rendezvous hashing over `nodes` says: every one of `shards` leased, each node holding some.
 */
export async function clusterSettled(
  nodes: ColinkProcess[],
  redisUrl: string | undefined,
  opts: { shards: number; timeoutMs?: number },
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (redisUrl) {
      const holders = await leaseHolders(redisUrl, opts.shards);
      const owners = new Set(holders.values());
      if (holders.size < opts.shards || owners.size < nodes.length) {
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
