/**
 * Configuration: environment variables with fixed names, optionally added to by a JSON
 * config file (`COLINK_CONFIG`). Parsing is pure: it takes the environment and the file's
 * contents and returns a validated config or throws ConfigError naming the variable.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import type { FilePolicy } from "./file-rules.js";
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
  /**
   * Length of the rate-limit windows, in seconds. Each budget below is counted in fixed
   * windows of this length, a key's window starting at its first request; a request over
   * the budget is refused until the window ends.
   */
  rateWindowSec: number;
  /** `send` requests of one user per window, over all connections, HTTP and nodes; 0 = no limit. */
  rateSend: number;
  /** `typing` requests of one user per window; 0 = no limit. */
  rateTyping: number;
  /** `read` requests of one user per window; 0 = no limit. */
  rateRead: number;
  /** `auth` checks (connections, `auth` frames) of one user per window; 0 = no limit. */
  rateAuth: number;
  /** `send` requests from one client address per window; 0 = no limit. */
  rateSendPerIp: number;
  /** `typing` requests from one client address per window; 0 = no limit. */
  rateTypingPerIp: number;
  /** `read` requests from one client address per window; 0 = no limit. */
  rateReadPerIp: number;
  /** `auth` checks (connections, `auth` frames, `/auth/*` requests) from one client address per window; 0 = no limit. */
  rateAuthPerIp: number;
  /** Open WebSocket connections of one user on one node; 0 = no limit. */
  maxConnsPerUser: number;
  /** Open WebSocket connections from one client address on one node; 0 = no limit. */
  maxConnsPerIp: number;
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
  oidcAudience: string;
  /** Dotted path of the claim holding the site role. */
  roleClaim: string;
  devAuth: boolean;
  /** Lifetime of dev access tokens, in seconds (default 24 h). */
  devTokenTtlSec: number;
  /**
   * The OIDC client that Colink's server signs browsers in with (`GET /auth/login`: a public
   * client, code flow with PKCE); absent: no single sign-on, and no `/auth/login`.
   */
  oidcWebClientId: string | null;
  /** The scopes asked of the issuer at sign-in (always with `openid`). */
  oidcWebScope: string;
  /** The clients (`azp` of their tokens from the OIDC issuer) that may call `POST /auth/introspect`. */
  oidcIntrospectClients: string[];
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
  /**
   * What feeds the OpenSearch index: `kafka` (the default when both `KAFKA_BROKERS` and
   * `OPENSEARCH_URL` are set), a consumer group over the event stream on every node; `log`,
   * each actor thread follows its channels' logs. Without both, always `log`.
   */
  searchFeed: "kafka" | "log";
  /** This node's name in the cluster: unique per node, stable across its restarts. */
  nodeId: string;
  /** How long a node's shard leases and membership last without renewal. */
  leaseTtlMs: number;
  /**
   * Browser origins allowed to call the HTTP API and open `/ws` (exact `scheme://host[:port]`
   * strings); empty means no CORS headers and no `Origin` check.
   */
  corsOrigins: string[];
  /**
   * Reverse proxies in front of the server that append the client's address to
   * `X-Forwarded-For` (0: none, the socket's peer is the client). With N, the client is the
   * Nth address from the right: what the outermost trusted proxy saw. The per-address
   * limits count by it.
   */
  proxyHops: number;
  /** Send `Strict-Transport-Security` (the server is reached over HTTPS, through a TLS proxy). */
  hsts: boolean;
  /** Lowest level written to the log (JSON lines on stdout). */
  logLevel: LogLevel;
  limits: Limits;
  files: FileConfig;
}

/** Where files are kept and scanned, and what is allowed of them. */
export interface FileConfig {
  /** Local disk (the embedded default): where the buckets' dirs are. */
  dir: string;
  /** How clients reach this server, for the local disk's signed URLs; empty: URLs relative to it. */
  publicUrl: string;
  /** The local disk's URL signing key (the same on every node); absent: kept in `<dir>/.url-secret`. */
  urlSecret: string | null;
  /** S3 (or MinIO) instead of local disk, when `S3_BUCKET_FILES` is set. */
  s3: S3Config | null;
  /** clamd (`CLAMAV_URL`, tcp://host:port); absent: no scanner, files are `unscanned`. */
  clamav: { host: string; port: number } | null;
  policy: FilePolicy;
}

