/**
 * The composition root: reads the configuration, chooses the adapters, starts the
 * actors (on this thread or in workers) and the uWS server, and drains on SIGTERM.
 */
import { readFileSync } from "node:fs";
import { ActorHost } from "../actors/runtime/actor-host.js";
import { LocalActorSystem, WorkerActorSystem } from "../actors/runtime/actor-system.js";
import { type Config, ConfigError, parseConfig } from "../core/config.js";
import { startServer } from "../transport/server.js";
import { buildIdentity } from "./identity.js";
import { commitsInFlightFor, openConfiguredStore } from "./stores.js";

function loadConfig(): Config {
  const file = process.env.COLINK_CONFIG;
  let values: Record<string, string> = {};
  if (file) {
    try {
      values = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new ConfigError("COLINK_CONFIG", `cannot read ${file}: ${(err as Error).message}`);
    }
    values = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
  }
  return parseConfig(process.env, values);
}

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
  const workers = effectiveWorkers(config);
  const { verifier, devLogin } = await buildIdentity(config);
  const server = await startServer({
    config,
    verifier,
    devLogin,
    async startActors(outlet) {
      if (workers === 0) {
        const store = await openConfiguredStore(config);
        const maxCommitsInFlight = commitsInFlightFor(config);
        const host = new ActorHost({ store, outlet, limits: config.limits, maxCommitsInFlight });
        return new LocalActorSystem(
          host,
          () => store.ping(),
          () => store.close(),
        );
      }
      if (config.databaseUrl) {
        // Migrate once, here, before the workers open their own connections.
        const store = await openConfiguredStore(config, { maxConnections: 1 });
        await store.close();
      }
      return WorkerActorSystem.start({
        script: new URL("./actor-worker.js", import.meta.url),
        count: workers,
        shards: config.shards,
        workerData: config,
        outlet,
      });
    },
  });
  const mode = config.databaseUrl ? `postgres (${new URL(config.databaseUrl).host})` : "embedded (PGlite)";
  const auth = [devLogin ? "dev issuer" : null, config.oidcIssuer ? `OIDC ${config.oidcIssuer}` : null]
    .filter(Boolean)
    .join(" + ");
  console.log(
    `colink listening on http://${config.host}:${server.port} mode=${mode} data=${config.dataDir} ` +
      `workers=${workers}${workers !== config.workers ? ` (COLINK_WORKERS=${config.workers}, PGlite allows 1)` : ""} auth=${auth}`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`colink: ${signal}, draining`);
    server.close().then(
      () => process.exit(0),
      (err) => {
        console.error("colink: error while draining:", err);
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
