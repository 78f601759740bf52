import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { sqlContractHooks } from "../sql/contract-hooks.js";
import { migrations } from "../sql/migrations.js";
import { SqlStore } from "../sql/sql-store.js";
import { describeStoreContract } from "../store-contract.js";
import { openPostgresDriver, openPostgresStore } from "./postgres-store.js";

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** A schema of its own per run, so runs never see each other's rows. */
const schema = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

describeStoreContract(
  "postgres",
  async () => {
    const driver = await openPostgresDriver({ url, schema, maxConnections: 4 });
    return { store: new SqlStore(driver), hooks: sqlContractHooks(driver) };
  },
  async (migrationId) => {
    // A schema of its own, dropped on close.
    const own = `${schema}_${Math.random().toString(36).slice(2, 8)}`;
    const driver = await openPostgresDriver({ url, schema: own, maxConnections: 2 });
    const stop = migrations.findIndex((m) => m.id === migrationId);
    if (stop < 0) throw new Error(`no migration ${migrationId}`);
    return {
      early: new SqlStore(driver, { migrations: migrations.slice(0, stop) }),
      full: new SqlStore(driver),
      close: async () => {
        await driver.exec(`DROP SCHEMA IF EXISTS "${own}" CASCADE`);
        await driver.close();
      },
    };
  },
);

afterAll(async () => {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await sql.end({ timeout: 5 });
  }
});

describe("postgres store, database unreachable", () => {
  it("fails to open with the retryable `unavailable` error", async () => {
    await expect(openPostgresStore({ url: "postgres://postgres@127.0.0.1:1/test" })).rejects.toMatchObject({
      code: "unavailable",
      retryable: true,
    });
  });
});
