/**
 * Search with OpenSearch configured (OPENSEARCH_URL), end to end against a real
 * OpenSearch 2.19.6 and Postgres with two actor threads: the threads' indexers feed
 * OpenSearch as well as Postgres full-text, searches are answered by OpenSearch, and when
 * OpenSearch goes away they are answered by Postgres, marked `degraded`, instead of failing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import type { ResultOf } from "../core/ops.js";
import { connectAs, startServer, type TestServer } from "./harness.js";
import { startOpenSearch, type TestOpenSearch } from "./support/opensearch.js";

describe("search with OpenSearch, and without it", () => {
  let opensearch: TestOpenSearch | null = null;
  let server: TestServer | null = null;
  const clients: ColinkClient[] = [];

  beforeAll(async () => {
    opensearch = await startOpenSearch({ log: () => {} });
    server = await startServer("postgres", {
      COLINK_WORKERS: "2",
      OPENSEARCH_URL: opensearch.url,
      COLINK_SEARCH_INDEX_PREFIX: `t${Date.now().toString(36)}`,
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

  it("answers from OpenSearch, and from Postgres (degraded) once OpenSearch is gone", async () => {
    const { client } = await connectAs(server!, "os-olga");
    clients.push(client);
    const { channel } = await client.request("ch.create", { name: "orbit", kind: "public" });
    await client.send(channel.id, "satellite telemetry at https://example.com/dashboards/orbit");
    await client.send(channel.id, "satellite launch window moved");

    const found = await settled(client, "satellite", 2);
    expect(found.degraded).toBeUndefined();
    // Only OpenSearch's tokenizer splits a URL into words: this hit is OpenSearch's.
    const inUrl = await settled(client, "dashboards", 1);
    expect(inUrl.degraded).toBeUndefined();

    await opensearch!.stop();
    opensearch = null;
    const fallback = await client.request("search", { q: "satellite", limit: 50 });
    expect(fallback.degraded).toBe(true);
    expect(fallback.hits.map((h) => h.snippet).sort()).toEqual(found.hits.map((h) => h.snippet).sort());
    // Sends go on while the index is away: Postgres full-text still follows the logs.
    await client.send(channel.id, "satellite signal regained");
    await expect
      .poll(async () => (await client.request("search", { q: "regained" })).hits.length, { timeout: 15_000 })
      .toBe(1);
  }, 120_000);
});
