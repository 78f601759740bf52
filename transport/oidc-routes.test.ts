import { describe, expect, it } from "vitest";
import { safeReturnTo } from "./oidc-routes.js";

describe("safeReturnTo", () => {
  it("keeps a path of this site, with its query", () => {
    for (const path of ["/", "/c/C123", "/c/C1/t/M2/m/5", "/search?q=a%20b&sort=relevance"]) {
      expect(safeReturnTo(path)).toBe(path);
    }
  });

  it("sends anything that could leave the site to /", () => {
    for (const bad of [
      null,
      "",
      "c/C1",
      "https://evil.example/",
      "//evil.example/",
      "/\\evil.example/",
      "/\\/evil.example/",
      "/ok\r\nSet-Cookie: x=1",
      "/tab\there",
      "javascript:alert(1)",
      `/${"a".repeat(2048)}`,
    ]) {
      expect(safeReturnTo(bad), String(bad)).toBe("/");
    }
  });
});
