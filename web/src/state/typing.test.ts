import { describe, expect, it } from "vitest";
import { shouldSendTyping, typingText, typistsIn, withoutExpired, withTyping } from "./typing.js";

describe("typing", () => {
  it("keeps one entry per user and place, and drops it when it expires", () => {
    const a = withTyping([], { userId: "U1", expiresAt: 10, threadRootId: null });
    const b = withTyping(a, { userId: "U1", expiresAt: 20, threadRootId: null });
    expect(b).toEqual([{ userId: "U1", expiresAt: 20, threadRootId: null }]);
    expect(withoutExpired(b, 25)).toEqual([]);
    expect(withoutExpired(b, 15)).toBe(b);
  });

  it("lists who types in the conversation or in one thread, never me", () => {
    const entries = [
      { userId: "U1", expiresAt: 10, threadRootId: null },
      { userId: "U2", expiresAt: 10, threadRootId: "R" },
      { userId: "Ume", expiresAt: 10, threadRootId: null },
    ];
    expect(typistsIn(entries, null, "Ume", 5)).toEqual(["U1"]);
    expect(typistsIn(entries, "R", "Ume", 5)).toEqual(["U2"]);
    expect(typistsIn(entries, null, "Ume", 11)).toEqual([]);
  });

  it("says who is typing", () => {
    expect(typingText(["alice"])).toBe("alice is typing…");
    expect(typingText(["alice", "bob"])).toBe("alice and bob are typing…");
    expect(typingText(["a", "b", "c"])).toBe("3 people are typing…");
  });

  it("sends the typing op at most every 2 s", () => {
    expect(shouldSendTyping(undefined, 0)).toBe(true);
    expect(shouldSendTyping(1000, 2500)).toBe(false);
    expect(shouldSendTyping(1000, 3000)).toBe(true);
  });
});
