/**
 * Configuration: environment variables with fixed names, optionally added to by a JSON
 * config file (`COLINK_CONFIG`). Parsing is pure: it takes the environment and the file's
 * contents and returns a validated config or throws ConfigError naming the variable.
 */
import { hostname } from "node:os";
import { type LogLevel, logLevels } from "./logger.js";

/** Every limit, each configurable. */
export interface Limits {
  /** Largest WebSocket frame or HTTP body, in bytes. */
  maxPayloadBytes: number;
  /** Outbound bytes buffered for one connection before it is closed as a slow consumer. */
  maxBackpressureBytes: number;
  /**
   * Seconds without traffic before a connection is closed. It is also the presence
   * heartbeat: uWS pings a silent connection a few seconds (4 to 16) before this and closes
   * it if the pong does not come, so a dead client goes offline within this time (60 s).
   */
  idleTimeoutSec: number;
  /** Requests in flight on one connection; more get `rate_limited`. */
  maxPendingRequests: number;
  /** Longest message text, in characters. */
  maxMessageChars: number;
  /** Most events a `sub` with `sinceSeq` replays; a larger gap answers `resync: true`. */
  replayLimit: number;
  /** Messages an actor queues before answering `unavailable` (retryable). */
  mailboxCapacity: number;
  /** Most requests folded into one group-commit transaction. */
  maxBatchRequests: number;
  /** Seconds an idle actor stays in memory. */
  actorIdleSec: number;
  /** Seconds a connection may stay unauthenticated. */
  authTimeoutSec: number;
  /**
   * Channels with at most this many members get each member's presence changes; larger
   * ones get only an online count (`presence.count`) from their channel actor.
   */
  presenceFanoutMaxMembers: number;
  /** Per-channel notification overrides one user may keep in their settings. */
  maxNotifyOverrides: number;
  /** Different emoji one message may carry. */
  maxDistinctReactions: number;
  /** Pinned messages one channel may hold. */
  maxPins: number;
  /** Requests one user may make per second, over all connections and nodes; 0 = no limit. */
  userRatePerSec: number;
}

/** The server's configuration. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Worker threads hosting actors; 0 runs them on the main thread. Default 2 with Postgres, 0 with PGlite. */
  workers: number;
  /** Postgres URL; absent means the embedded PGlite store. */
  databaseUrl: string | null;
  /** Postgres connections of each actor thread's pool. */
  dbPool: number;
  /** Postgres schema to use (created if missing); absent means the connection's default. */
  dbSchema: string | null;
  /** Remote OIDC issuer URL; absent means only the dev issuer (if on). */
  oidcIssuer: string | null;
  /** Expected `aud` of access tokens (both issuers). */
  oidcAudience: string | null;
  /** Dotted path of the claim holding the site role. */
  roleClaim: string;
  devAuth: boolean;
  /** Lifetime of dev access tokens, in seconds (default 24 h). */
  devTokenTtlSec: number;
  /** The OIDC client id the web client signs in with (public client, code + PKCE); absent: no OIDC sign-in in the web client. */
  oidcWebClientId: string | null;
  /** The scopes the web client asks the issuer for. */
  oidcWebScope: string;
  /** The built web client (served at `/`). */
  webDir: string;
  /** Virtual shards that actor keys hash into. */
  shards: number;
  /** Redis URL; set, this node joins a cluster of nodes sharing Postgres and Redis. */
  redisUrl: string | null;
  /** OpenSearch URL; set, search reads OpenSearch and falls back to Postgres full-text when it fails. */
  opensearchUrl: string | null;
  /** What the OpenSearch index and alias names start with. */
  searchIndexPrefix: string;
  /** Kafka bootstrap brokers (`host:port`); set, the channel logs are relayed to Kafka. */
  kafkaBrokers: string[] | null;
  /** This node's name in the cluster: unique per node, stable across its restarts. */
  nodeId: string;
  /** How long a node's shard leases and membership last without renewal. */
  leaseTtlMs: number;
  /**
   * Browser origins allowed to call the HTTP API and open `/ws` (exact `scheme://host[:port]`
   * strings); empty means no CORS headers and no `Origin` check.
   */
  corsOrigins: string[];
  /** Lowest level written to the log (JSON lines on stdout). */
  logLevel: LogLevel;
  limits: Limits;
}

