import { describe, expect, it } from "vitest";
import { splitSnippet } from "./snippet.js";

describe("splitSnippet", () => {
  it("cuts the snippet into marked and unmarked pieces", () => {
    expect(splitSnippet("deploy the ship today", [[11, 15]])).toEqual([
      { text: "deploy the ", marked: false },
      { text: "ship", marked: true },
      { text: " today", marked: false },
    ]);
  });

  it("handles marks at both ends, and no marks", () => {
    expect(
      splitSnippet("run fast run", [
        [0, 3],
        [9, 12],
      ]),
    ).toEqual([
      { text: "run", marked: true },
      { text: " fast ", marked: false },
      { text: "run", marked: true },
    ]);
    expect(splitSnippet("plain", [])).toEqual([{ text: "plain", marked: false }]);
    expect(splitSnippet("", [[0, 2]])).toEqual([]);
  });

  it("clips, sorts and merges odd marks, showing every character once", () => {
    const pieces = splitSnippet("abcdefgh", [
      [6, 20],
      [1, 3],
      [2, 4],
      [4, 5],
      [-5, 0],
    ]);
    expect(pieces).toEqual([
      { text: "a", marked: false },
      { text: "bcde", marked: true },
      { text: "f", marked: false },
      { text: "gh", marked: true },
    ]);
    expect(pieces.map((p) => p.text).join("")).toBe("abcdefgh");
  });

  it("counts in UTF-16 units, as the server does", () => {
    const text = "😀 café 😀";
    const start = text.indexOf("café");
    expect(splitSnippet(text, [[start, start + 4]])[1]).toEqual({ text: "café", marked: true });
  });
});
