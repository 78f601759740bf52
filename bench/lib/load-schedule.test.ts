import { describe, expect, it } from "vitest";
import { type LoadSchedule, measureLoad } from "./load-schedule.js";
import { mergeEncoded, summarise } from "./stats.js";

const answerAtOnce = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A fake server that stalls: every request made between `from` and `to` (ms after the
 * first request) is answered only at `to`; the others at once.
 */
function stallingServer(from: number, to: number): () => Promise<void> {
  let start: number | undefined;
  return () => {
    const now = performance.now();
    start ??= now;
    const t = now - start;
    if (t < from || t >= to) return answerAtOnce();
    return new Promise((resolve) => setTimeout(resolve, to - t));
  };
}

const latency = (histogram: string) => summarise(mergeEncoded([histogram]));

describe("measureLoad", () => {
  it("sends on the constant-rate schedule and counts only what was intended after the warm-up", async () => {
    const s: LoadSchedule = { senders: 2, mode: "rate", ratePerSec: 400, warmupMs: 200, durationMs: 500 };
    const m = await measureLoad(s, answerAtOnce);
    // 400/s over the 500 ms window; the 80 sends of the warm-up are not counted.
    expect(m.acks).toBeGreaterThan(170);
    expect(m.acks).toBeLessThan(230);
    expect(m.errors).toBe(0);
    expect(m.elapsedMs).toBeGreaterThan(450);
    expect(latency(m.histogram).count).toBe(m.acks);
  });

  it("counts failed requests as errors, not acks", async () => {
    const s: LoadSchedule = { senders: 1, mode: "rate", ratePerSec: 200, warmupMs: 0, durationMs: 300 };
    const m = await measureLoad(s, () => Promise.reject(new Error("refused")));
    expect(m.acks).toBe(0);
    expect(m.errors).toBeGreaterThan(40);
  });

  it("measures a stall from the intended send times at a constant rate, where a closed loop hides it", async () => {
    // The server stalls for 200 ms in the middle of a 600 ms window.
    const rate: LoadSchedule = { senders: 1, mode: "rate", ratePerSec: 200, warmupMs: 0, durationMs: 600 };
    const open = await measureLoad(rate, stallingServer(200, 400));
    const o = latency(open.histogram);
    // The schedule goes on during the stall: about 40 of 120 sends wait for its end, up
    // to 200 ms each, so the stall shows in the p99 and not only in the maximum.
    expect(open.acks).toBeGreaterThan(100);
    expect(o.p99).toBeGreaterThan(150);
    expect(o.max).toBeGreaterThan(170);
    expect(o.p50).toBeLessThan(50);

    // A closed loop waits for each answer before the next send: one send sees the stall,
    // and thousands of quick ones before and after it push it out of the p99.
    const closed: LoadSchedule = { ...rate, mode: "closed" };
    const c = latency((await measureLoad(closed, stallingServer(200, 400))).histogram);
    expect(c.max).toBeGreaterThan(150);
    expect(c.p99).toBeLessThan(50);
  });
});
