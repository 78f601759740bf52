import { describe, expect, it } from "vitest";
import { adminPagesFor, moderates } from "./admin-access.js";

describe("administration access", () => {
  it("opens every page to admins, the flags to moderators, nothing to others", () => {
    expect(adminPagesFor("admin")).toEqual(["users", "flags", "audit"]);
    expect(adminPagesFor("moderator")).toEqual(["flags"]);
    expect(adminPagesFor("member")).toEqual([]);
    expect(adminPagesFor("guest")).toEqual([]);
    expect(adminPagesFor(undefined)).toEqual([]);
  });

  it("lets moderators and admins remove others' messages", () => {
    expect([moderates("admin"), moderates("moderator"), moderates("member"), moderates("guest")]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
