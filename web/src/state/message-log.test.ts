import { describe, expect, it } from "vitest";
import { emptyLog, type MessageLog } from "./app-state.js";
import {
  addConfirmed,
  addHistory,
  addPending,
  maxHeldMessages,
  pendingMessage,
  setPendingState,
  withEdit,
  withReaction,
} from "./message-log.js";
import { message } from "./test-messages.js";

const loaded: MessageLog = { ...emptyLog, loaded: true };

describe("optimistic sends", () => {
  const pending = pendingMessage("Ume", "C1", "hello", "k1", null, 5);
  const confirmed = message({ id: "M9", seq: 9, authorId: "Ume", clientMsgId: "k1", text: "hello" });

  it("shows a pending message at once, after the acknowledged ones", () => {
    const log = addPending(addHistory(loaded, [message({ id: "M1", seq: 1 })], false), pending);
    expect(log.messages.map((m) => [m.id, m.pending])).toEqual([
      ["M1", undefined],
      ["pending-k1", "sending"],
    ]);
  });

  it("replaces the pending copy with the event, and the later ack adds nothing", () => {
    const afterEvent = addConfirmed(addPending(loaded, pending), confirmed);
    expect(afterEvent.messages.map((m) => m.id)).toEqual(["M9"]);
    const afterAck = addConfirmed(afterEvent, confirmed);
    expect(afterAck).toBe(afterEvent);
  });

  it("replaces the pending copy with the ack, and the later event adds nothing", () => {
    const afterAck = addConfirmed(addPending(loaded, pending), confirmed);
    expect(addConfirmed(afterAck, { ...confirmed }).messages).toHaveLength(1);
  });

  it("does not take another author's message with the same clientMsgId for ours", () => {
    const other = message({ id: "M10", seq: 10, authorId: "Ubob", clientMsgId: "k1" });
    const log = addConfirmed(addPending(loaded, pending), other);
    expect(log.messages.map((m) => m.id)).toEqual(["M10", "pending-k1"]);
  });

  it("keeps the held copy when the ack comes after later changes", () => {
    const reacted = { ...confirmed, reactions: [{ emoji: "👍", count: 1, me: false }] };
    const log = addConfirmed(addConfirmed(loaded, reacted), confirmed);
    expect(log.messages[0]!.reactions).toHaveLength(1);
  });

  it("marks a send failed for good, and sending again on retry", () => {
    const failed = setPendingState(addPending(loaded, pending), "k1", "failed");
    expect(failed.messages[0]!.pending).toBe("failed");
    expect(setPendingState(failed, "k1", "sending").messages[0]!.pending).toBe("sending");
  });
});

describe("history", () => {
  it("merges pages in seq order without doubles and keeps hasOlder from the older page", () => {
    const newest = addHistory(loaded, [message({ id: "M5", seq: 5 }), message({ id: "M7", seq: 7 })], true);
    expect(newest.hasOlder).toBe(true);
    const older = addHistory(newest, [message({ id: "M2", seq: 2 }), message({ id: "M5", seq: 5 })], false);
    expect(older.messages.map((m) => m.seq)).toEqual([2, 5, 7]);
    expect(older.hasOlder).toBe(false);
  });

  it("keeps only the newest messages and remembers that older ones exist", () => {
    const many = Array.from({ length: maxHeldMessages + 10 }, (_, i) => message({ id: `M${i}`, seq: i + 1 }));
    const log = addHistory(loaded, many, false);
    expect(log.messages).toHaveLength(maxHeldMessages);
    expect(log.messages[0]!.seq).toBe(11);
    expect(log.hasOlder).toBe(true);
  });
});

describe("changes to held messages", () => {
  it("counts reactions from events and sets me only for the user's own", () => {
    const m = message({ id: "M1", seq: 1 });
    const theirs = withReaction(m, "👍", 1, false);
    const mine = withReaction(theirs, "👍", 1, true);
    expect(mine.reactions).toEqual([{ emoji: "👍", count: 2, me: true }]);
    const removed = withReaction(withReaction(mine, "👍", -1, true), "👍", -1, false);
    expect(removed.reactions).toEqual([]);
  });

  it("keeps which reactions are mine through an edit (events say me: false)", () => {
    const held = message({ id: "M1", seq: 1, reactions: [{ emoji: "🎉", count: 1, me: true }] });
    const edited = message({
      id: "M1",
      seq: 1,
      text: "new",
      editedAt: 9,
      reactions: [{ emoji: "🎉", count: 1, me: false }],
    });
    const next = withEdit(held, edited);
    expect(next.text).toBe("new");
    expect(next.reactions[0]!.me).toBe(true);
  });
});
