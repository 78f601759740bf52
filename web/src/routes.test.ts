import { describe, expect, it } from "vitest";
import { parseRoute, routePath } from "./routes.js";

describe("routes", () => {
  it("maps paths to views and back", () => {
    const cases: Array<[string, ReturnType<typeof parseRoute>]> = [
      ["/", { name: "home" }],
      ["/signin", { name: "signin" }],
      ["/signin/callback", { name: "signinCallback" }],
      ["/c/C123", { name: "channel", channelId: "C123", rootId: null }],
      ["/c/C123/t/M9", { name: "channel", channelId: "C123", rootId: "M9" }],
    ];
    for (const [path, route] of cases) {
      expect(parseRoute(path)).toEqual(route);
      expect(routePath(route)).toBe(path);
    }
  });

  it("does not take other paths, or ids with other characters, for a view", () => {
    expect(parseRoute("/c/")).toEqual({ name: "notFound" });
    expect(parseRoute("/c/a%20b")).toEqual({ name: "notFound" });
    expect(parseRoute("/admin")).toEqual({ name: "notFound" });
  });
});
