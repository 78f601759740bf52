import { describe, expect, it } from "vitest";
import { Backoff, backoffCeiling, backoffDelay } from "./backoff.js";

describe("backoff", () => {
  it("doubles the ceiling from minDelayMs and caps it at maxDelayMs", () => {
    const o = { minDelayMs: 200, maxDelayMs: 10_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(n, o))).toEqual([
      200, 400, 800, 1600, 3200, 6400, 10_000, 10_000,
    ]);
  });

  it("uses full jitter: uniform in [0, ceiling)", () => {
    const o = { minDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(2, o, () => 0)).toBe(0);
    expect(backoffDelay(2, o, () => 0.5)).toBe(200);
    expect(backoffDelay(2, o, () => 0.999_999)).toBe(399);
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(i % 12, o);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1000);
    }
  });

  it("stays finite for huge attempt numbers and odd bounds", () => {
    expect(backoffCeiling(10_000, { minDelayMs: 200, maxDelayMs: 5000 })).toBe(5000);
    expect(backoffCeiling(10_000, { minDelayMs: 0, maxDelayMs: 5000 })).toBe(0);
    expect(backoffCeiling(3, { minDelayMs: 500, maxDelayMs: 100 })).toBe(500); // max below min: min wins
    expect(backoffCeiling(-1)).toBe(200);
  });

  it("counts attempts and resets", () => {
    const b = new Backoff({ minDelayMs: 10, maxDelayMs: 1000 }, () => 0.5);
    expect([b.next(), b.next(), b.next()]).toEqual([5, 10, 20]);
    expect(b.attempt).toBe(3);
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.next()).toBe(5);
  });
});
