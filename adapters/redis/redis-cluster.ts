/**
 * The cluster ports over Redis (ioredis): the bus on pub/sub, the registry (membership and
 * shard leases) on keys with expiry. Both share one command connection, so a node's
 * publishes and its lease changes reach Redis in the order the node made them: the last
 * events of a shard it hands off are published before its lease is released, hence before
 * the next owner can publish anything of that shard. A second connection subscribes.
 *
 * Keys (all under `colink:`): `lease:<shard>` holds `<nodeId>` or `<nodeId>|<epoch>` with
 * the lease's expiry; `nodes` is a sorted set of node ids scored by the time (Redis's own
 * clock) their membership lapses. Pub/sub channels are `colink:<topic>`. The scripts build
 * key names from their arguments, `presence` is a hash of user id → latest presence (JSON), so this needs one Redis server (or a replicated pair),
 * not Redis Cluster.
 */
import { Redis } from "ioredis";
import type { ClusterRegistry, NodeBus, ShardFence, SharedPresence } from "../../core/ports.js";

const prefix = "colink:";

/** Milliseconds now by Redis's clock, so that all nodes judge expiry by one clock. */
const redisNow = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** True when a lease value belongs to the node ARGV[1]. */
const heldBy = `local function held(v) return v == ARGV[1] or (v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|') end`;

const scripts = {
  heartbeat: {
    // ARGV: nodeId, ttlMs
    lua: `${redisNow}
      redis.call('ZADD', '${prefix}nodes', now + tonumber(ARGV[2]), ARGV[1])
      redis.call('ZREMRANGEBYSCORE', '${prefix}nodes', '-inf', now)
      return redis.call('ZRANGE', '${prefix}nodes', 0, -1)`,
  },
  acquire: {
    // ARGV: nodeId, ttlMs, shard...  A lease this node holds already counts as won (taken anew).
    lua: `${heldBy}
      local won = {}
      for i = 3, #ARGV do
        local key = '${prefix}lease:' .. ARGV[i]
        if redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2]) then
          won[#won + 1] = ARGV[i]
        elseif held(redis.call('GET', key)) then
          redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
          won[#won + 1] = ARGV[i]
        end
      end
      return won`,
  },
  stamp: {
    // ARGV: nodeId, ttlMs, shard, epoch, shard, epoch...
    lua: `${heldBy}
      for i = 3, #ARGV, 2 do
        local key = '${prefix}lease:' .. ARGV[i]
        if held(redis.call('GET', key)) then
          redis.call('SET', key, ARGV[1] .. '|' .. ARGV[i + 1], 'PX', ARGV[2])
        end
      end
      return 1`,
  },
  renew: {
    // ARGV: nodeId, ttlMs, shard...
    lua: `${heldBy}
      local kept = {}
      for i = 3, #ARGV do
        local key = '${prefix}lease:' .. ARGV[i]
        if held(redis.call('GET', key)) then
          redis.call('PEXPIRE', key, ARGV[2])
          kept[#kept + 1] = ARGV[i]
        end
      end
      return kept`,
  },
  release: {
    // ARGV: nodeId, shard...
    lua: `${heldBy}
      for i = 2, #ARGV do
        local key = '${prefix}lease:' .. ARGV[i]
        if held(redis.call('GET', key)) then redis.call('DEL', key) end
      end
      return 1`,
  },
} as const;

/** The cluster's ports over one Redis. */
export interface RedisCluster {
  bus: NodeBus;
  registry: ClusterRegistry;
}

/** Options of the Redis adapter. */
export interface RedisClusterOptions {
  url: string;
  nodeId: string;
  /** Longest wait for one command; a slower answer counts as a failure. */
  commandTimeoutMs?: number;
}

/** Connects to Redis; resolves once both connections are ready. */
export async function openRedisCluster(opts: RedisClusterOptions): Promise<RedisCluster> {
  const common = {
    // Keep trying while Redis is away; callers see failures through the timeouts below.
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    lazyConnect: true,
    connectTimeout: 2000,
  };
  // Commands fail at once while disconnected (no offline queue): a lease renewal or a
  // forwarded request must not wait for a Redis that may not come back in time.
  const cmd = new Redis(opts.url, {
    ...common,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
  });
  // Subscriptions wait for the connection and are renewed after a reconnect.
  const sub = new Redis(opts.url, { ...common, autoResubscribe: true, maxRetriesPerRequest: null });
  for (const c of [cmd, sub]) c.on("error", () => {}); // reported through onConnection and failed calls
  try {
    await Promise.all([cmd.connect(), sub.connect()]);
  } catch (err) {
    cmd.disconnect();
    sub.disconnect();
    throw new Error(`REDIS_URL: cannot connect: ${(err as Error).message}`);
  }
  const bus = new RedisBus(cmd, sub, opts.nodeId);
  return { bus, registry: new RedisRegistry(cmd, bus) };
}

