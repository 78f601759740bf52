import { describe, expect, it } from "vitest";
import { isExpiring, maxRefreshDelayMs, minRefreshDelayMs, refreshDelayMs } from "./token-refresh.js";

describe("token refresh scheduling", () => {
  it("renews a minute before expiry", () => {
    expect(refreshDelayMs(1_000_000 + 15 * 60_000, 1_000_000)).toBe(14 * 60_000);
  });

  it("never renews sooner than a few seconds from now, and not at all without an expiry", () => {
    expect(refreshDelayMs(1_000_030_000, 1_000_000_000)).toBe(minRefreshDelayMs);
    expect(refreshDelayMs(null, 0)).toBeNull();
  });

  it("waits no longer than a timer can (a 30-day token is renewed after about 24.8 days)", () => {
    expect(refreshDelayMs(30 * 24 * 3600_000, 0)).toBe(maxRefreshDelayMs);
  });

  it("says when a token is too close to its expiry to connect with", () => {
    expect(isExpiring(10_000, 8_000)).toBe(true);
    expect(isExpiring(100_000, 8_000)).toBe(false);
    expect(isExpiring(null, 8_000)).toBe(false);
  });
});
