import { describe, expect, it } from "vitest";
import { parseSearchQuery } from "../../core/search-query.js";
import { prng } from "./prng.js";
import {
  type CorpusShape,
  channelMessages,
  guardQueries,
  messageText,
  messageView,
  planCorpus,
  queryMix,
  rareWords,
  readableChannels,
  vocabulary,
  zipfWord,
} from "./search-corpus.js";
import { copyField } from "./search-load-db.js";

const shape: CorpusShape = {
  messages: 5000,
  channels: 100,
  authors: 30,
  publicChannels: 20,
  searcherChannels: 10,
  seed: 8,
  startAt: Date.UTC(2026, 0, 1),
  spanDays: 90,
};

describe("the S8 corpus", () => {
  it("is the same for the same seed, and another for another seed", () => {
    const a = planCorpus(shape);
    const b = planCorpus(shape);
    expect(b).toEqual(a);
    expect(channelMessages(b, b.channels[7]!)).toEqual(channelMessages(a, a.channels[7]!));
    const other = planCorpus({ ...shape, seed: 9 });
    expect(other.channels.map((c) => c.id)).not.toEqual(a.channels.map((c) => c.id));
    const texts = (seed: number) => {
      const rnd = prng(seed);
      return Array.from({ length: 20 }, () => messageText(rnd));
    };
    expect(texts(1)).toEqual(texts(1));
    expect(texts(1)).not.toEqual(texts(2));
  });

  it("has the planned size, public share and memberships", () => {
    const plan = planCorpus(shape);
    expect(plan.channels.reduce((s, c) => s + c.messages, 0)).toBe(shape.messages);
    expect(plan.channels.every((c) => c.messages >= 1)).toBe(true);
    expect(plan.channels.filter((c) => c.kind === "public")).toHaveLength(shape.publicChannels);
    expect(plan.channels.filter((c) => c.searcherMember)).toHaveLength(shape.searcherChannels);
    const readable = readableChannels(plan);
    for (const c of plan.channels) expect(readable.has(c.id)).toBe(c.kind === "public" || c.searcherMember);
    expect(new Set(plan.channels.map((c) => c.id)).size).toBe(shape.channels);
    expect(new Set(plan.channels.map((c) => c.name)).size).toBe(shape.channels);
  });

  it("makes each channel's messages in seq order from 2, in time order, as Messages", () => {
    const plan = planCorpus(shape);
    const c = plan.channels[3]!;
    const list = channelMessages(plan, c);
    expect(list.map((m) => m.seq)).toEqual(Array.from({ length: c.messages }, (_, i) => i + 2));
    for (let i = 1; i < list.length; i++)
      expect(list[i]!.createdAt).toBeGreaterThanOrEqual(list[i - 1]!.createdAt);
    expect(list.every((m) => /^M[0-9A-Z]{20}$/.test(m.id))).toBe(true);
    const authors = new Set(c.members.map((m) => plan.authors[m]!.id));
    expect(list.every((m) => authors.has(m.authorId))).toBe(true);
    expect(Object.keys(messageView(list[0]!)).sort()).toEqual(
      [
        "id",
        "channelId",
        "seq",
        "authorId",
        "text",
        "clientMsgId",
        "createdAt",
        "editedAt",
        "deletedAt",
        "threadRootId",
        "replyCount",
        "lastReplyAt",
        "threadParticipants",
        "mentions",
        "broadcast",
        "reactions",
        "pinnedAt",
        "pinnedBy",
        "files",
      ].sort(),
    );
  });

  it("draws words Zipf-like: the head far more often than the tail, rare words rarely", () => {
    const rnd = prng(3);
    const counts = new Map<string, number>();
    for (let i = 0; i < 50_000; i++) {
      const w = zipfWord(rnd);
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const first = counts.get(vocabulary[0]!) ?? 0;
    const tenth = counts.get(vocabulary[9]!) ?? 0;
    expect(first / tenth).toBeGreaterThan(5);
    expect(first / tenth).toBeLessThan(20);
    const texts = Array.from({ length: 20_000 }, () => messageText(rnd));
    const rare = texts.filter((t) => t.includes(rareWords[0])).length;
    expect(rare).toBeGreaterThan(0);
    expect(rare).toBeLessThan(40);
    expect(texts.filter((t) => t.includes("https://")).length / texts.length).toBeGreaterThan(0.03);
  });
});

describe("the S8 query mix", () => {
  it("is fixed, parses, and names what the corpus holds", () => {
    const plan = planCorpus(shape);
    const mix = queryMix(plan);
    expect(mix).toEqual(queryMix(planCorpus(shape)));
    expect(mix.map((q) => q.kind)).toEqual([
      "common",
      "rare",
      "two-words",
      "phrase",
      "from",
      "in",
      "has-link",
      "date",
    ]);
    const parsed = Object.fromEntries(mix.map((q) => [q.kind, parseSearchQuery(q.q)]));
    expect(parsed.phrase!.phrases).toHaveLength(1);
    expect(parsed.from!.from).toEqual([plan.authors[0]!.username]);
    const inChannel = plan.channels.find((c) => c.name === parsed.in!.in[0]);
    expect(inChannel?.searcherMember).toBe(true);
    expect(parsed["has-link"]!.hasLink).toBe(true);
    expect(parsed.date!.since).toBeLessThan(parsed.date!.until!);
    expect(mix.every((q) => !parseSearchQuery(q.q).isThread)).toBe(true);
    // The guard names a private channel the searcher is not in.
    const [guard] = guardQueries(plan);
    const forbidden = plan.channels.find((c) => c.name === parseSearchQuery(guard!.q).in[0])!;
    expect(forbidden.kind).toBe("private");
    expect(forbidden.searcherMember).toBe(false);
  });
});

describe("copyField", () => {
  it("escapes what COPY's text format needs", () => {
    expect(copyField(null)).toBe("\\N");
    expect(copyField(12)).toBe("12");
    expect(copyField('a\tb\nc\\d"e')).toBe('a\\tb\\nc\\\\d"e');
  });
});
