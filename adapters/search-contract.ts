/**
 * The one contract suite of the `SearchIndex` port. Every adapter runs it against its
 * real engine: the Postgres full-text adapter on PGlite and on Postgres (through their
 * Store), and OpenSearch when it lands. The same queries must give the same hit sets on
 * every adapter; ranking may differ, so only `recent` order is compared exactly.
 *
 * Tests share one index per run, so each test searches only channels of its own.
 */
import { describe, expect, it } from "vitest";
import type { SearchDocument, SearchIndex, SearchRequest } from "../core/ports.js";
import type { User } from "../core/types.js";
import { fresh, T0 } from "./store-contract/test-data.js";

/** A search of `channelIds`: no words, no filters, newest first, 50 a page, unless `fields` say. */
export function searchRequest(channelIds: string[], fields: Partial<SearchRequest> = {}): SearchRequest {
  return {
    words: [],
    phrases: [],
    excluded: [],
    channelIds,
    authorIds: null,
    since: null,
    until: null,
    hasLink: false,
    hasReaction: false,
    isThread: false,
    sort: "recent",
    limit: 50,
    offset: 0,
    ...fields,
  };
}

/** One test's documents: their own channels, times counting up from T0. */
class Corpus {
  readonly channels = [fresh("C"), fresh("C")];
  private n = 0;
  readonly docs: SearchDocument[] = [];

  add(text: string, fields: Partial<SearchDocument> = {}): SearchDocument {
    this.n++;
    const doc: SearchDocument = {
      messageId: fresh("M"),
      channelId: this.channels[0]!,
      seq: this.n,
      authorId: "Ualice",
      text,
      createdAt: T0 + this.n * 60_000,
      threadRootId: null,
      inThread: false,
      hasLink: false,
      hasReaction: false,
      version: this.n,
      ...fields,
    };
    this.docs.push(doc);
    return doc;
  }

  /** A request over this corpus's channels. */
  request(fields: Partial<SearchRequest>): SearchRequest {
    return searchRequest(this.channels, fields);
  }
}

/** The texts of the hits, in order. */
async function texts(index: SearchIndex, corpus: Corpus, req: Partial<SearchRequest>): Promise<string[]> {
  const { hits } = await index.search(corpus.request(req));
  const byId = new Map(corpus.docs.map((d) => [d.messageId, d.text]));
  return hits.map((h) => byId.get(h.messageId) ?? `?${h.messageId}`);
}

/**
 * Registers the SearchIndex contract for one adapter; `index()` returns the adapter once
 * the suite's `beforeAll` has opened it, and the adapter shows a write at once (an adapter
 * with a refresh interval refreshes before it answers).
 */
