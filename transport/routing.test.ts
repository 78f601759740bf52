import { describe, expect, it } from "vitest";
import { ColinkError } from "../core/errors.js";
import { dmChannelId } from "./routing.js";

describe("dmChannelId", () => {
  it("is the same for the same set of people, whatever the order or repeats", () => {
    const id = dmChannelId(["Ub", "Ua"]);
    expect(id).toMatch(/^D[A-Za-z0-9_-]{24}$/);
    expect(dmChannelId(["Ua", "Ub", "Ua"])).toBe(id);
    expect(dmChannelId(["Ua", "Uc"])).not.toBe(id);
    expect(dmChannelId(["Ua", "Ub", "Uc"])).not.toBe(id);
  });

  it("refuses ids holding the `,` it joins with, so two sets cannot share an id", () => {
    // Joined naively, both are "Ua,Ub,Uc".
    for (const set of [
      ["Ua", "Ub,Uc"],
      ["Ua,Ub", "Uc"],
      ["U\u0000a", "Ub"],
    ]) {
      expect(() => dmChannelId(set)).toThrow(ColinkError);
      expect(() => dmChannelId(set)).toThrow("a user id has characters user ids cannot have");
    }
    expect(dmChannelId(["auth0|x", "ana@corp.example", "a.b:c_d-e"])).toMatch(/^D/);
  });
});
