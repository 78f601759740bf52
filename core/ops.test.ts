import { describe, expect, it } from "vitest";
import { ColinkError } from "./errors.js";
import { isOpName, parseArgs } from "./ops.js";

describe("parseArgs", () => {
  it("accepts valid args and names the first bad field otherwise", () => {
    expect(parseArgs("msg.send", { channelId: "C1", text: "hi", clientMsgId: "k" })).toBeTruthy();
    const bad = () => parseArgs("msg.send", { channelId: "C1", text: 5, clientMsgId: "k" });
    expect(bad).toThrow(ColinkError);
    expect(bad).toThrow(/\/text/);
  });

  it("refuses extra fields, bad ids and out-of-range limits", () => {
    expect(() => parseArgs("ch.get", { channelId: "C1", extra: 1 })).toThrow(/bad_request|invalid args/);
    expect(() => parseArgs("ch.get", { channelId: "../etc" })).toThrow(/channelId/);
    expect(() => parseArgs("msg.history", { channelId: "C1", limit: 201 })).toThrow(/limit/);
    expect(() => parseArgs("ch.create", { name: "Has Space", kind: "public" })).toThrow(/name/);
  });

  it("refuses integers Postgres cannot store (one would fail the commit of every write it shares)", () => {
    const args = { channelId: "C1", text: "later", clientMsgId: "k" };
    expect(parseArgs("msg.schedule", { ...args, sendAt: Number.MAX_SAFE_INTEGER })).toBeTruthy();
    expect(() => parseArgs("msg.schedule", { ...args, sendAt: 1.2345678901234568e29 })).toThrow(/sendAt/);
    expect(() => parseArgs("msg.schedule", { ...args, sendAt: 2 ** 64 })).toThrow(/sendAt/);
  });

  it("refuses text that Postgres cannot store", () => {
    expect(() => parseArgs("msg.send", { channelId: "C1", text: "a\u0000b", clientMsgId: "k" })).toThrow(
      /NUL/,
    );
    expect(() => parseArgs("msg.send", { channelId: "C1", text: "a\ud800", clientMsgId: "k" })).toThrow(
      /surrogate/,
    );
  });

  it("knows its op names", () => {
    expect(isOpName("msg.send")).toBe(true);
    expect(isOpName("toString")).toBe(false);
    expect(isOpName("user.hello")).toBe(false);
  });
});
