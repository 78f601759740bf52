import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { sqlContractHooks } from "../sql/contract-hooks.js";
import { SqlStore } from "../sql/sql-store.js";
import { describeStoreContract } from "../store-contract.js";
import { openPostgresDriver, openPostgresStore } from "./postgres-store.js";

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** A schema of its own per run, so runs never see each other's rows. */
const schema = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

describeStoreContract("postgres", async () => {
  const driver = await openPostgresDriver({ url, schema, maxConnections: 4 });
  return { store: new SqlStore(driver), hooks: sqlContractHooks(driver) };
});

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