export interface S3Config {
  /** Absent: AWS's own endpoint for the region. */
  endpoint: string | null;
  /** The endpoint as browsers reach it, when not as the server does; presigned URLs name it. */
  publicEndpoint: string | null;
  region: string;
  forcePathStyle: boolean;
  /** Absent: the AWS SDK's default credential chain. */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  buckets: { files: string; avatars: string; thumbnails: string };
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
  // The rate defaults: docs/operations.md "Rate limits" says how they were chosen (bench S12).
  rateWindowSec: 10,
  rateSend: 50,
  rateTyping: 30,
  rateRead: 1000,
  rateAuth: 30,
  rateSendPerIp: 500,
  rateTypingPerIp: 300,
  rateReadPerIp: 5000,
  rateAuthPerIp: 300,
  maxConnsPerUser: 20,
  maxConnsPerIp: 1000,
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
  rateWindowSec: "COLINK_RATE_WINDOW_SEC",
  rateSend: "COLINK_RATE_SEND",
  rateTyping: "COLINK_RATE_TYPING",
  rateRead: "COLINK_RATE_READ",
  rateAuth: "COLINK_RATE_AUTH",
  rateSendPerIp: "COLINK_RATE_SEND_PER_IP",
  rateTypingPerIp: "COLINK_RATE_TYPING_PER_IP",
  rateReadPerIp: "COLINK_RATE_READ_PER_IP",
  rateAuthPerIp: "COLINK_RATE_AUTH_PER_IP",
  maxConnsPerUser: "COLINK_MAX_CONNS_PER_USER",
  maxConnsPerIp: "COLINK_MAX_CONNS_PER_IP",
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
  "COLINK_PROXY_HOPS",
  "COLINK_HSTS",
  "COLINK_LOG_LEVEL",
  "COLINK_DEV_TOKEN_TTL_SEC",
  "COLINK_OIDC_WEB_CLIENT_ID",
  "COLINK_OIDC_WEB_SCOPE",
  "COLINK_OIDC_INTROSPECT_CLIENTS",
  "COLINK_WEB_DIR",
  "OPENSEARCH_URL",
  "COLINK_SEARCH_INDEX_PREFIX",
  "KAFKA_BROKERS",
  "COLINK_SEARCH_FEED",
  "COLINK_FILES_DIR",
  "COLINK_PUBLIC_URL",
  "COLINK_FILE_URL_SECRET",
  "COLINK_MAX_FILE_BYTES",
  "COLINK_FILE_TYPES",
  "COLINK_UNSCANNED_FILES",
  "CLAMAV_URL",
  "S3_ENDPOINT",
  "S3_PUBLIC_ENDPOINT",
  "S3_REGION",
  "S3_FORCE_PATH_STYLE",
  "S3_ACCESS_KEY_ID",
  "S3_SECRET_ACCESS_KEY",
  "S3_BUCKET_FILES",
  "S3_BUCKET_AVATARS",
  "S3_BUCKET_THUMBNAILS",
] as const;

/** COLINK_SEARCH_FEED: `kafka` needs both the stream and the index; unset, `kafka` when both are configured. */
function searchFeed(src: Source, bothConfigured: boolean): "kafka" | "log" {
  const value = src.COLINK_SEARCH_FEED?.trim().toLowerCase() || (bothConfigured ? "kafka" : "log");
  if (value !== "kafka" && value !== "log") {
    throw new ConfigError("COLINK_SEARCH_FEED", `must be kafka or log, got "${value}"`);
  }
  if (value === "kafka" && !bothConfigured) {
    throw new ConfigError("COLINK_SEARCH_FEED", "kafka needs both KAFKA_BROKERS and OPENSEARCH_URL");
  }
  return value;
}

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
  rateWindowSec: [1, 3600],
  rateSend: [0, 10_000_000],
  rateTyping: [0, 10_000_000],
  rateRead: [0, 10_000_000],
  rateAuth: [0, 10_000_000],
  rateSendPerIp: [0, 10_000_000],
  rateTypingPerIp: [0, 10_000_000],
  rateReadPerIp: [0, 10_000_000],
  rateAuthPerIp: [0, 10_000_000],
  maxConnsPerUser: [0, 1_000_000],
  maxConnsPerIp: [0, 1_000_000],
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

