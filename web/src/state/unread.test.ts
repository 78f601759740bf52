import { describe, expect, it } from "vitest";
import { message } from "./test-messages.js";
import {
  freshUnread,
  unreadAfterMention,
  unreadAfterMessage,
  unreadAfterRead,
  unreadAfterThreadReply,
  unreadFromSummary,
} from "./unread.js";

describe("unread counts", () => {
  const start = { lastReadSeq: 10, unread: 1, mentions: 0, latestSeq: 12 };

  it("starts from the summary, with the newest seq known", () => {
    const state = unreadFromSummary(
      [{ channelId: "C1", lastReadSeq: 4, unread: 2, mentions: 1, threads: 0 }],
      { C1: 9 },
    );
    expect(state.C1).toEqual({ lastReadSeq: 4, unread: 2, mentions: 1, latestSeq: 9 });
  });

  it("counts others' new top-level messages and their mentions of me", () => {
    const plain = unreadAfterMessage(start, message({ id: "M", seq: 13 }), "Ume");
    expect(plain).toMatchObject({ unread: 2, mentions: 0, latestSeq: 13 });
    const mention = unreadAfterMessage(plain, message({ id: "N", seq: 14, mentions: ["Ume"] }), "Ume");
    expect(mention).toMatchObject({ unread: 3, mentions: 1 });
    const here = unreadAfterMessage(mention, message({ id: "O", seq: 15, broadcast: "here" }), "Ume");
    expect(here).toMatchObject({ unread: 4, mentions: 2 });
  });

  it("does not count my own messages, thread replies, or messages already read", () => {
    expect(unreadAfterMessage(start, message({ id: "M", seq: 13, authorId: "Ume" }), "Ume").unread).toBe(1);
    expect(unreadAfterMessage(start, message({ id: "M", seq: 13, threadRootId: "R" }), "Ume").unread).toBe(1);
    expect(unreadAfterMessage(start, message({ id: "M", seq: 9 }), "Ume").unread).toBe(1);
  });

  it("counts a thread reply that names me once, through the mention event", () => {
    const reply = message({ id: "M", seq: 13, threadRootId: "R", mentions: ["Ume"] });
    expect(unreadAfterMention(start, reply, "Ume")).toMatchObject({ unread: 2, mentions: 1 });
    expect(unreadAfterMention(start, message({ id: "T", seq: 13, mentions: ["Ume"] }), "Ume")).toBe(start);
  });

  it("counts a reply in a followed thread, with @channel as a mention", () => {
    const reply = message({ id: "M", seq: 13, threadRootId: "R", broadcast: "channel" });
    expect(unreadAfterThreadReply(start, reply, "Ume")).toMatchObject({ unread: 2, mentions: 1 });
    expect(unreadAfterMention(start, reply, "Ume")).toBe(start);
  });

  it("clears when another session reads to the end, and asks again when it reads part", () => {
    expect(unreadAfterRead(start, 12)).toEqual({
      state: { ...start, lastReadSeq: 12, unread: 0, mentions: 0 },
      stale: false,
    });
    expect(unreadAfterRead(start, 11)).toEqual({ state: { ...start, lastReadSeq: 11 }, stale: true });
    expect(unreadAfterRead(start, 9)).toEqual({ state: start, stale: false });
  });

  it("starts a new conversation with nothing unread", () => {
    expect(freshUnread(7)).toEqual({ lastReadSeq: 7, unread: 0, mentions: 0, latestSeq: 7 });
  });
});