/** A configuration error: one clear line naming the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = "ConfigError";
  }
}

/** Default limits. */
export const defaultLimits: Limits = {
  maxPayloadBytes: 64 * 1024,
  maxBackpressureBytes: 1024 * 1024,
  idleTimeoutSec: 60,
  maxPendingRequests: 256,
  maxMessageChars: 4000,
  replayLimit: 1000,
  mailboxCapacity: 10_000,
  maxBatchRequests: 1000,
  actorIdleSec: 120,
  authTimeoutSec: 10,
  presenceFanoutMaxMembers: 100,
  maxNotifyOverrides: 1000,
  maxDistinctReactions: 50,
  maxPins: 100,
  userRatePerSec: 0,
};

/** Environment variable of each limit. */
export const limitVariables: Record<keyof Limits, string> = {
  maxPayloadBytes: "COLINK_MAX_PAYLOAD_BYTES",
  maxBackpressureBytes: "COLINK_MAX_BACKPRESSURE_BYTES",
  idleTimeoutSec: "COLINK_IDLE_TIMEOUT_SEC",
  maxPendingRequests: "COLINK_MAX_PENDING_REQUESTS",
  maxMessageChars: "COLINK_MAX_MESSAGE_CHARS",
  replayLimit: "COLINK_REPLAY_LIMIT",
  mailboxCapacity: "COLINK_MAILBOX_CAPACITY",
  maxBatchRequests: "COLINK_MAX_BATCH_REQUESTS",
  actorIdleSec: "COLINK_ACTOR_IDLE_SEC",
  authTimeoutSec: "COLINK_AUTH_TIMEOUT_SEC",
  presenceFanoutMaxMembers: "COLINK_PRESENCE_FANOUT_MAX",
  maxNotifyOverrides: "COLINK_MAX_NOTIFY_OVERRIDES",
  maxDistinctReactions: "COLINK_MAX_DISTINCT_REACTIONS",
  maxPins: "COLINK_MAX_PINS",
  userRatePerSec: "COLINK_USER_RATE_PER_SEC",
};

/** Every variable Colink reads besides the limits (docker-compose.yml is checked against these). */
export const settingVariables = [
  "COLINK_CONFIG",
  "COLINK_HOST",
  "COLINK_PORT",
  "COLINK_DATA_DIR",
  "COLINK_WORKERS",
  "DATABASE_URL",
  "COLINK_DB_POOL",
  "COLINK_DB_SCHEMA",
  "COLINK_OIDC_ISSUER",
  "COLINK_OIDC_AUDIENCE",
  "COLINK_ROLE_CLAIM",
  "COLINK_DEV_AUTH",
  "COLINK_SHARDS",
  "REDIS_URL",
  "COLINK_NODE_ID",
  "COLINK_LEASE_TTL_MS",
  "COLINK_CORS_ORIGINS",
  "COLINK_LOG_LEVEL",
  "COLINK_DEV_TOKEN_TTL_SEC",
  "COLINK_OIDC_WEB_CLIENT_ID",
  "COLINK_OIDC_WEB_SCOPE",
  "COLINK_WEB_DIR",
  "OPENSEARCH_URL",
  "COLINK_SEARCH_INDEX_PREFIX",
  "KAFKA_BROKERS",
] as const;

