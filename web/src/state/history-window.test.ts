/** A conversation's log opened around an older message (a search hit), and scrolled from there. */
import { describe, expect, it } from "vitest";
import { emptyLog, type MessageLog } from "./app-state.js";
import {
  addConfirmed,
  addHistory,
  addNewerHistory,
  addPending,
  coversSeq,
  historyAround,
  pendingMessage,
} from "./message-log.js";
import { message } from "./test-messages.js";

const page = (seqs: number[], hasMore: boolean) => ({
  messages: seqs.map((seq) => message({ id: `M${seq}`, seq })),
  hasMore,
});
const seqs = (log: MessageLog) => log.messages.map((m) => m.seq);

describe("a window of history around a message", () => {
  const latest = addHistory({ ...emptyLog, loaded: true }, page([90, 91, 92], true).messages, true);
  const window = historyAround(latest, page([9, 10], true), page([11, 12], true));

  it("replaces the log with the pages around the message, open on both sides", () => {
    expect(seqs(window)).toEqual([9, 10, 11, 12]);
    expect(window).toMatchObject({ loaded: true, hasOlder: true, hasNewer: true });
  });

  it("says whether a message's stretch of history is held", () => {
    expect(coversSeq(window, 10)).toBe(true);
    expect(coversSeq(window, 8)).toBe(false);
    expect(coversSeq(window, 40)).toBe(false);
    expect(coversSeq(latest, 91)).toBe(true);
    expect(coversSeq(latest, 10)).toBe(false);
    // Past the newest held: a channel one does not follow is not kept up to date.
    expect(coversSeq(latest, 95)).toBe(false);
    expect(coversSeq(emptyLog, 1)).toBe(false);
    expect(coversSeq({ ...emptyLog, loaded: true }, 3)).toBe(false);
    const whole = addHistory({ ...emptyLog, loaded: true }, page([4, 5, 6], false).messages, false);
    expect(coversSeq(whole, 2)).toBe(true);
  });

  it("does not add a new message past the window's end (it comes with the newer pages)", () => {
    expect(addConfirmed(window, message({ id: "M99", seq: 99 }))).toBe(window);
    const pending = pendingMessage("Ume", "C1", "hi", "k1", null, 5);
    const sent = addConfirmed(
      addPending(window, pending),
      message({ id: "M99", seq: 99, authorId: "Ume", clientMsgId: "k1" }),
    );
    expect(seqs(sent)).toEqual([9, 10, 11, 12]);
  });

  it("grows downward until the end, then follows new messages again", () => {
    const more = addNewerHistory(window, page([13, 14], false).messages, false);
    expect(seqs(more)).toEqual([9, 10, 11, 12, 13, 14]);
    expect(more).toMatchObject({ hasOlder: true, hasNewer: false });
    expect(seqs(addConfirmed(more, message({ id: "M15", seq: 15 })))).toEqual([9, 10, 11, 12, 13, 14, 15]);
  });

  it("grows upward as before", () => {
    const older = addHistory(window, page([7, 8], false).messages, false);
    expect(seqs(older)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(older).toMatchObject({ hasOlder: false, hasNewer: true });
  });
});