export function describeSearchIndexContract(name: string, index: SearchIndex): void {
  describe(`SearchIndex contract: ${name}`, () => {
    it("finds words by stem and exact code-like tokens, newest first, with the matches marked", async () => {
      const c = new Corpus();
      c.add("The deploy is running late");
      c.add("npm run build works");
      c.add("Nothing to see here");
      await index.index(c.docs);
      expect(await texts(index, c, { words: ["run"] })).toEqual([
        "npm run build works",
        "The deploy is running late",
      ]);
      expect(await texts(index, c, { words: ["npm"] })).toEqual(["npm run build works"]);
      const { hits } = await index.search(c.request({ words: ["running"] }));
      const late = hits.find((h) => h.snippet.includes("late"))!;
      expect(late.marks.map(([a, b]) => late.snippet.slice(a, b))).toEqual(["running"]);
      expect(late).toMatchObject({
        channelId: c.channels[0],
        seq: 1,
        authorId: "Ualice",
        threadRootId: null,
      });
    });

    it("matches phrases word for word, and leaves out excluded words", async () => {
      const c = new Corpus();
      c.add("the quick brown fox");
      c.add("brown quick fox");
      c.add("a quick fox and a slow dog");
      await index.index(c.docs);
      expect(await texts(index, c, { phrases: ["quick brown"] })).toEqual(["the quick brown fox"]);
      expect(await texts(index, c, { words: ["fox"], excluded: ["dog"] })).toEqual([
        "brown quick fox",
        "the quick brown fox",
      ]);
    });

    it("filters by channel, author, time, link, reaction and thread, with or without words", async () => {
      const c = new Corpus();
      const [a, b] = c.channels;
      c.add("release notes", { channelId: a });
      c.add("release party", { channelId: b, authorId: "Ubob" });
      c.add("release link https://example.com", { hasLink: true });
      c.add("release reacted", { hasReaction: true });
      c.add("release reply", { threadRootId: "Mroot", inThread: true });
      await index.index(c.docs);
      const words = ["release"];
      expect(await texts(index, c, { words, channelIds: [b!] })).toEqual(["release party"]);
      expect(await texts(index, c, { words, authorIds: ["Ubob"] })).toEqual(["release party"]);
      expect(await texts(index, c, { authorIds: ["Ubob"] })).toEqual(["release party"]);
      expect(await texts(index, c, { words, hasLink: true })).toEqual(["release link https://example.com"]);
      expect(await texts(index, c, { hasReaction: true })).toEqual(["release reacted"]);
      expect(await texts(index, c, { words, isThread: true })).toEqual(["release reply"]);
      // Times: the 2nd document is at T0 + 2 min, the 4th at T0 + 4 min.
      expect(await texts(index, c, { words, since: T0 + 2 * 60_000, until: T0 + 4 * 60_000 })).toEqual([
        "release link https://example.com",
        "release party",
      ]);
      expect(await texts(index, c, { words, authorIds: [] })).toEqual([]);
      expect(await texts(index, c, { words, channelIds: [] })).toEqual([]);
    });

    it("never answers from a channel it was not asked for", async () => {
      const c = new Corpus();
      const other = new Corpus();
      c.add("secret plans");
      other.add("secret plans");
      await index.index([...c.docs, ...other.docs]);
      const { hits } = await index.search(c.request({ words: ["secret"] }));
      expect(hits.map((h) => h.channelId)).toEqual([c.channels[0]]);
    });

    it("replaces a document only with a newer version, and removes documents", async () => {
      const c = new Corpus();
      const doc = c.add("first draft");
      await index.index([doc]);
      await index.index([{ ...doc, text: "second draft", version: doc.version + 5 }]);
      await index.index([{ ...doc, text: "stale draft", version: doc.version + 1 }]);
      const { hits } = await index.search(c.request({ words: ["draft"] }));
      expect(hits.map((h) => h.snippet)).toEqual(["second draft"]);
      expect(await texts(index, c, { words: ["first"] })).toEqual([]);
      await index.remove([doc.messageId, fresh("M")]);
      expect((await index.search(c.request({ words: ["draft"] }))).hits).toEqual([]);
      await index.remove([]);
    });

    it("pages: limit, offset and hasMore; relevance order finds the same set", async () => {
      const c = new Corpus();
      for (let i = 0; i < 5; i++) c.add(`page item ${i}${i === 2 ? " item item" : ""}`);
      await index.index(c.docs);
      const first = await index.search(c.request({ words: ["item"], limit: 2 }));
      const second = await index.search(c.request({ words: ["item"], limit: 2, offset: 2 }));
      const last = await index.search(c.request({ words: ["item"], limit: 2, offset: 4 }));
      expect([first.hasMore, second.hasMore, last.hasMore]).toEqual([true, true, false]);
      const pages = [...first.hits, ...second.hits, ...last.hits].map((h) => h.seq);
      expect(pages).toEqual([5, 4, 3, 2, 1]);
      const ranked = await index.search(c.request({ words: ["item"], sort: "relevance" }));
      expect(ranked.hits.map((h) => h.seq).sort()).toEqual([1, 2, 3, 4, 5]);
      expect(ranked.hits[0]!.seq).toBe(3);
    });

    it("takes any text as words without failing: punctuation, quotes, operators", async () => {
      const c = new Corpus();
      c.add("what about C++ & SQL?");
      await index.index(c.docs);
      for (const words of [["C++"], ["&", "|", "!"], ["'", '"'], ["<->"], ["sql?"]]) {
        await expect(index.search(c.request({ words }))).resolves.toMatchObject({ hits: expect.any(Array) });
      }
      expect(await texts(index, c, { words: ["sql"] })).toEqual(["what about C++ & SQL?"]);
    });
  });
}