/** The sign-in scopes with `openid` among them: without it there is no ID token, and no nonce to check. */
function scopeWithOpenid(scope: string): string {
  const scopes = scope.split(/\s+/).filter((s) => s !== "");
  return scopes.includes("openid") ? scopes.join(" ") : ["openid", ...scopes].join(" ");
}

/** A comma list of OAuth client ids; unset: `fallback`. */
function clientIds(src: Source, variable: string, fallback: string[]): string[] {
  const raw = src[variable];
  if (raw === undefined || raw.trim() === "") return fallback;
  const ids = raw
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  for (const id of ids) {
    if (!/^[\x21-\x7e]{1,255}$/.test(id)) throw new ConfigError(variable, `"${id}" is not a client id`);
  }
  return ids;
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

/** The largest upload to local disk: uWS reads at most 9 digits of an upload's Content-Length. */
const maxLocalUploadBytes = 999_999_999;

/** The file settings. */
function fileConfig(src: Source, dataDir: string): FileConfig {
  const clamavUrl = url(src, "CLAMAV_URL", ["tcp:"]);
  const clamav = clamavUrl
    ? { host: new URL(clamavUrl).hostname, port: Number(new URL(clamavUrl).port || 3310) }
    : null;
  const unscanned = src.COLINK_UNSCANNED_FILES?.trim().toLowerCase() || (clamav ? "block" : "allow");
  if (unscanned !== "allow" && unscanned !== "block") {
    throw new ConfigError("COLINK_UNSCANNED_FILES", `must be "allow" or "block", got "${unscanned}"`);
  }
  const allowedTypes = (src.COLINK_FILE_TYPES?.trim() || "*/*").split(",").map((t) => t.trim().toLowerCase());
  for (const t of allowedTypes) {
    if (!/^([a-z0-9][a-z0-9!#$&^_.+-]*|\*)\/([a-z0-9][a-z0-9!#$&^_.+-]*|\*)$/.test(t)) {
      throw new ConfigError("COLINK_FILE_TYPES", `"${t}" is not a MIME type or a type/* pattern`);
    }
  }
  const urlSecret = src.COLINK_FILE_URL_SECRET?.trim() || null;
  if (urlSecret !== null && urlSecret.length < 32) {
    throw new ConfigError("COLINK_FILE_URL_SECRET", "must be at least 32 characters");
  }
  const publicUrl = src.COLINK_PUBLIC_URL?.trim() ? url(src, "COLINK_PUBLIC_URL", ["http:", "https:"])! : "";
  const filesBucket = src.S3_BUCKET_FILES?.trim();
  const maxBytes = integer(src, "COLINK_MAX_FILE_BYTES", 100 * 1024 * 1024, [1, 5 * 1024 ** 4]);
  if (!filesBucket && maxBytes > maxLocalUploadBytes) {
    throw new ConfigError(
      "COLINK_MAX_FILE_BYTES",
      `must be at most ${maxLocalUploadBytes} with files on local disk (the HTTP server reads at most 9 digits of Content-Length); use S3 for larger files`,
    );
  }
  const accessKeyId = src.S3_ACCESS_KEY_ID?.trim();
  const secretAccessKey = src.S3_SECRET_ACCESS_KEY?.trim();
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new ConfigError("S3_ACCESS_KEY_ID", "and S3_SECRET_ACCESS_KEY must be set together");
  }
  return {
    dir: src.COLINK_FILES_DIR?.trim() || join(dataDir, "files"),
    publicUrl: publicUrl.replace(/\/+$/, ""),
    urlSecret,
    s3: filesBucket
      ? {
          endpoint: url(src, "S3_ENDPOINT", ["http:", "https:"]),
          publicEndpoint: url(src, "S3_PUBLIC_ENDPOINT", ["http:", "https:"]),
          region: src.S3_REGION?.trim() || "us-east-1",
          forcePathStyle: onOff(src, "S3_FORCE_PATH_STYLE", false),
          credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : null,
          buckets: {
            files: filesBucket,
            avatars: src.S3_BUCKET_AVATARS?.trim() || `${filesBucket}-avatars`,
            thumbnails: src.S3_BUCKET_THUMBNAILS?.trim() || `${filesBucket}-thumbnails`,
          },
        }
      : null,
    clamav,
    policy: {
      maxBytes,
      allowedTypes,
      unscanned,
      scanning: clamav !== null,
    },
  };
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
  if (src.COLINK_USER_RATE_PER_SEC !== undefined) {
    // Removed rather than ignored: whoever set it expects a limit it no longer sets.
    throw new ConfigError(
      "COLINK_USER_RATE_PER_SEC",
      "was replaced by the per-class budgets COLINK_RATE_SEND, COLINK_RATE_READ, COLINK_RATE_TYPING and COLINK_RATE_AUTH (per COLINK_RATE_WINDOW_SEC), on by default",
    );
  }
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
  const dataDir = src.COLINK_DATA_DIR?.trim() || "./data";
  const files = fileConfig(src, dataDir);
  const opensearchUrl = url(src, "OPENSEARCH_URL", ["http:", "https:"]);
  const kafkaBrokers = brokers(src, "KAFKA_BROKERS");
  return {
    host,
    port,
    dataDir,
    workers: integer(src, "COLINK_WORKERS", defaultWorkers(databaseUrl !== null), [0, 64]),
    databaseUrl,
    // Small on purpose: the pool hands out its idle connections in turn, so every one of
    // them serves commits; few hot backends cost Postgres far less CPU per message than
    // many cold ones (S3: 10 → 3 connections, Postgres 91–104 → 54–65 µs per message).
    dbPool: integer(src, "COLINK_DB_POOL", 3, [1, 1000]),
    dbSchema: schemaName(src, "COLINK_DB_SCHEMA"),
    oidcIssuer,
    oidcAudience: src.COLINK_OIDC_AUDIENCE?.trim() || "colink",
    roleClaim: src.COLINK_ROLE_CLAIM?.trim() || "role",
    devAuth,
    devTokenTtlSec: integer(src, "COLINK_DEV_TOKEN_TTL_SEC", 24 * 60 * 60, [60, 30 * 24 * 60 * 60]),
    oidcWebClientId: src.COLINK_OIDC_WEB_CLIENT_ID?.trim() || null,
    oidcWebScope: scopeWithOpenid(src.COLINK_OIDC_WEB_SCOPE?.trim() || "openid profile"),
    oidcIntrospectClients: clientIds(src, "COLINK_OIDC_INTROSPECT_CLIENTS", ["service-internal"]),
    webDir: src.COLINK_WEB_DIR?.trim() || "./web/dist",
    shards: integer(src, "COLINK_SHARDS", 1024, [1, 65536]),
    redisUrl,
    opensearchUrl,
    searchIndexPrefix: name(src, "COLINK_SEARCH_INDEX_PREFIX", "colink"),
    kafkaBrokers,
    searchFeed: searchFeed(src, opensearchUrl !== null && kafkaBrokers !== null),
    nodeId,
    leaseTtlMs: integer(src, "COLINK_LEASE_TTL_MS", 5000, [1000, 600_000]),
    corsOrigins: origins(src, "COLINK_CORS_ORIGINS"),
    proxyHops: integer(src, "COLINK_PROXY_HOPS", 0, [0, 10]),
    // Browsers heed the header only over HTTPS: on by default when clients reach this
    // server at an https:// public URL.
    hsts: onOff(src, "COLINK_HSTS", files.publicUrl.startsWith("https:")),
    logLevel: logLevel(src, "COLINK_LOG_LEVEL"),
    limits,
    files,
  };
}
