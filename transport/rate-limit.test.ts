import { describe, expect, it } from "vitest";
import { LocalRateStore } from "../adapters/local-rates/local-rate-store.js";
import { defaultLimits, type Limits } from "../core/config.js";
import { RequestRateLimits } from "./rate-limit.js";

const limits = (over: Partial<Limits>): Limits => ({ ...defaultLimits, ...over });

describe("request rate limits (one node)", () => {
  it("holds each class to its own budget per user, and says which budget and how long to wait", async () => {
    const rates = new RequestRateLimits(
      limits({ rateSend: 2, rateTyping: 1, rateWindowSec: 10, rateSendPerIp: 0 }),
      new LocalRateStore(),
    );
    expect(await rates.take("send", "u1", "1.2.3.4")).toBeNull();
    expect(await rates.take("send", "u1", "1.2.3.4")).toBeNull();
    const refused = await rates.take("send", "u1", "1.2.3.4");
    expect(refused?.code).toBe("rate_limited");
    expect(refused?.retryable).toBe(true);
    expect(refused?.details).toMatchObject({ limit: "send", scope: "user" });
    const wait = refused?.details?.retryAfterMs as number;
    expect(wait).toBeGreaterThan(9000);
    expect(wait).toBeLessThanOrEqual(10_000);
    expect(refused?.message).toContain("COLINK_RATE_SEND=2 per 10 s");
    // Another class, and another user, have budgets of their own.
    expect(await rates.take("typing", "u1", "1.2.3.4")).toBeNull();
    expect(await rates.take("send", "u2", "1.2.3.4")).toBeNull();
  });

  it("holds an address to its budget over all its users", async () => {
    const rates = new RequestRateLimits(limits({ rateSend: 100, rateSendPerIp: 3 }), new LocalRateStore());
    for (const user of ["a", "b", "c"]) expect(await rates.take("send", user, "10.0.0.1")).toBeNull();
    const refused = await rates.take("send", "d", "10.0.0.1");
    expect(refused?.details).toMatchObject({ limit: "send", scope: "ip" });
    expect(await rates.take("send", "d", "10.0.0.2")).toBeNull();
  });

  it("counts only what is known: the address before the token, the user after", async () => {
    const rates = new RequestRateLimits(limits({ rateAuth: 1, rateAuthPerIp: 1 }), new LocalRateStore());
    expect(await rates.take("auth", null, "10.0.0.9")).toBeNull();
    expect(await rates.take("auth", "u", null)).toBeNull();
    expect((await rates.take("auth", null, "10.0.0.9"))?.details).toMatchObject({ scope: "ip" });
    expect((await rates.take("auth", "u", null))?.details).toMatchObject({ scope: "user" });
  });

  it("lets everything through for a class set to 0", async () => {
    const rates = new RequestRateLimits(limits({ rateRead: 0, rateReadPerIp: 0 }), new LocalRateStore());
    for (let i = 0; i < 10_000; i++) expect(await rates.take("read", "u", "1.1.1.1")).toBeNull();
  });
});
