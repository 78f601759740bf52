import { describe, expect, it } from "vitest";
import { encodeHistogram, median, mergeEncoded, newHistogram, summarise } from "./stats.js";

describe("median", () => {
  it("is the middle value, the mean of the two middle ones for an even count, NaN for none", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe("latency histograms", () => {
  it("merge across generator processes and summarise in milliseconds", () => {
    // Two generators: 1 … 1,000 µs and 1,001 … 2,000 µs.
    const a = newHistogram();
    const b = newHistogram();
    for (let us = 1; us <= 1000; us++) a.recordValue(us);
    for (let us = 1001; us <= 2000; us++) b.recordValue(us);
    const s = summarise(mergeEncoded([encodeHistogram(a), encodeHistogram(b)]));
    expect(s.count).toBe(2000);
    // Three significant digits: within 0.1% of the exact percentile.
    expect(s.p50).toBeCloseTo(1.0, 2);
    expect(s.p99).toBeCloseTo(1.98, 2);
    expect(s.p999).toBeCloseTo(1.998, 2);
    expect(s.max).toBeCloseTo(2.0, 2);
  });
});
