/**
 * The OpenSearch search adapter against a real OpenSearch 2.19 started for this file
 * (test/support/opensearch.ts; the first run downloads it): the shared SearchIndex
 * contract, then what only this adapter has: the versioned index behind its alias,
 * reopening, per-document version conflicts in one bulk, and the excerpts of long texts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SearchDocument, SearchRequest } from "../../core/ports.js";
import { startOpenSearch, type TestOpenSearch } from "../../test/support/opensearch.js";
import {
  describeSearchIndexContract,
  describeUserSearchContract,
  searchRequest,
} from "../search-contract.js";
import { fresh, openedLater, T0 } from "../store-contract/test-data.js";
import { excerptsOf, OpenSearchIndex } from "./opensearch-index.js";

let server: TestOpenSearch | null = null;
let opened: OpenSearchIndex | null = null;
/** An index name prefix of this run's own. */
const prefix = `colink-test-${Date.now().toString(36)}`;

beforeAll(async () => {
  server = await startOpenSearch();
  opened = await OpenSearchIndex.open({ url: server.url, prefix });
}, 180_000);

afterAll(async () => {
  await opened?.close();
  await server?.stop();
}, 30_000);

describeSearchIndexContract(
  "opensearch",
  openedLater(() => opened!),
);
let version = 0;
describeUserSearchContract(
  "opensearch",
  openedLater(() => opened!),
  (users) => opened!.indexUsers(users.map((user) => ({ user, version: ++version }))),
);

/** A document of a channel of its own. */
function doc(text: string, fields: Partial<SearchDocument> = {}): SearchDocument {
  return {
    messageId: fresh("M"),
    channelId: fresh("C"),
    seq: 1,
    authorId: "Ualice",
    text,
    createdAt: T0,
    threadRootId: null,
    inThread: false,
    hasLink: false,
    hasReaction: false,
    version: 1,
    ...fields,
  };
}

function request(channelIds: string[], fields: Partial<SearchRequest>): SearchRequest {
  return searchRequest(channelIds, { limit: 20, ...fields });
}

async function getJson(path: string): Promise<unknown> {
  const res = await fetch(`${server!.url}${path}`);
  expect(res.status).toBe(200);
  return res.json();
}

