/** Chooses the Store adapter from the configuration: Postgres when DATABASE_URL is set, else PGlite. */
import { join } from "node:path";
import { openPgliteStore } from "../adapters/pglite/pglite-store.js";
import { openPostgresStore } from "../adapters/postgres/postgres-store.js";
import type { Config } from "../core/config.js";
import type { Store } from "../core/ports.js";

/** Opens the configured store and runs its migrations. */
export async function openConfiguredStore(
  config: Config,
  opts: { maxConnections?: number } = {},
): Promise<Store> {
  const store = config.databaseUrl
    ? await openPostgresStore({
        url: config.databaseUrl,
        ...(config.dbSchema ? { schema: config.dbSchema } : {}),
        maxConnections: opts.maxConnections ?? config.dbPool,
      })
    : await openPgliteStore({ dataDir: join(config.dataDir, "pglite") });
  await store.migrate();
  return store;
}

/** Transactions a thread runs at once: Postgres overlaps a second round trip; PGlite runs one at a time. */
export function commitsInFlightFor(config: Config): number {
  return config.databaseUrl ? 2 : 1;
}
