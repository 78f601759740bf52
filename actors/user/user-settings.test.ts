import { describe, expect, it } from "vitest";
import type { UserSettings } from "../../core/types.js";
import { mergeSettings } from "./user-settings.js";

const base: UserSettings = { theme: "system", language: "en", notify: { C1: "mentions", C2: "none" } };

describe("mergeSettings", () => {
  it("replaces top-level fields and merges notify per channel", () => {
    expect(mergeSettings(base, { theme: "dark", notify: { C2: "mentions", C3: "none" } }, 10)).toEqual({
      theme: "dark",
      language: "en",
      notify: { C1: "mentions", C2: "mentions", C3: "none" },
    });
    expect(mergeSettings(base, {}, 10)).toEqual(base);
  });

  it("removes an entry set back to the default `all`", () => {
    expect(mergeSettings(base, { notify: { C1: "all", C9: "all" } }, 10).notify).toEqual({ C2: "none" });
  });

  it("keeps an id such as __proto__ as an ordinary entry", () => {
    const patch = JSON.parse('{"notify":{"__proto__":"none"}}');
    const merged = mergeSettings(base, patch, 10);
    expect(Object.keys(merged.notify)).toContain("__proto__");
    expect(Object.getPrototypeOf(merged.notify)).toBe(Object.prototype);
  });

  it("refuses more overrides than the limit", () => {
    expect(() => mergeSettings(base, { notify: { C3: "none" } }, 2)).toThrow(/at most 2/);
    expect(mergeSettings(base, { notify: { C1: "all", C3: "none" } }, 2).notify).toEqual({
      C2: "none",
      C3: "none",
    });
  });
});