/** Where a limit's accepted range starts and ends. */
const limitRanges: Record<keyof Limits, [number, number]> = {
  maxPayloadBytes: [512, 64 * 1024 * 1024],
  maxBackpressureBytes: [16 * 1024, 1024 * 1024 * 1024],
  idleTimeoutSec: [8, 3600],
  maxPendingRequests: [1, 100_000],
  maxMessageChars: [1, 1_000_000],
  replayLimit: [0, 1_000_000],
  mailboxCapacity: [1, 10_000_000],
  maxBatchRequests: [1, 100_000],
  actorIdleSec: [1, 86_400],
  authTimeoutSec: [1, 600],
  presenceFanoutMaxMembers: [2, 100_000],
  maxNotifyOverrides: [0, 100_000],
  maxDistinctReactions: [1, 1000],
  maxPins: [1, 10_000],
  userRatePerSec: [0, 1_000_000],
};

type Source = Record<string, string | undefined>;

function integer(src: Source, name: string, fallback: number, [min, max]: [number, number]): number {
  const raw = src[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function onOff(src: Source, name: string, fallback: boolean): boolean {
  const raw = src[name];
  if (raw === undefined || raw === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (v === "on" || v === "true" || v === "1") return true;
  if (v === "off" || v === "false" || v === "0") return false;
  throw new ConfigError(name, `must be "on" or "off", got "${raw}"`);
}

function url(src: Source, name: string, protocols: string[]): string | null {
  const raw = src[name]?.trim();
  if (!raw) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, "is not a valid URL");
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(" or ")}, got ${parsed.protocol}`);
  }
  return raw;
}

/** A lowercase name of letters, digits, '-' and '_' (an index name's prefix). */
function name(src: Source, variable: string, fallback: string): string {
  const raw = src[variable]?.trim() || fallback;
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(raw)) {
    throw new ConfigError(variable, `must be 1-64 lowercase letters, digits, '-' or '_', got "${raw}"`);
  }
  return raw;
}

/** A comma list of `host:port` brokers, or null when unset. */
function brokers(src: Source, variable: string): string[] | null {
  const raw = src[variable]?.trim();
  if (!raw) return null;
  const list = raw.split(",").map((b) => b.trim());
  for (const broker of list) {
    if (!/^[\w.-]+:\d{1,5}$/.test(broker)) throw new ConfigError(variable, `"${broker}" is not host:port`);
  }
  return list;
}

/** A comma list of origins, each as a browser sends it: `scheme://host[:port]`, no path. */
function origins(src: Source, name: string): string[] {
  const raw = src[name]?.trim();
  if (!raw) return [];
  return raw
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "")
    .map((o) => {
      let parsed: URL;
      try {
        parsed = new URL(o);
      } catch {
        throw new ConfigError(name, `"${o}" is not an origin (scheme://host[:port])`);
      }
      if (!["http:", "https:"].includes(parsed.protocol) || parsed.origin !== o) {
        throw new ConfigError(
          name,
          `"${o}" is not an origin (scheme://host[:port], no path or trailing slash)`,
        );
      }
      return o;
    });
}

/** A log level name, `info` when unset. */
function logLevel(src: Source, name: string): LogLevel {
  const raw = src[name]?.trim().toLowerCase();
  if (!raw) return "info";
  const level = logLevels.find((l) => l === raw);
  if (!level) throw new ConfigError(name, `must be one of ${logLevels.join(", ")}, got "${raw}"`);
  return level;
}

/** A Postgres schema name: a plain identifier, since it goes into SQL text and the startup packet. */
function schemaName(src: Source, name: string): string | null {
  const raw = src[name]?.trim();
  if (!raw) return null;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(raw)) {
    throw new ConfigError(name, `must be an identifier (letters, digits, _; at most 63), got "${raw}"`);
  }
  return raw;
}

/**
 * Actor threads when COLINK_WORKERS is not set, chosen by the S1 and S3 benchmarks
 * (docs/benchmarks.md): with Postgres two actor threads persist the most. PGlite allows
 * one (it is one thread's database); with it the actors and the store leave the main
 * thread to the gateway, which persisted more in S3 on every guest measured, for about
 * half a millisecond more ack latency at the median in S1.
 */
export function defaultWorkers(withPostgres: boolean): number {
  return withPostgres ? 2 : 1;
}

