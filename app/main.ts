/**
 * The composition root: reads the configuration, chooses the adapters, starts the
 * actors (on this thread or in workers) and the uWS server, and drains on SIGTERM.
 */
import type { Outlet } from "../actors/envelope.js";
import { ActorHost } from "../actors/runtime/actor-host.js";
import type { LocalActorHooks, LocalActors } from "../actors/runtime/actor-system.js";
import { ClusterNode } from "../actors/runtime/cluster/cluster-node.js";
import { LocalActorSystem } from "../actors/runtime/local-actor-system.js";
import { WorkerActorSystem } from "../actors/runtime/worker-actor-system.js";
import { batched } from "../actors/runtime/worker-host.js";
import { LocalRateStore } from "../adapters/local-rates/local-rate-store.js";
import { openRedisCluster } from "../adapters/redis/redis-cluster.js";
import { openRedisRateStore } from "../adapters/redis/redis-rate-store.js";
import { type Config, ConfigError } from "../core/config.js";
import { startServer } from "../transport/server.js";
import { loadUws } from "../transport/uws.js";
import { ensureS3Buckets, openLocalBlobs } from "./file-ports.js";
import { buildIdentity } from "./identity.js";
import { loadConfig } from "./load-config.js";
import { createLogger } from "./logger.js";
import { sessionKeyOf } from "./session-key.js";
import { startWarnings } from "./start-warnings.js";
import { commitsInFlightFor, openConfiguredStore } from "./stores.js";
import { openThreadPorts } from "./thread-ports.js";

/**
 * With PGlite the database lives in one thread, so the actors that use it must too:
 * at most one worker, which then hosts every actor and the store.
 */
function effectiveWorkers(config: Config): number {
  return config.databaseUrl ? config.workers : Math.min(config.workers, 1);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`colink: configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const log = logger.child({ module: "main" });
  // Before anything is opened: with no native uWS build there is no server to run.
  const uws = loadUws();
  const workers = effectiveWorkers(config);
  // With Postgres, this pool migrates once (before any worker opens its own), keeps the
  // dev issuer's key shared by all nodes, in a cluster takes shard epochs, and with W = 0
  // is also the actors' store.
  const shared = config.databaseUrl
    ? await openConfiguredStore(config, workers === 0 ? {} : { maxConnections: 2 })
    : null;
  const { verifier, devLogin, oidcLogin } = await buildIdentity(config, shared ?? undefined);
  const sessionKey = await sessionKeyOf(config.dataDir, shared ?? undefined);
  const startLocalActors = async (outlet: Outlet, hooks: LocalActorHooks = {}): Promise<LocalActors> => {
    if (workers === 0) {
      const ports = await openThreadPorts(config, logger, {
        thread: "main",
        runsSearchFeed: true,
        ...(shared ? { store: shared } : {}),
      });
      const { store } = ports;
      const host = new ActorHost({
        store,
        ...(ports.searchIndex ? { searchIndex: ports.searchIndex } : {}),
        ...(ports.stream ? { stream: ports.stream } : {}),
        ...(ports.streamFedIndex ? { streamFedIndex: ports.streamFedIndex } : {}),
        files: ports.files,
        outlet,
        limits: config.limits,
        maxCommitsInFlight: commitsInFlightFor(config),
        shards: config.shards,
        ...(hooks.route ? { route: hooks.route } : {}),
        ...(hooks.sharePresence ? { sharePresence: batched(hooks.sharePresence) } : {}),
        ...(hooks.staleShard ? { staleShard: hooks.staleShard } : {}),
        logger: logger.child({ module: "actors" }),
      });
      return new LocalActorSystem(
        host,
        () => store.ping(),
        // The shared pool is closed last, by the shutdown below.
        async () => {
          await ports.closeExtras();
          if (store !== shared) await store.close();
        },
      );
    }
    return WorkerActorSystem.start({
      script: new URL("./actor-worker.js", import.meta.url),
      count: workers,
      shards: config.shards,
      workerData: config,
      outlet,
      hooks,
      logger: logger.child({ module: "actors" }),
    });
  };
  const redis =
    config.redisUrl && shared
      ? await openRedisCluster({ url: config.redisUrl, nodeId: config.nodeId })
      : null;
  // Rate limits count in Redis in a cluster (one budget per user over the nodes), else here.
  const rateStore =
    redis && config.redisUrl
      ? await openRedisRateStore({ url: config.redisUrl, log: logger.child({ module: "rate-limits" }) })
      : new LocalRateStore();
  await ensureS3Buckets(config.files, log);
  // Local disk: this server serves the signed URLs of uploads and downloads itself.
  const localBlobs = config.files.s3 ? null : await openLocalBlobs(config.files);
  const server = await startServer({
    config,
    verifier,
    devLogin,
    oidcLogin,
    sessionKey,
    ...(localBlobs ? { blobAccess: localBlobs } : {}),
    logger: logger.child({ module: "transport" }),
    rateStore,
    async startActors(outlet) {
      if (!redis || !shared) return startLocalActors(outlet);
      return ClusterNode.start(
        {
          nodeId: config.nodeId,
          shards: config.shards,
          leaseTtlMs: config.leaseTtlMs,
          bus: redis.bus,
          registry: redis.registry,
          fencing: shared,
          outlet,
          log: logger.child({ module: "cluster", node: config.nodeId }),
        },
        startLocalActors,
      );
    },
  });
  const mode = config.databaseUrl ? `postgres (${new URL(config.databaseUrl).host})` : "embedded (PGlite)";
  const auth = [
    devLogin ? "dev issuer" : null,
    config.oidcIssuer
      ? `OIDC ${config.oidcIssuer}${oidcLogin ? ` (sign-in: ${config.oidcWebClientId})` : ""}`
      : null,
  ]
    .filter(Boolean)
    .join(" + ");
  // Before the banner: whoever waits for "listening" has the warnings too.
  for (const warning of startWarnings(config)) log.warn({}, `WARNING: ${warning}`);
  log.info(
    { port: server.port, mode, workers, uws: uws.build, node: process.version },
    `colink listening on http://${config.host}:${server.port} mode=${mode} data=${config.dataDir} ` +
      (config.redisUrl ? `cluster=${new URL(config.redisUrl).host} node=${config.nodeId} ` : "") +
      `workers=${workers}${workers !== config.workers ? ` (COLINK_WORKERS=${config.workers}, PGlite allows 1)` : ""} auth=${auth} ` +
      `search=${config.opensearchUrl ? `opensearch (${new URL(config.opensearchUrl).host}, fed from ${config.searchFeed}), postgres while it fails` : "postgres"} ` +
      (config.kafkaBrokers ? `stream=kafka (${config.kafkaBrokers.join(",")}) ` : "") +
      `files=${config.files.s3 ? `s3 (${config.files.s3.buckets.files})` : `local (${config.files.dir})`} ` +
      `scanner=${config.files.clamav ? `clamav (${config.files.clamav.host}:${config.files.clamav.port})` : `none (unscanned files ${config.files.policy.unscanned === "allow" ? "served" : "blocked"})`} ` +
      `uws=${uws.build} node=${process.version}`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "draining");
    server
      .close()
      .then(() => shared?.close())
      .then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, "error while draining");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(`colink: failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
