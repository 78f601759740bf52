import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SignInError } from "./auth-api.js";
import { isRefusal, TokenKeeper } from "./token-keeper.js";

describe("TokenKeeper", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it("tries a renewal again when the server cannot be reached, and keeps the session", async () => {
    const lost = vi.fn();
    let calls = 0;
    const renew = vi.fn(async () => {
      calls++;
      if (calls <= 2) throw new TypeError("Failed to fetch");
      return { accessToken: "second", expiresAt: Date.now() + 3_600_000 };
    });
    // Expires in 70 s: renewed 60 s early, so in 10 s.
    const keeper = new TokenKeeper({ accessToken: "first", expiresAt: 1_070_000 }, renew, lost);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(calls).toBe(3);
    expect(lost).not.toHaveBeenCalled();
    expect(await keeper.token()).toBe("second");
    keeper.stop();
  });

  it("ends the session when the server refuses the renewal", async () => {
    const lost = vi.fn();
    const keeper = new TokenKeeper(
      { accessToken: "first", expiresAt: 1_070_000 },
      async () => {
        throw new SignInError("session expired", 401);
      },
      lost,
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(lost).toHaveBeenCalledTimes(1);
    keeper.stop();
  });

  it("tells a refusal from a failure to ask", () => {
    expect(isRefusal(new SignInError("no", 401))).toBe(true);
    expect(isRefusal(new SignInError("busy", 503))).toBe(false);
    expect(isRefusal(new SignInError("slow down", 429))).toBe(false);
    expect(isRefusal(new TypeError("Failed to fetch"))).toBe(false);
  });
});
