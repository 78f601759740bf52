import { describe, expect, it } from "vitest";
import { type AppState, emptyLog, initialAppState } from "./app-state.js";
import { applyChannelEvent } from "./channel-events.js";
import { addPending, pendingMessage } from "./message-log.js";
import { applyPersonalEvent } from "./personal-events.js";
import { message } from "./test-messages.js";

const me = {
  id: "Ume",
  username: "me",
  displayName: "me",
  role: "member" as const,
  title: "",
  timeZone: "",
  avatarFileId: null,
  deactivated: false,
  createdAt: 0,
};

function stateWithLog(): AppState {
  const root = message({ id: "R", seq: 3, authorId: "Ume" });
  return {
    ...initialAppState,
    me,
    logs: { C1: { ...emptyLog, loaded: true, messages: [root] } },
    threads: { R: { ...emptyLog, loaded: true, root, followChoice: null } },
    unread: { C1: { lastReadSeq: 3, unread: 0, mentions: 0, latestSeq: 3 } },
    typing: { C1: [{ userId: "Ubob", expiresAt: 99_999, threadRootId: null }] },
  };
}

describe("channel events", () => {
  it("adds a new message to the log, counts it unread and ends its author's typing", () => {
    const next = applyChannelEvent(stateWithLog(), "C1", "message.created", {
      seq: 4,
      message: message({ id: "M4", seq: 4 }),
    });
    expect(next.logs.C1!.messages.map((m) => m.id)).toEqual(["R", "M4"]);
    expect(next.unread.C1!.unread).toBe(1);
    expect(next.typing.C1).toEqual([]);
  });

  it("puts a reply in its open thread, and thread.updated moves the root's count everywhere", () => {
    const reply = message({ id: "M5", seq: 5, threadRootId: "R" });
    let next = applyChannelEvent(stateWithLog(), "C1", "message.created", { seq: 5, message: reply });
    next = applyChannelEvent(next, "C1", "thread.updated", {
      seq: 6,
      rootId: "R",
      replyCount: 1,
      lastReplyAt: 7,
      threadParticipants: ["Ume", "Ubob"],
    });
    expect(next.threads.R!.messages.map((m) => m.id)).toEqual(["M5"]);
    expect(next.logs.C1!.messages.map((m) => m.id)).toEqual(["R"]);
    expect(next.logs.C1!.messages[0]!.replyCount).toBe(1);
    expect(next.threads.R!.root!.replyCount).toBe(1);
  });

  it("reconciles our pending message with its message.created event", () => {
    const state = stateWithLog();
    const pending = pendingMessage("Ume", "C1", "yo", "k7", null, 1);
    const withPending = { ...state, logs: { C1: addPending(state.logs.C1!, pending) } };
    const created = message({ id: "M8", seq: 8, authorId: "Ume", clientMsgId: "k7", text: "yo" });
    const next = applyChannelEvent(withPending, "C1", "message.created", { seq: 8, message: created });
    expect(next.logs.C1!.messages.map((m) => [m.id, m.pending])).toEqual([
      ["R", undefined],
      ["M8", undefined],
    ]);
    expect(next.unread.C1!.unread).toBe(0);
  });

  it("applies reactions, pins and deletions to the message held", () => {
    let next = applyChannelEvent(stateWithLog(), "C1", "reaction.added", {
      seq: 4,
      messageId: "R",
      emoji: "👍",
      userId: "Ume",
    });
    next = applyChannelEvent(next, "C1", "pin.added", { seq: 5, messageId: "R", by: "Ubob" });
    expect(next.logs.C1!.messages[0]!.reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
    expect(next.logs.C1!.messages[0]!.pinnedBy).toBe("Ubob");
    next = applyChannelEvent(next, "C1", "message.deleted", {
      seq: 6,
      messageId: "R",
      deletedAt: 50,
      by: "Ume",
    });
    expect(next.logs.C1!.messages[0]).toMatchObject({
      text: "",
      deletedAt: 50,
      reactions: [],
      pinnedAt: null,
    });
    expect(next.threads.R!.root!.deletedAt).toBe(50);
  });

  it("moves the newest seq on any event, so a read marker there clears the badge", () => {
    const next = applyChannelEvent(stateWithLog(), "C1", "reaction.added", {
      seq: 9,
      messageId: "X",
      emoji: "a",
      userId: "U",
    });
    expect(next.unread.C1!.latestSeq).toBe(9);
  });

  it("shows who is typing until the entry is replaced", () => {
    const next = applyChannelEvent(stateWithLog(), "C1", "typing", { userId: "Ubob", expiresAt: 5 });
    expect(next.typing.C1).toEqual([{ userId: "Ubob", expiresAt: 5, threadRootId: null }]);
  });
});

describe("personal events", () => {
  it("adds a DM someone opened with the user", () => {
    const channel = {
      id: "D1",
      name: "",
      kind: "dm" as const,
      topic: "",
      createdBy: "Ubob",
      createdAt: 0,
      archived: false,
      lastSeq: 3,
      memberCount: 2,
    };
    const { state } = applyPersonalEvent(stateWithLog(), "dm.opened", { channel, by: "Ubob" });
    expect(state.conversations.D1).toMatchObject({ id: "D1", myRole: "member" });
    expect(state.unread.D1).toMatchObject({ unread: 0 });
  });

  it("clears the badge when another session reads, and asks for the summary when unsure", () => {
    const state = {
      ...stateWithLog(),
      unread: { C1: { lastReadSeq: 3, unread: 2, mentions: 1, latestSeq: 9 } },
    };
    expect(
      applyPersonalEvent(state, "read.updated", { channelId: "C1", lastReadSeq: 9 }).state.unread.C1,
    ).toMatchObject({
      unread: 0,
      mentions: 0,
    });
    expect(applyPersonalEvent(state, "read.updated", { channelId: "C1", lastReadSeq: 5 }).refreshUnread).toBe(
      true,
    );
  });

  it("follows presence changes", () => {
    const { state } = applyPersonalEvent(stateWithLog(), "presence.updated", {
      userId: "Ubob",
      status: "away",
      since: 1,
    });
    expect(state.presence.Ubob).toBe("away");
  });
});
