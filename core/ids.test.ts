import { describe, expect, it } from "vitest";
import { newId } from "./ids.js";

describe("newId", () => {
  it("is a prefix and 20 Crockford base32 characters, ordered by time", () => {
    const a = newId("M", 1_700_000_000_000);
    const b = newId("M", 1_700_000_000_001);
    expect(a).toMatch(/^M[0-9A-HJKMNP-TV-Z]{20}$/);
    expect(a < b).toBe(true);
    expect(newId("C", 0).slice(1, 11)).toBe("0000000000");
  });

  it("does not repeat", () => {
    const ids = new Set(Array.from({ length: 20_000 }, () => newId("M", 1)));
    expect(ids.size).toBe(20_000);
  });
});
