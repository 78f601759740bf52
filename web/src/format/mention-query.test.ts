import { describe, expect, it } from "vitest";
import { insertMention, matchMembers, mentionQueryAt } from "./mention-query.js";

describe("mention query", () => {
  it("finds the partial name before the caret", () => {
    expect(mentionQueryAt("hello @Al", 9)).toEqual({ start: 6, query: "al" });
    expect(mentionQueryAt("@", 1)).toEqual({ start: 0, query: "" });
  });

  it("ignores e-mail addresses, and text after a space", () => {
    expect(mentionQueryAt("bob@exa", 7)).toBeNull();
    expect(mentionQueryAt("@al x", 5)).toBeNull();
  });

  it("inserts the picked username and moves the caret after it", () => {
    const text = "hi @al there";
    const query = mentionQueryAt(text, 6)!;
    expect(insertMention(text, query, 6, "alice")).toEqual({ text: "hi @alice  there", caret: 10 });
  });

  it("matches members by username or display name prefix", () => {
    const users = [
      { username: "bob", displayName: "Robert" },
      { username: "alice", displayName: "Alice" },
      { username: "rob", displayName: "Rob" },
    ];
    expect(matchMembers(users, "ro").map((u) => u.username)).toEqual(["bob", "rob"]);
    expect(matchMembers(users, "").map((u) => u.username)).toEqual(["alice", "bob", "rob"]);
  });
});
