import { describe, expect, it } from "vitest";
import { insertModifier, matchChannels, modifierQueryAt } from "./search-modifier.js";

describe("search modifier under the caret", () => {
  it("finds from: and in: with or without their @ or #", () => {
    expect(modifierQueryAt("from:", 5)).toEqual({ kind: "from", start: 0, query: "" });
    expect(modifierQueryAt("deploy from:@Bo", 15)).toEqual({ kind: "from", start: 7, query: "bo" });
    expect(modifierQueryAt("x in:#dev", 9)).toEqual({ kind: "in", start: 2, query: "dev" });
    expect(modifierQueryAt("IN:ge", 5)).toEqual({ kind: "in", start: 0, query: "ge" });
  });

  it("looks only before the caret, at a word of its own", () => {
    expect(modifierQueryAt("from:@bob deploy", 16)).toBeNull();
    expect(modifierQueryAt("from:@bob deploy", 9)).toEqual({ kind: "from", start: 0, query: "bob" });
    expect(modifierQueryAt("join:x", 6)).toBeNull();
    expect(modifierQueryAt("before:2024", 11)).toBeNull();
    expect(modifierQueryAt("plain words", 11)).toBeNull();
  });

  it("inserts the picked person or channel and moves the caret after it", () => {
    const text = "deploy from:@b later";
    const query = modifierQueryAt(text, 14)!;
    expect(insertModifier(text, query, 14, "bob")).toEqual({ text: "deploy from:@bob  later", caret: 17 });
    const inText = "in:ge";
    expect(insertModifier(inText, modifierQueryAt(inText, 5)!, 5, "general")).toEqual({
      text: "in:#general ",
      caret: 12,
    });
  });

  it("replaces the rest of the word after the caret too", () => {
    const text = "in:#devxx rest";
    expect(insertModifier(text, modifierQueryAt(text, 7)!, 7, "dev-ops").text).toBe("in:#dev-ops  rest");
  });

  it("matches channels by name prefix first, then by name part", () => {
    const channels = [{ name: "random" }, { name: "dev-ops" }, { name: "general" }, { name: "web-dev" }];
    expect(matchChannels(channels, "dev").map((c) => c.name)).toEqual(["dev-ops", "web-dev"]);
    expect(matchChannels(channels, "").map((c) => c.name)).toEqual([
      "dev-ops",
      "general",
      "random",
      "web-dev",
    ]);
    expect(matchChannels(channels, "", 2)).toHaveLength(2);
  });
});
