/**
 * Search with OpenSearch configured (OPENSEARCH_URL), end to end against a real
 * OpenSearch 2.19.6 and Postgres with two actor threads: the threads' indexers feed
 * OpenSearch as well as Postgres full-text, searches are answered by OpenSearch, and when
 * OpenSearch goes away they are answered by Postgres, marked `degraded`, instead of failing.
 * People too: profile changes reach OpenSearch's people index through the user-event
 * outbox, `npm run reindex` writes the users it does not hold, and `search.users` falls
 * back to the users table.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import type { ResultOf } from "../core/ops.js";
import { connectAs, startServer, type TestServer, testDatabaseUrl } from "./harness.js";
import { startOpenSearch, type TestOpenSearch } from "./support/opensearch.js";

const reindexScript = fileURLToPath(new URL("../dist/app/reindex.js", import.meta.url));

describe("search with OpenSearch, and without it", () => {
  let opensearch: TestOpenSearch | null = null;
  let server: TestServer | null = null;
  const clients: ColinkClient[] = [];
  const prefix = `t${Date.now().toString(36)}`;

  beforeAll(async () => {
    opensearch = await startOpenSearch({ log: () => {} });
    server = await startServer("postgres", {
      COLINK_WORKERS: "2",
      OPENSEARCH_URL: opensearch.url,
      COLINK_SEARCH_INDEX_PREFIX: prefix,
    });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.cleanup();
    await opensearch?.stop();
  });

  /** Searches until `q` finds `count` hits (the indexers follow the logs within a second or so). */
  async function settled(client: ColinkClient, q: string, count: number): Promise<ResultOf<"search">> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const result = await client.request("search", { q, limit: 50 });
      if (result.hits.length === count) return result;
      if (Date.now() > deadline) throw new Error(`${q}: ${result.hits.length} hits, not ${count}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function readiness(): Promise<unknown> {
    const res = await fetch(`${server!.baseUrl}/ready`);
    expect(res.status).toBe(200);
    return res.json();
  }

  /** OpenSearch's people document of `userId`, or null. */
  async function personDoc(userId: string): Promise<{ displayName: string } | null> {
    const res = await fetch(`${opensearch!.url}/${prefix}-users/_doc/${userId}`);
    if (res.status === 404) return null;
    return ((await res.json()) as { _source: { displayName: string } })._source;
  }

  it("finds people through OpenSearch's people index, which follows the outbox and is filled by reindex", async () => {
    const run = Date.now().toString(36);
    const { client, userId } = await connectAs(server!, `os-pia-${run}`);
    clients.push(client);
    await client.request("user.update", { displayName: `Pia Zylberstein${run}` });
    // The outbox's follower carries the change to OpenSearch.
    await expect
      .poll(() => personDoc(userId), { timeout: 15_000 })
      .toMatchObject({
        displayName: `Pia Zylberstein${run}`,
      });
    const found = await client.request("search.users", { q: `zylberstein${run} pi` });
    expect(found.degraded).toBeUndefined();
    expect(found.users.map((u) => u.id)).toEqual([userId]);

    // A user whom no outbox entry names (one from before the outbox): only reindex writes them.
    const sql = postgres(testDatabaseUrl, { max: 1, onnotice: () => {} });
    const oldId = `Uold${run}`;
    try {
      await sql.unsafe(
        `INSERT INTO ${server!.schema}.users (id, username, display_name, created_at) VALUES ($1, $2, $3, 1)`,
        [oldId, `os-old-${run}`, `Pia Zylberstein${run}`],
      );
    } finally {
      await sql.end();
    }
    const byName = async () =>
      (await client.request("search.users", { q: `zylberstein${run}` })).users.map((u) => u.id);
    expect(await byName()).toEqual([userId]);
    const output = execFileSync("node", [reindexScript], {
      env: {
        ...(process.env as Record<string, string>),
        DATABASE_URL: testDatabaseUrl,
        COLINK_DB_SCHEMA: server!.schema!,
        COLINK_DEV_AUTH: "on",
        COLINK_LOG_LEVEL: "info",
        OPENSEARCH_URL: opensearch!.url,
        COLINK_SEARCH_INDEX_PREFIX: prefix,
      },
      encoding: "utf8",
    });
    expect(output).toMatch(/users written where the index did not hold them/);
    expect((await byName()).sort()).toEqual([userId, oldId].sort());
    // A later change still wins over the version reindex wrote.
    await client.request("user.update", { displayName: `Pia Quennell${run}` });
    await expect
      .poll(() => personDoc(userId), { timeout: 15_000 })
      .toMatchObject({
        displayName: `Pia Quennell${run}`,
      });
  }, 120_000);

  it("answers from OpenSearch, and from Postgres (degraded) once OpenSearch is gone", async () => {
    const { client } = await connectAs(server!, "os-olga");
    clients.push(client);
    const { channel } = await client.request("ch.create", { name: "orbit", kind: "public" });
    await client.send(channel.id, "satellite telemetry at https://example.com/dashboards/orbit");
    await client.send(channel.id, "satellite launch window moved");

    const found = await settled(client, "satellite", 2);
    expect(found.degraded).toBeUndefined();
    expect(await readiness()).toMatchObject({
      status: "ready",
      checks: { search: { index: "opensearch", status: "ok" } },
    });
    // Only OpenSearch's tokenizer splits a URL into words: this hit is OpenSearch's.
    const inUrl = await settled(client, "dashboards", 1);
    expect(inUrl.degraded).toBeUndefined();

    await opensearch!.stop();
    opensearch = null;
    const fallback = await client.request("search", { q: "satellite", limit: 50 });
    expect(fallback.degraded).toBe(true);
    // Still ready: searches are answered, from Postgres; /ready says so.
    expect(await readiness()).toMatchObject({
      status: "ready",
      checks: { store: "up", search: { index: "opensearch", status: "degraded" } },
    });
    expect(fallback.hits.map((h) => h.snippet).sort()).toEqual(found.hits.map((h) => h.snippet).sort());
    // People too: the users table answers.
    const people = await client.request("search.users", { q: "os-olga" });
    expect(people).toMatchObject({ degraded: true });
    expect(people.users.map((u) => u.username)).toEqual(["os-olga"]);
    // Sends go on while the index is away: Postgres full-text still follows the logs.
    await client.send(channel.id, "satellite signal regained");
    await expect
      .poll(async () => (await client.request("search", { q: "regained" })).hits.length, { timeout: 15_000 })
      .toBe(1);
  }, 120_000);
});