/** NodeBus on Redis pub/sub. Each payload carries its sender's id, so a node skips its own. */
class RedisBus implements NodeBus {
  private readonly origin: Buffer;
  private handler: (topic: string, payload: Uint8Array) => void = () => {};
  private connectionHandler: (up: boolean) => void = () => {};
  private up = true;
  /** The subscriber connection is up with every subscription renewed. */
  private subscribed = true;

  constructor(
    private readonly cmd: Redis,
    private readonly sub: Redis,
    nodeId: string,
  ) {
    const id = Buffer.from(nodeId);
    this.origin = Buffer.concat([Buffer.from([id.length]), id]);
    sub.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      const len = message[0]!;
      if (message.length > len && this.origin.equals(message.subarray(0, len + 1))) return;
      this.handler(channel.toString().slice(prefix.length), message.subarray(len + 1));
    });
    const down = () => {
      if (!this.up) return;
      this.up = false;
      this.connectionHandler(false);
    };
    sub.on("close", () => {
      this.subscribed = false;
      down();
    });
    cmd.on("close", down);
    const back = () => {
      if (this.up || !this.subscribed || cmd.status !== "ready") return;
      this.up = true;
      this.connectionHandler(true);
    };
    // On a new connection ioredis sends the SUBSCRIBE of every channel, then emits `ready`
    // (on the next tick): a PING sent now is answered after them, so the bus counts as back
    // only once Redis delivers to this node again.
    sub.on("ready", () => {
      sub.ping().then(
        () => {
          this.subscribed = sub.status === "ready";
          back();
        },
        () => {},
      );
    });
    cmd.on("ready", back);
  }

  publish(topic: string, payload: Uint8Array): Promise<number> {
    return this.cmd.publish(prefix + topic, Buffer.concat([this.origin, payload]));
  }

  async subscribe(topic: string): Promise<void> {
    await this.sub.subscribe(prefix + topic);
  }

  async unsubscribe(topic: string): Promise<void> {
    await this.sub.unsubscribe(prefix + topic);
  }

  onMessage(handler: (topic: string, payload: Uint8Array) => void): void {
    this.handler = handler;
  }

  onConnection(handler: (up: boolean) => void): void {
    this.connectionHandler = handler;
  }

  /** True while both connections are up. */
  get connected(): boolean {
    return this.up;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.sub.quit(), this.cmd.quit()]);
  }
}

/** ClusterRegistry on Redis keys, each operation one Lua script (atomic in Redis). */
class RedisRegistry implements ClusterRegistry {
  constructor(
    private readonly cmd: Redis,
    private readonly bus: RedisBus,
  ) {}

  private run(script: keyof typeof scripts, args: Array<string | number>): Promise<unknown> {
    // EVAL each time: the scripts are short, and EVALSHA would need reloading after a
    // Redis restart.
    return this.cmd.eval(scripts[script].lua, 0, ...args.map(String));
  }

  async heartbeat(nodeId: string, ttlMs: number): Promise<string[]> {
    return (await this.run("heartbeat", [nodeId, ttlMs])) as string[];
  }

  async leave(nodeId: string): Promise<void> {
    await this.cmd.zrem(`${prefix}nodes`, nodeId);
  }

  async acquire(nodeId: string, shards: number[], ttlMs: number): Promise<number[]> {
    if (shards.length === 0) return [];
    const won = (await this.run("acquire", [nodeId, ttlMs, ...shards])) as string[];
    return won.map(Number);
  }

  async stamp(nodeId: string, fences: ShardFence[], ttlMs: number): Promise<void> {
    if (fences.length === 0) return;
    await this.run("stamp", [nodeId, ttlMs, ...fences.flatMap((f) => [f.shard, f.epoch])]);
  }

  async renew(nodeId: string, shards: number[], ttlMs: number): Promise<number[]> {
    if (shards.length === 0) return [];
    const kept = (await this.run("renew", [nodeId, ttlMs, ...shards])) as string[];
    return kept.map(Number);
  }

  async release(nodeId: string, shards: number[]): Promise<void> {
    if (shards.length === 0) return;
    await this.run("release", [nodeId, ...shards]);
  }

  async savePresence(list: SharedPresence[]): Promise<void> {
    if (list.length === 0) return;
    const tx = this.cmd.multi();
    for (const p of list) {
      if (p.status === "offline" && p.kept === null) tx.hdel(`${prefix}presence`, p.userId);
      else tx.hset(`${prefix}presence`, p.userId, JSON.stringify(p));
    }
    await tx.exec();
  }

  async loadPresence(): Promise<SharedPresence[]> {
    const all = await this.cmd.hgetall(`${prefix}presence`);
    return Object.values(all).map((v) => JSON.parse(v) as SharedPresence);
  }

  async ping(): Promise<void> {
    if (!this.bus.connected) throw new Error("redis connection lost");
    await this.cmd.ping();
  }

  async close(): Promise<void> {
    await this.bus.close();
  }
}