describe("OpenSearch index", () => {
  it("reads and writes through an alias of the versioned index", async () => {
    expect(await getJson(`/_alias/${prefix}-messages`)).toEqual({
      [`${prefix}-messages-v1`]: { aliases: { [`${prefix}-messages`]: { is_write_index: true } } },
    });
    expect(opened!.alias).toBe(`${prefix}-messages`);
  });

  it("opens an existing index again without changing it", async () => {
    const d = doc("kept across reopening");
    await opened!.index([d]);
    const again = await OpenSearchIndex.open({ url: server!.url, prefix });
    try {
      const { hits } = await again.search(request([d.channelId], { words: ["reopening"] }));
      expect(hits.map((h) => h.messageId)).toEqual([d.messageId]);
    } finally {
      await again.close();
    }
    const indices = (await getJson(`/_cat/indices/${prefix}-*?format=json&h=index`)) as Array<{
      index: string;
    }>;
    expect(indices.map((i) => i.index).sort()).toEqual([`${prefix}-messages-v1`, `${prefix}-users-v1`]);
  });

  it("puts the alias back on the versioned index when only the alias is gone", async () => {
    const other = `${prefix}-lost`;
    const first = await OpenSearchIndex.open({ url: server!.url, prefix: other });
    await first.close();
    const res = await fetch(`${server!.url}/${other}-messages-v1/_alias/${other}-messages`, {
      method: "DELETE",
    });
    expect(res.status).toBe(200);
    const reopened = await OpenSearchIndex.open({ url: server!.url, prefix: other });
    await reopened.close();
    expect(Object.keys((await getJson(`/_alias/${other}-messages`)) as object)).toEqual([
      `${other}-messages-v1`,
    ]);
  });

  it("refuses an older version of one document and writes the others of the same bulk", async () => {
    const channelId = fresh("C");
    const a = doc("alpha newest", { channelId, version: 5 });
    const b = doc("beta first", { channelId, version: 1 });
    await opened!.index([a, b]);
    await opened!.index([
      { ...a, text: "alpha stale", version: 4 },
      { ...a, text: "alpha same", version: 5 },
      { ...b, text: "beta second", version: 2 },
    ]);
    const { hits } = await opened!.search(request([channelId], {}));
    expect(hits.map((h) => h.snippet).sort()).toEqual(["alpha newest", "beta second"]);
  });

  it("keeps the newest version of a person, and never finds a deactivated one", async () => {
    const username = fresh("vers").toLowerCase();
    const user = {
      id: fresh("U"),
      username,
      displayName: "First",
      role: "member" as const,
      title: "",
      timeZone: "",
      avatarFileId: null,
      deactivated: false,
      createdAt: T0,
    };
    await opened!.indexUsers([{ user: { ...user, displayName: "Newest" }, version: 7 }]);
    await opened!.indexUsers([
      { user: { ...user, displayName: "Stale" }, version: 6 },
      { user: { ...user, displayName: "Backfilled" }, version: 0 },
    ]);
    expect((await opened!.searchUsers(username, 5)).users.map((u) => u.displayName)).toEqual(["Newest"]);
    await opened!.indexUsers([{ user: { ...user, deactivated: true }, version: 8 }]);
    expect((await opened!.searchUsers(username, 5)).users).toEqual([]);
  });

  it("fails to open with the retryable `unavailable` error when OpenSearch cannot be reached", async () => {
    await expect(OpenSearchIndex.open({ url: "http://127.0.0.1:1", prefix })).rejects.toMatchObject({
      code: "unavailable",
      retryable: true,
    });
  });

  it("throws for a write OpenSearch refuses for another reason than its version", async () => {
    const bad = { ...doc("no such field"), extra: "refused by the strict mapping" } as SearchDocument;
    await expect(opened!.index([bad])).rejects.toThrow(/strict_dynamic_mapping_exception/);
  });

  it("finds nothing for a query of stop words only, as Postgres does, and ignores them among other words", async () => {
    const d = doc("the deploy is done");
    await opened!.index([d]);
    const search = (fields: Partial<SearchRequest>) =>
      opened!.search(request([d.channelId], fields)).then((r) => r.hits.length);
    expect(await search({ words: ["the"] })).toBe(0);
    expect(await search({ excluded: ["the"] })).toBe(0);
    expect(await search({ words: ["the", "deploy"] })).toBe(1);
    expect(await search({ words: ["deployed"], excluded: ["the"] })).toBe(1);
    expect(await search({ phrases: ["deploy is done"] })).toBe(1);
    expect(await search({ excluded: ["deploy"] })).toBe(0);
    expect(await search({ excluded: ["missing"] })).toBe(1);
  });

  it("splits words where Postgres's parser does: at apostrophes and underscores", async () => {
    const d = doc("don't rename snake_case fields in John's code");
    await opened!.index([d]);
    const search = (fields: Partial<SearchRequest>) =>
      opened!.search(request([d.channelId], fields)).then((r) => r.hits.length);
    expect(await search({ words: ["don't"] })).toBe(0);
    expect(await search({ words: ["snake"] })).toBe(1);
    expect(await search({ words: ["snake_case", "john"] })).toBe(1);
    expect(await search({ words: ["case_snake"] })).toBe(0);
  });

  it("cuts a long text into two excerpts around the matches", async () => {
    const filler = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(" ");
    const text = `${filler(30)} needle ${filler(80)} needle again ${filler(80)}`;
    const d = doc(text);
    await opened!.index([d]);
    const [hit] = (await opened!.search(request([d.channelId], { words: ["needle"] }))).hits;
    expect(hit!.snippet.split(" … ")).toHaveLength(2);
    expect(hit!.snippet.length).toBeLessThan(text.length);
    expect(hit!.marks.map(([a, b]) => hit!.snippet.slice(a, b))).toEqual(["needle", "needle"]);
  });
});

describe("excerptsOf", () => {
  const words = (from: number, n: number) => Array.from({ length: n }, (_, i) => `w${from + i}`);

  it("starts an excerpt a few words before its match and keeps the marks on the matched words", () => {
    const text = [...words(0, 50), "hit", ...words(50, 100)].join(" ");
    const at = text.indexOf("hit");
    const { snippet, marks } = excerptsOf(text, [[at, at + 3]]);
    expect(snippet.startsWith("w40 ")).toBe(true);
    expect(snippet.split(" ")).toHaveLength(40);
    expect(marks.map(([a, b]) => snippet.slice(a, b))).toEqual(["hit"]);
  });

  it("joins excerpts that touch into one, and takes the first words when nothing matched", () => {
    const text = words(0, 200).join(" ");
    expect(excerptsOf(text, []).snippet).toBe(words(0, 40).join(" "));
    const second = text.indexOf("w45");
    const joined = excerptsOf(text, [
      [0, 2],
      [second, second + 3],
    ]);
    expect(joined.snippet).toBe(words(0, 75).join(" "));
    expect(joined.marks.map(([a, b]) => joined.snippet.slice(a, b))).toEqual(["w0", "w45"]);
  });
});