/** A user of the people-search tests. */
function person(username: string, displayName: string, deactivated = false): User {
  return {
    id: fresh("U"),
    username,
    displayName,
    role: "member",
    title: "",
    timeZone: "",
    avatarFileId: null,
    deactivated,
    createdAt: T0,
  };
}

/**
 * Registers the people-search part of the contract: `put` makes users known to the index
 * (the store: inserts them; an external index: indexes them), as the user-event outbox would.
 */
export function describeUserSearchContract(
  name: string,
  index: SearchIndex,
  put: (users: User[]) => Promise<void>,
): void {
  describe(`SearchIndex contract, people: ${name}`, () => {
    it("finds active users: each word starts the username or a word of the display name, wildcards taken literally", async () => {
      const p = fresh("q").toLowerCase();
      const anna = person(`${p}a-anna`, "Zed");
      const bert = person(`${p}b-bert`, "Bert");
      const carl = person(`zz${p}-carl`, `${p.toUpperCase()} Carl`);
      const under = person(`${p}_under`, "U");
      const percent = person(`${p}%percent`, "P");
      const slash = person(`${p}\\slash`, "S");
      const star = person(`${p}*star`, "S?");
      const gone = person(`${p}c-gone`, "Gone", true);
      await put([anna, bert, carl, under, percent, slash, star, gone]);

      const names = async (q: string, limit = 50) =>
        (await index.searchUsers(q, limit)).users.map((u) => u.username);
      // Ordered by username: the alphanumeric ones only, whose order every collation agrees on.
      expect((await names(p)).filter((n) => /^[a-z0-9-]+$/.test(n))).toEqual([
        anna.username,
        bert.username,
        carl.username,
      ]);
      expect((await names(p)).sort()).toEqual(
        [anna, bert, carl, under, percent, slash, star].map((u) => u.username).sort(),
      );
      expect(await names(p.toUpperCase())).toHaveLength(7);
      expect(await names(`${p}A`)).toEqual([anna.username]);
      expect(await names(`${p} carl`)).toEqual([carl.username]);
      // Every word must match, in any order, each a start of a word.
      expect(await names(`carl  ${p}`)).toEqual([carl.username]);
      expect(await names(`${p} ca`)).toEqual([carl.username]);
      expect(await names(`${p} arl`)).toEqual([]);
      expect(await names(`${p} bert`)).toEqual([bert.username]);
      expect(await names(`zz${p}`)).toEqual([carl.username]);
      // Any word of a display name is a start: "Carl" is the second word of carl's.
      expect(await names("carl", 10_000)).toContain(carl.username);
      expect(await names(`${p}_`)).toEqual([under.username]);
      expect(await names(`${p}%`)).toEqual([percent.username]);
      expect(await names(`${p}\\`)).toEqual([slash.username]);
      expect(await names(`${p}*`)).toEqual([star.username]);
      expect(await names(`${p}? s?`)).toEqual([]);
      expect(await names(`${p}c`)).toEqual([]);
      expect(await names(p, 1)).toHaveLength(1);
      const [first] = (await index.searchUsers(`${p}b`, 10)).users;
      expect(first?.id).toBe(bert.id);
      // The exact username first, however it sorts among the others.
      const exact = person(`${p}b`, "Exact");
      await put([exact]);
      expect((await names(`${p}B`)).slice(0, 2)).toEqual([exact.username, bert.username]);
      expect(await names("   ")).toEqual([]);
    });
  });
}
