import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CookieSealer } from "./cookie-sealing.js";

describe("CookieSealer", () => {
  const sealer = new CookieSealer(randomBytes(32));
  const now = 1_700_000_000_000;

  it("opens what it sealed, until it expires", () => {
    const sealed = sealer.seal("colink_session", { u: "U1", r: "refresh" }, now + 60_000);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("refresh");
    expect(sealer.open("colink_session", sealed, now)).toEqual({ u: "U1", r: "refresh" });
    expect(sealer.open("colink_session", sealed, now + 60_000)).toBeNull();
  });

  it("opens nothing sealed for another purpose, with another key, changed or made up", () => {
    const sealed = sealer.seal("colink_login", { st: "s" }, now + 60_000);
    expect(sealer.open("colink_session", sealed, now)).toBeNull();
    expect(new CookieSealer(randomBytes(32)).open("colink_login", sealed, now)).toBeNull();
    const bytes = Buffer.from(sealed, "base64url");
    bytes[20] = bytes[20]! ^ 1;
    expect(sealer.open("colink_login", bytes.toString("base64url"), now)).toBeNull();
    for (const junk of ["", "abc", "x".repeat(100), "%%%"])
      expect(sealer.open("colink_login", junk, now)).toBeNull();
  });

  it("wants a 32-byte key", () => {
    expect(() => new CookieSealer(randomBytes(16))).toThrow(TypeError);
  });
});
