import { describe, expect, it } from "vitest";
import { newMessage, parseMentions, withoutReaction, withReaction } from "./message-rules.js";

describe("parseMentions", () => {
  it("finds usernames and broadcasts, not emails", () => {
    expect(parseMentions("hi @Alice and @bob.smith, cc @alice")).toEqual({
      usernames: ["alice", "bob.smith"],
      broadcast: null,
    });
    expect(parseMentions("mail me at x@example.com")).toEqual({ usernames: [], broadcast: null });
    expect(parseMentions("@here look")).toEqual({ usernames: [], broadcast: "here" });
    expect(parseMentions("@here and @channel")).toEqual({ usernames: [], broadcast: "channel" });
    expect(parseMentions("@everyone")).toEqual({ usernames: [], broadcast: "channel" });
    expect(parseMentions("end of sentence @carol.")).toEqual({ usernames: ["carol"], broadcast: null });
  });
});

describe("reactions", () => {
  it("adds and removes idempotently", () => {
    const one = withReaction([], "+1", "u1");
    expect(withReaction(one, "+1", "u1")).toBe(one);
    const two = withReaction(one, "+1", "u2");
    expect(two).toEqual([{ emoji: "+1", users: ["u1", "u2"] }]);
    expect(withoutReaction(two, "+1", "u1")).toEqual([{ emoji: "+1", users: ["u2"] }]);
    expect(withoutReaction(one, "+1", "u1")).toEqual([]);
    expect(withoutReaction(one, "tada", "u1")).toBe(one);
  });
});

describe("newMessage", () => {
  it("keeps the given fields and starts every other one empty", () => {
    const fields = { id: "M1", channelId: "C1", seq: 3, authorId: "U1", text: "hi", clientMsgId: "k" };
    const message = newMessage({ ...fields, createdAt: 5 });
    expect(message).toMatchObject({ ...fields, editedAt: null, threadRootId: null, replyCount: 0 });
    expect(message).toMatchObject({ mentions: [], reactions: [], pinnedAt: null, files: [] });
  });
});
