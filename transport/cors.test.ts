import { describe, expect, it } from "vitest";
import { CorsPolicy } from "./cors.js";

const page = "http://127.0.0.1:5173";

describe("CorsPolicy", () => {
  it("is off without origins: no headers, every upgrade allowed", () => {
    const off = new CorsPolicy([]);
    expect(off.enabled).toBe(false);
    expect(off.responseHeaders(page)).toEqual([]);
    expect(off.preflightHeaders(page)).toEqual([]);
    expect(off.refusesUpgrade("https://evil.example")).toBe(false);
  });

  it("echoes a listed origin, with Vary, on answers and preflights", () => {
    const cors = new CorsPolicy([page, "https://chat.example.com"]);
    expect(cors.responseHeaders(page)).toEqual([
      ["access-control-allow-origin", page],
      ["vary", "Origin"],
    ]);
    const preflight = new Map(cors.preflightHeaders("https://chat.example.com"));
    expect(preflight.get("access-control-allow-origin")).toBe("https://chat.example.com");
    expect(preflight.get("access-control-allow-methods")).toBe("GET, POST, PUT, PATCH, DELETE");
    expect(preflight.get("access-control-allow-headers")).toBe(
      "authorization, content-type, idempotency-key",
    );
    expect(Number(preflight.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(preflight.get("vary")).toBe("Origin");
  });

  it("gives another origin, or none, only Vary", () => {
    const cors = new CorsPolicy([page]);
    for (const origin of ["http://127.0.0.1:5174", "https://127.0.0.1:5173", "null", ""]) {
      expect(cors.responseHeaders(origin)).toEqual([["vary", "Origin"]]);
      expect(cors.preflightHeaders(origin)).toEqual([["vary", "Origin"]]);
    }
  });

  it("refuses an upgrade from an unlisted origin, not one without Origin", () => {
    const cors = new CorsPolicy([page]);
    expect(cors.refusesUpgrade(page)).toBe(false);
    expect(cors.refusesUpgrade("")).toBe(false);
    expect(cors.refusesUpgrade("https://evil.example")).toBe(true);
    expect(cors.refusesUpgrade("null")).toBe(true);
  });
});
