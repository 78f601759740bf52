/**
 * Message search end to end, on PGlite and Postgres (and Postgres with two actor
 * threads, where each thread indexes the channels it hosts), answered by Postgres
 * full-text and, in the last setup, by a real OpenSearch: the index follows the
 * channel log (sends, edits, deletes, reactions, thread replies), the query language
 * narrows, pages go by cursor over WebSocket and HTTP, and, above all, who sees what: a
 * table of users × channels in which a hit from a channel the caller cannot read never
 * appears.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import type { ResultOf } from "../core/ops.js";
import { api, testDatabaseUrl as localDatabaseUrl, type StoreKind } from "./harness.js";
import { startOpenSearch, type TestOpenSearch } from "./support/opensearch.js";
import { serverForBlock } from "./support/server-fixture.js";

const reindexScript = fileURLToPath(new URL("../dist/app/reindex.js", import.meta.url));

const setups: Array<{ store: StoreKind; workers: number; index: "postgres" | "opensearch" }> = [
  { store: "pglite", workers: 0, index: "postgres" },
  { store: "postgres", workers: 0, index: "postgres" },
  { store: "postgres", workers: 2, index: "postgres" },
  { store: "postgres", workers: 2, index: "opensearch" },
];

describe.each(setups)("search on $store, W=$workers, answered by $index", ({ store, workers, index }) => {
  let opensearch: TestOpenSearch | null = null;
  if (index === "opensearch") {
    beforeAll(async () => {
      opensearch = await startOpenSearch({ log: () => {} });
    }, 180_000);
    afterAll(() => opensearch?.stop());
  }
  const fixture = serverForBlock(store, () => ({
    COLINK_WORKERS: String(workers),
    ...(opensearch
      ? { OPENSEARCH_URL: opensearch.url, COLINK_SEARCH_INDEX_PREFIX: `t${Date.now().toString(36)}` }
      : {}),
  }));
  /**
   * A search, which the configured index answers (never the fallback: nothing is down
   * here). A single-node OpenSearch on a loaded machine has been seen to refuse one search
   * (503, no shard answered) in about one run of fifteen; the fallback then answers, as it
   * should, and the search is asked again, a few times at most.
   */
  const search = async (
    client: ColinkClient,
    q: string,
    more: Omit<Parameters<typeof searchArgs>[0], "q"> = {},
  ) => {
    for (let attempt = 1; ; attempt++) {
      const result = await client.request("search", searchArgs({ q, ...more }));
      if (!result.degraded) return result;
      if (attempt === 5) {
        // The server's and OpenSearch's own account of why the index did not answer.
        const why = fixture.server
          .output()
          .split("\n")
          .filter((line) => line.includes("search index"))
          .concat((opensearch?.output() ?? "").split("\n").filter((line) => /WARN|ERROR/.test(line)))
          .join("\n");
        throw new Error(`${q}: answered by the fallback ${attempt} times:\n${why}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const texts = (r: ResultOf<"search">) => r.hits.map((h) => h.snippet).sort();

  /** Waits until `client`'s search for `q` finds exactly `count` hits (the index follows the log). */
  async function settled(client: ColinkClient, q: string, count: number): Promise<ResultOf<"search">> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const result = await search(client, q, { limit: 50 });
      if (result.hits.length === count) return result;
      if (Date.now() > deadline) throw new Error(`${q}: ${result.hits.length} hits, not ${count}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("shows each user only the channels they can read: members, outsiders, guests", async () => {
    const { client: alice } = await fixture.connect("s-alice");
    const { client: bob, userId: bobId } = await fixture.connect("s-bob");
    const { client: carol } = await fixture.connect("s-carol");
    const guestToken = await guestSignIn(fixture.server.baseUrl, "s-gus");
    const { client: gus, userId: gusId } = await fixture.connect("s-gus", { token: guestToken });

    const { channel: open } = await alice.request("ch.create", { name: "launch", kind: "public" });
    const { channel: secret } = await alice.request("ch.create", { name: "vault", kind: "private" });
    const { channel: guests } = await alice.request("ch.create", { name: "lobby", kind: "public" });
    await alice.request("ch.invite", { channelId: guests.id, userId: gusId });
    const { channel: dm } = await alice.request("dm.open", { userIds: [bobId] });
    await bob.request("ch.join", { channelId: open.id });

    const { message: root } = await alice.send(open.id, "the rocket launches tomorrow");
    await bob.send(open.id, "rocket fuel is ready https://fuel.example");
    await alice.send(open.id, "rocket reply in the thread", { threadRootId: root.id });
    await alice.send(secret.id, "rocket secret formula");
    await bob.send(dm.id, "rocket between friends");
    await alice.send(guests.id, "rocket for our guests");

    const all = await settled(alice, "rocket", 6);
    expect(new Set(all.hits.map((h) => h.channelId))).toEqual(
      new Set([open.id, secret.id, dm.id, guests.id]),
    );
    // bob: the public channels and his DM, not the private channel he is not in.
    expect(texts(await settled(bob, "rocket", 5))).not.toContain("rocket secret formula");
    // carol, in nothing: the public channels only.
    expect(texts(await search(carol, "rocket", { limit: 50 }))).toEqual([
      "rocket for our guests",
      "rocket fuel is ready https://fuel.example",
      "rocket reply in the thread",
      "the rocket launches tomorrow",
    ]);
    // gus, a guest: only the channel he was invited to, not the other public ones.
    expect(texts(await search(gus, "rocket", { limit: 50 }))).toEqual(["rocket for our guests"]);
    // Naming a channel one cannot read finds nothing, as if it did not exist.
    expect((await search(carol, "rocket", { channelId: secret.id })).hits).toEqual([]);
    expect((await search(carol, "formula in:#vault")).hits).toEqual([]);
    expect((await search(gus, "rocket in:#launch")).hits).toEqual([]);

    // Modifiers.
    expect(texts(await search(alice, "rocket from:@s-bob"))).toEqual([
      "rocket between friends",
      "rocket fuel is ready https://fuel.example",
    ]);
    expect((await search(alice, "rocket in:#launch")).hits).toHaveLength(3);
    expect(texts(await search(alice, "rocket has:link"))).toEqual([
      "rocket fuel is ready https://fuel.example",
    ]);
    expect(texts(await search(alice, "rocket is:thread"))).toEqual([
      "rocket reply in the thread",
      "the rocket launches tomorrow",
    ]);
    expect(texts(await search(alice, '"secret formula"'))).toEqual(["rocket secret formula"]);
    expect((await search(alice, "rocket -secret -friends -guests -fuel -thread")).hits).toHaveLength(1);
    expect((await search(alice, "from:@nobody-here")).hits).toEqual([]);
    const reply = (await search(alice, "reply")).hits[0]!;
    expect(reply).toMatchObject({ channelId: open.id, threadRootId: root.id, authorId: expect.any(String) });
    expect(reply.marks.map(([a, b]) => reply.snippet.slice(a, b))).toEqual(["reply"]);
  });

  it("follows edits, deletes and reactions, and pages by cursor over WebSocket and HTTP", async () => {
    const { client: dana, token } = await fixture.connect("s-dana");
    const { channel } = await dana.request("ch.create", { name: "edits", kind: "private" });
    const { message: draft } = await dana.send(channel.id, "comet draft text");
    const { message: gone } = await dana.send(channel.id, "comet to be deleted");
    for (let i = 0; i < 3; i++) await dana.send(channel.id, `comet page ${i}`);
    await settled(dana, "comet", 5);

    await dana.request("msg.edit", {
      channelId: channel.id,
      messageId: draft.id,
      text: "comet final wording",
    });
    await dana.request("msg.delete", { channelId: channel.id, messageId: gone.id });
    await dana.request("react.add", { channelId: channel.id, messageId: draft.id, emoji: "tada" });
    await settled(dana, "comet", 4);
    await settled(dana, "comet has:reaction", 1);
    expect((await search(dana, "draft")).hits).toEqual([]);
    expect(texts(await search(dana, "wording"))).toEqual(["comet final wording"]);

    const first = await search(dana, "comet", { limit: 3 });
    expect(first.nextCursor).toBe("3");
    const second = await search(dana, "comet", { limit: 3, cursor: first.nextCursor! });
    expect(second.nextCursor).toBeNull();
    const ids = [...first.hits, ...second.hits].map((h) => h.messageId);
    expect(new Set(ids).size).toBe(4);

    const http = await api(fixture.server, token, "GET", "/v1/search?q=comet&limit=3&sort=relevance");
    expect(http.status).toBe(200);
    expect((http.body as ResultOf<"search">).hits).toHaveLength(3);
    expect((http.body as ResultOf<"search">).nextCursor).toBe("3");
  });

  it("refuses a query with nothing to search, and bad arguments, with bad_request", async () => {
    const { client: erin, token } = await fixture.connect("s-erin");
    for (const q of ["   ", "!!! ???", '""']) {
      await expect(search(erin, q)).rejects.toMatchObject({ code: "bad_request" });
    }
    const bad = await api(fixture.server, token, "GET", "/v1/search?q=x&cursor=abc");
    expect(bad.status).toBe(400);
    const long = await api(fixture.server, token, "GET", `/v1/search?q=${"x".repeat(501)}`);
    expect(long.status).toBe(400);
  });
});

/** `search` args, typed. */
function searchArgs(args: {
  q: string;
  channelId?: string;
  limit?: number;
  cursor?: string;
  sort?: "recent" | "relevance";
}) {
  return args;
}

/** A dev token for a guest. */
async function guestSignIn(baseUrl: string, username: string): Promise<string> {
  const res = await fetch(`${baseUrl}/auth/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, role: "guest" }),
  });
  return ((await res.json()) as { accessToken: string }).accessToken;
}

describe("npm run reindex", () => {
  const fixture = serverForBlock("postgres");

  it("indexes every log again from scratch with progress lines, and resumes where it stopped", async () => {
    const { client } = await fixture.connect("r-ruth");
    const { channel } = await client.request("ch.create", { name: "archive", kind: "public" });
    for (let i = 0; i < 30; i++) await client.send(channel.id, `nebula note ${i}`);
    const env = {
      ...(process.env as Record<string, string>),
      DATABASE_URL: localDatabaseUrl,
      COLINK_DB_SCHEMA: fixture.server.schema!,
      COLINK_LOG_LEVEL: "info",
      // The same configuration as the server it works for.
      COLINK_DEV_AUTH: "on",
    };
    const run = (args: string[]) => execFileSync("node", [reindexScript, ...args], { env, encoding: "utf8" });
    const fromScratch = run(["--from-scratch"]);
    const lines = fromScratch
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    const last = lines.at(-1) as { total: number; done: number; left: number };
    expect(last.total).toBeGreaterThanOrEqual(32);
    expect(last.done).toBeGreaterThanOrEqual(last.total);
    expect(last.left).toBe(0);
    // Nothing left: a second run indexes nothing.
    const again = run([])
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    expect((again.at(-1) as { total: number }).total).toBe(0);
    const { hits } = await client.request("search", { q: "nebula", limit: 50 });
    expect(hits).toHaveLength(30);
  });
});
