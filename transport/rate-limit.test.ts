import { describe, expect, it } from "vitest";
import { ColinkError } from "../core/errors.js";
import { UserRateLimiter } from "./rate-limit.js";

describe("per-user rate limit (one node)", () => {
  it("lets a user through up to the budget of each one-second window, then says when to retry", () => {
    let now = 10_250;
    const limiter = new UserRateLimiter(3, undefined, () => now);
    for (let i = 0; i < 3; i++) expect(limiter.take("u1")).toEqual({ ok: true });
    expect(limiter.take("u1")).toEqual({ ok: false, retryAfterMs: 750 });
    // Budgets are per user.
    expect(limiter.take("u2")).toEqual({ ok: true });
    now = 11_000;
    expect(limiter.take("u1")).toEqual({ ok: true });
    limiter.stop();
  });

  it("throws rate_limited with the hint", () => {
    const limiter = new UserRateLimiter(1, undefined, () => 5_100);
    limiter.check("u");
    const err = (() => {
      try {
        limiter.check("u");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ColinkError);
    expect((err as ColinkError).code).toBe("rate_limited");
    expect((err as ColinkError).retryable).toBe(true);
    expect((err as ColinkError).details).toEqual({ retryAfterMs: 900 });
  });

  it("is off at 0", () => {
    const limiter = new UserRateLimiter(0);
    for (let i = 0; i < 10_000; i++) expect(limiter.take("u").ok).toBe(true);
  });
});
