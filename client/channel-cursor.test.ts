import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChannelCursor } from "./channel-cursor.js";

/** Feeds seqs (as their own event payload) and collects what is delivered. */
function feed(c: ChannelCursor<number>, seqs: number[]): { delivered: number[]; resubscribe: boolean } {
  const delivered: number[] = [];
  let resubscribe = false;
  for (const s of seqs) {
    const step = c.push(s, s);
    delivered.push(...step.deliver);
    resubscribe ||= step.resubscribe;
  }
  return { delivered, resubscribe };
}

describe("ChannelCursor", () => {
  it("starts from the first sub reply when no position is given, holding early events", () => {
    const c = new ChannelCursor<number>();
    expect(c.beginSub()).toBeUndefined();
    // Live events racing the reply: 5 is before the subscription point, 6 and 7 after it.
    expect(feed(c, [5, 6, 7])).toEqual({ delivered: [], resubscribe: false });
    expect(c.subReply(5, false)).toEqual({ deliver: [6, 7], resubscribe: false });
    expect(c.last).toBe(7);
    expect(c.buffered).toBe(0);
  });

  it("delivers a replay after sinceSeq in order, then live events", () => {
    const c = new ChannelCursor<number>(10);
    expect(c.beginSub()).toBe(10);
    expect(feed(c, [11, 12, 13]).delivered).toEqual([11, 12, 13]);
    expect(c.subReply(13, false)).toEqual({ deliver: [], resubscribe: false });
    expect(feed(c, [14, 15]).delivered).toEqual([14, 15]);
  });

  it("drops duplicates and anything at or before the last delivered seq", () => {
    const c = new ChannelCursor<number>(3);
    c.beginSub();
    c.subReply(3, false);
    expect(feed(c, [1, 3, 4, 4, 2, 5, 5]).delivered).toEqual([4, 5]);
  });

  it("holds events after a gap and asks once to resubscribe from the last delivered seq", () => {
    const c = new ChannelCursor<number>(0);
    c.beginSub();
    c.subReply(0, false);
    expect(feed(c, [1, 2])).toEqual({ delivered: [1, 2], resubscribe: false });
    const gap = feed(c, [4, 5]);
    expect(gap).toEqual({ delivered: [], resubscribe: true });
    expect(c.hasGap).toBe(true);
    expect(c.beginSub()).toBe(2);
    // While the gap-filling sub is awaited, further gaps do not ask again.
    expect(feed(c, [7])).toEqual({ delivered: [], resubscribe: false });
    // The replay fills 3, releasing the held 4 and 5; 6 is still missing.
    expect(feed(c, [3]).delivered).toEqual([3, 4, 5]);
    expect(feed(c, [4, 5, 6]).delivered).toEqual([6, 7]);
    expect(c.subReply(6, false)).toEqual({ deliver: [], resubscribe: false });
    expect(c.last).toBe(7);
  });

  it("asks to resubscribe when a reply shows the replay was incomplete", () => {
    const c = new ChannelCursor<number>(5);
    c.beginSub();
    feed(c, [6]);
    expect(c.subReply(9, false)).toEqual({ deliver: [], resubscribe: true });
    expect(c.last).toBe(6);
  });

  it("asks to resubscribe when held events are left after a reply", () => {
    const c = new ChannelCursor<number>();
    c.beginSub();
    feed(c, [12]);
    expect(c.subReply(10, false)).toEqual({ deliver: [], resubscribe: true });
    expect(c.beginSub()).toBe(10);
    expect(feed(c, [11]).delivered).toEqual([11, 12]);
  });

  it("jumps to lastSeq on resync and drops what it held before it", () => {
    const c = new ChannelCursor<number>(5);
    c.beginSub();
    feed(c, [101, 99]);
    expect(c.subReply(100, true)).toEqual({ deliver: [101], resubscribe: false });
    expect(c.last).toBe(101);
  });

  it("follows the server on resync even when its lastSeq is below the old position", () => {
    const c = new ChannelCursor<number>(50); // e.g. a position saved against a reset log
    c.beginSub();
    expect(c.subReply(40, true)).toEqual({ deliver: [], resubscribe: false });
    expect(c.last).toBe(40);
    expect(feed(c, [41]).delivered).toEqual([41]);
  });

  it("forgets held events on disconnect and resumes from the last delivered seq", () => {
    const c = new ChannelCursor<number>(0);
    c.beginSub();
    c.subReply(0, false);
    feed(c, [1, 3]);
    c.disconnected();
    expect(c.buffered).toBe(0);
    expect(c.hasGap).toBe(false);
    expect(c.awaitingReply).toBe(false);
    expect(c.beginSub()).toBe(1);
    expect(feed(c, [2, 3]).delivered).toEqual([2, 3]);
    expect(c.subReply(3, false).resubscribe).toBe(false);
  });

  it("bounds what it holds but still notices the gap", () => {
    const c = new ChannelCursor<number>(0, 2);
    c.beginSub();
    c.subReply(0, false);
    feed(c, [2, 3, 4, 5]);
    expect(c.buffered).toBe(2);
    c.beginSub();
    expect(feed(c, [1]).delivered).toEqual([1, 2, 3]);
    expect(c.subReply(5, false).resubscribe).toBe(true); // 4 and 5 were dropped: go again
    c.beginSub();
    expect(feed(c, [4, 5]).delivered).toEqual([4, 5]);
  });

  it("ignores seqs that are not non-negative safe integers and rejects a bad start", () => {
    const c = new ChannelCursor<number>(0);
    expect(feed(c, [1.5, -1, Number.NaN, 2 ** 60])).toEqual({ delivered: [], resubscribe: false });
    expect(() => new ChannelCursor(-1)).toThrow(RangeError);
  });

  it("property: over a lossy, duplicating, reordering feed with resubscribes and reconnects, the application sees each seq once, in order", () => {
    type Op =
      | { kind: "produce"; copies: 0 | 1 | 2 }
      | { kind: "swap" }
      | { kind: "step" }
      | { kind: "reconnect" };
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(0, 1, 1, 1, 1, 2).map((copies) => ({ kind: "produce", copies }) as Op),
      },
      { weight: 1, arbitrary: fc.constant({ kind: "swap" } as Op) },
      { weight: 6, arbitrary: fc.constant({ kind: "step" } as Op) },
      { weight: 1, arbitrary: fc.constant({ kind: "reconnect" } as Op) },
    );
    fc.assert(
      fc.property(
        fc.nat(5),
        fc.boolean(),
        fc.array(op, { maxLength: 200 }),
        (initialHead, withStart, ops) => {
          let head = initialHead; // the server's log: 1..head
          type Wire = { ev: number } | { reply: number };
          let wire: Wire[] = []; // one connection: FIFO, except the lossy live path
          const start = withStart ? Math.min(initialHead, 2) : undefined;
          const c = new ChannelCursor<number>(start);
          const delivered: number[] = [];
          // Without a start, the position is the lastSeq of the first reply that arrives.
          let base = start;
          const sub = () => {
            const since = c.beginSub();
            if (since !== undefined) for (let s = since + 1; s <= head; s++) wire.push({ ev: s });
            wire.push({ reply: head });
          };
          const step = () => {
            const w = wire.shift();
            if (!w) return;
            if (base === undefined && "reply" in w) base = w.reply;
            const r = "ev" in w ? c.push(w.ev, w.ev) : c.subReply(w.reply, false);
            delivered.push(...r.deliver);
            if (r.resubscribe) sub();
          };
          sub();
          for (const o of ops) {
            if (o.kind === "produce") {
              head++;
              for (let i = 0; i < o.copies; i++) wire.push({ ev: head });
            } else if (o.kind === "swap" && wire.length >= 2) {
              const [a, b] = wire.slice(-2) as [Wire, Wire];
              if ("ev" in a && "ev" in b) wire.splice(-2, 2, b, a);
            } else if (o.kind === "step") step();
            else if (o.kind === "reconnect") {
              wire = [];
              c.disconnected();
              sub();
            }
          }
          // Drain, then one last reconnect to pick up anything lost at the tail.
          while (wire.length > 0) step();
          c.disconnected();
          sub();
          while (wire.length > 0) step();
          const first = (base ?? head) + 1;
          const expected = Array.from({ length: head - first + 1 }, (_, i) => first + i);
          expect(delivered).toEqual(expected);
          expect(c.last).toBe(head);
          expect(c.buffered).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
