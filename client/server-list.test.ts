import { describe, expect, it } from "vitest";
import { ServerList } from "./server-list.js";

describe("ServerList", () => {
  it("starts at the first URL and rotates round robin", () => {
    const list = new ServerList(["ws://a:1/ws", "ws://b:2/ws", "ws://c:3/ws"]);
    expect(list.current).toBe("ws://a:1/ws");
    expect([list.next(), list.next(), list.next(), list.next()]).toEqual([
      "ws://b:2/ws",
      "ws://c:3/ws",
      "ws://a:1/ws",
      "ws://b:2/ws",
    ]);
    expect(list.current).toBe("ws://b:2/ws");
  });

  it("takes a single URL, which next() keeps", () => {
    const list = new ServerList("ws://a:1/ws");
    expect(list.urls).toEqual(["ws://a:1/ws"]);
    expect(list.next()).toBe("ws://a:1/ws");
    expect(list.current).toBe("ws://a:1/ws");
  });

  it("rejects an empty list", () => {
    expect(() => new ServerList([])).toThrow(TypeError);
    expect(() => new ServerList([])).toThrow(/no server URL/);
  });

  it("rejects a malformed URL anywhere in the list, naming it", () => {
    expect(() => new ServerList("not a url")).toThrow(/invalid server URL: "not a url"/);
    expect(() => new ServerList(["ws://a:1/ws", "ws://b:2/ws", "//b:2/ws"])).toThrow(TypeError);
    expect(() => new ServerList(["ws://a:1/ws", ""])).toThrow(/invalid server URL: ""/);
  });

  it("copies the list, so that later changes to the caller's array do not matter", () => {
    const urls = ["ws://a:1/ws", "ws://b:2/ws"];
    const list = new ServerList(urls);
    urls.push("nonsense");
    urls[0] = "also nonsense";
    expect(list.urls).toEqual(["ws://a:1/ws", "ws://b:2/ws"]);
  });
});
