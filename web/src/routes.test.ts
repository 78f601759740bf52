import { describe, expect, it } from "vitest";
import { parseRoute, routePath } from "./routes.js";

describe("routes", () => {
  it("maps paths to views and back", () => {
    const cases: Array<[string, ReturnType<typeof parseRoute>]> = [
      ["/", { name: "home" }],
      ["/signin", { name: "signin" }],
      ["/c/C123", { name: "channel", channelId: "C123", rootId: null }],
      ["/c/C123/t/M9", { name: "channel", channelId: "C123", rootId: "M9" }],
      ["/c/C123/m/42", { name: "channel", channelId: "C123", rootId: null, focusSeq: 42 }],
      ["/c/C123/t/M9/m/7", { name: "channel", channelId: "C123", rootId: "M9", focusSeq: 7 }],
      ["/search?q=hello", { name: "search", query: "hello", sort: "recent" }],
      ["/search?q=hello&sort=relevance", { name: "search", query: "hello", sort: "relevance" }],
      ["/admin/users", { name: "admin", page: "users" }],
      ["/admin/flags", { name: "admin", page: "flags" }],
      ["/admin/audit", { name: "admin", page: "audit" }],
    ];
    for (const [path, route] of cases) {
      expect(parseRoute(path)).toEqual(route);
      expect(routePath(route)).toBe(path);
    }
  });

  it("keeps a search query's modifiers, quotes and spaces through the URL", () => {
    const route = {
      name: "search" as const,
      query: 'from:@bob in:#dev "a b" -c & d?',
      sort: "recent" as const,
    };
    const path = routePath(route);
    expect(path.startsWith("/search?q=")).toBe(true);
    expect(path).not.toContain(" ");
    expect(parseRoute(path)).toEqual(route);
  });

  it("reads an empty or odd search URL as a search for nothing, most recent first", () => {
    expect(parseRoute("/search")).toEqual({ name: "search", query: "", sort: "recent" });
    expect(parseRoute("/search?q=x&sort=weird")).toEqual({ name: "search", query: "x", sort: "recent" });
  });

  it("ignores the query string of other views", () => {
    expect(parseRoute("/c/C123?q=x")).toEqual({ name: "channel", channelId: "C123", rootId: null });
  });

  it("does not take other paths, ids with other characters, or bad seqs for a view", () => {
    expect(parseRoute("/c/")).toEqual({ name: "notFound" });
    expect(parseRoute("/c/a%20b")).toEqual({ name: "notFound" });
    expect(parseRoute("/admin")).toEqual({ name: "notFound" });
    expect(parseRoute("/c/C1/m/0")).toEqual({ name: "notFound" });
    expect(parseRoute("/c/C1/m/-3")).toEqual({ name: "notFound" });
    expect(parseRoute("/c/C1/m/x")).toEqual({ name: "notFound" });
  });
});