/**
 * Reads the configuration. `fileValues` are the entries of the optional JSON config file
 * (same variable names); the environment wins over the file.
 */
export function parseConfig(env: Source, fileValues: Source = {}): Config {
  const src: Source = { ...fileValues, ...env };
  const databaseUrl = url(src, "DATABASE_URL", ["postgres:", "postgresql:"]);
  const oidcIssuer = url(src, "COLINK_OIDC_ISSUER", ["http:", "https:"]);
  const redisUrl = url(src, "REDIS_URL", ["redis:", "rediss:"]);
  if (redisUrl !== null && databaseUrl === null) {
    throw new ConfigError("REDIS_URL", "needs DATABASE_URL: the nodes of a cluster share one Postgres");
  }
  const host = src.COLINK_HOST?.trim() || "0.0.0.0";
  if (!/^[\w.:-]+$/.test(host))
    throw new ConfigError("COLINK_HOST", `is not a host name or address: "${host}"`);
  const limits = { ...defaultLimits };
  for (const key of Object.keys(limitVariables) as Array<keyof Limits>) {
    limits[key] = integer(src, limitVariables[key], defaultLimits[key], limitRanges[key]);
  }
  const devAuth = onOff(src, "COLINK_DEV_AUTH", databaseUrl === null);
  if (!devAuth && oidcIssuer === null) {
    throw new ConfigError(
      "COLINK_OIDC_ISSUER",
      "must be set when COLINK_DEV_AUTH is off (nobody could sign in)",
    );
  }
  const port = integer(src, "COLINK_PORT", 8080, [0, 65535]);
  const nodeId = src.COLINK_NODE_ID?.trim() || `${hostname()}:${port}`;
  if (!/^[\w.:-]{1,100}$/.test(nodeId)) {
    throw new ConfigError(
      "COLINK_NODE_ID",
      `must be 1-100 letters, digits, '.', ':', '-' or '_', got "${nodeId}"`,
    );
  }
  return {
    host,
    port,
    dataDir: src.COLINK_DATA_DIR?.trim() || "./data",
    workers: integer(src, "COLINK_WORKERS", defaultWorkers(databaseUrl !== null), [0, 64]),
    databaseUrl,
    // Small on purpose: the pool hands out its idle connections in turn, so every one of
    // them serves commits; few hot backends cost Postgres far less CPU per message than
    // many cold ones (S3: 10 → 3 connections, Postgres 91–104 → 54–65 µs per message).
    dbPool: integer(src, "COLINK_DB_POOL", 3, [1, 1000]),
    dbSchema: schemaName(src, "COLINK_DB_SCHEMA"),
    oidcIssuer,
    oidcAudience: src.COLINK_OIDC_AUDIENCE?.trim() || null,
    roleClaim: src.COLINK_ROLE_CLAIM?.trim() || "role",
    devAuth,
    devTokenTtlSec: integer(src, "COLINK_DEV_TOKEN_TTL_SEC", 24 * 60 * 60, [60, 30 * 24 * 60 * 60]),
    oidcWebClientId: src.COLINK_OIDC_WEB_CLIENT_ID?.trim() || null,
    oidcWebScope: src.COLINK_OIDC_WEB_SCOPE?.trim() || "openid profile",
    webDir: src.COLINK_WEB_DIR?.trim() || "./web/dist",
    shards: integer(src, "COLINK_SHARDS", 1024, [1, 65536]),
    redisUrl,
    opensearchUrl: url(src, "OPENSEARCH_URL", ["http:", "https:"]),
    searchIndexPrefix: name(src, "COLINK_SEARCH_INDEX_PREFIX", "colink"),
    kafkaBrokers: brokers(src, "KAFKA_BROKERS"),
    nodeId,
    leaseTtlMs: integer(src, "COLINK_LEASE_TTL_MS", 5000, [1000, 600_000]),
    corsOrigins: origins(src, "COLINK_CORS_ORIGINS"),
    logLevel: logLevel(src, "COLINK_LOG_LEVEL"),
    limits,
  };
}
