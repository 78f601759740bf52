import { describe, expect, it } from "vitest";
import { ColinkError } from "./errors.js";
import { fullTextOf, parseSearchQuery } from "./search-query.js";

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

describe("parseSearchQuery", () => {
  it("splits words, phrases and excluded words", () => {
    expect(parseSearchQuery('deploy "release notes" -draft -"old plan" fix')).toMatchObject({
      words: ["deploy", "fix"],
      phrases: ["release notes"],
      excluded: ["draft", "old plan"],
    });
  });

  it("reads the modifiers people know from Slack", () => {
    const q = parseSearchQuery("from:@Alice in:#general has:link has:reaction is:thread budget");
    expect(q).toMatchObject({
      words: ["budget"],
      from: ["alice"],
      in: ["general"],
      hasLink: true,
      hasReaction: true,
      isThread: true,
    });
    expect(parseSearchQuery("from:bob in:C123").from).toEqual(["bob"]);
    expect(parseSearchQuery("from:bob in:C123").in).toEqual(["C123"]);
  });

  it("turns dates into a time range: before is exclusive, after starts the next day, on is one day", () => {
    expect(parseSearchQuery("x before:2026-03-10")).toMatchObject({ since: null, until: day("2026-03-10") });
    expect(parseSearchQuery("x after:2026-03-10")).toMatchObject({ since: day("2026-03-11"), until: null });
    expect(parseSearchQuery("x on:2026-03-10")).toMatchObject({
      since: day("2026-03-10"),
      until: day("2026-03-11"),
    });
    // Two bounds narrow each other.
    expect(parseSearchQuery("x after:2026-03-01 before:2026-03-05 before:2026-03-09")).toMatchObject({
      since: day("2026-03-02"),
      until: day("2026-03-05"),
    });
  });

  it("keeps unknown modifiers and malformed values as plain words", () => {
    expect(
      parseSearchQuery("during:march has:gif before:yesterday on:2026-02-31 in:#bad!name").words,
    ).toEqual(["during:march", "has:gif", "before:yesterday", "on:2026-02-31", "in:#bad!name"]);
  });

  it("refuses a query that asks for nothing", () => {
    for (const q of ["", "   ", "!!!", '""', "- -", '-""']) {
      expect(() => parseSearchQuery(q), q).toThrow(ColinkError);
    }
    expect(parseSearchQuery("is:thread").isThread).toBe(true);
  });
});

describe("fullTextOf", () => {
  it("writes the text part back in websearch_to_tsquery's syntax, quotes made harmless", () => {
    expect(fullTextOf({ words: ["a", "b"], phrases: ['say "hi"'], excluded: ["c", "d e"] })).toBe(
      'a b "say  hi " -c -"d e"',
    );
    expect(fullTextOf({ words: [], phrases: [], excluded: [] })).toBe("");
  });
});
