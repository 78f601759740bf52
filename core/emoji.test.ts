import { describe, expect, it } from "vitest";
import { reactionEmoji } from "./emoji.js";

const VS15 = "\uFE0E";
const VS16 = "\uFE0F";
const codes = (s: string | null) =>
  s === null ? null : [...s].map((c) => c.codePointAt(0)!.toString(16)).join(" ");

describe("reactionEmoji", () => {
  it.each(["thumbsup", "+1", "white_check_mark", "1", "smile_cat"])(
    "keeps the short name %s as given",
    (e) => {
      expect(reactionEmoji(e)).toBe(e);
    },
  );

  it.each([
    ["👍", "👍"],
    ["👍🏽", "👍🏽"],
    ["🇫🇷", "🇫🇷"],
    ["👨‍👩‍👧", "👨‍👩‍👧"],
    ["🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"],
    // Keycaps, refused before: fully qualified, or without the U+FE0F.
    [`1${VS16}\u20E3`, `1${VS16}\u20E3`],
    ["1\u20E3", `1${VS16}\u20E3`],
    [`#${VS16}\u20E3`, `#${VS16}\u20E3`],
    // Shown as text by default: U+FE0F is put in.
    ["\u2764", `\u2764${VS16}`],
    [`\u2764${VS15}`, `\u2764${VS16}`],
    ["\u00A9", `\u00A9${VS16}`],
    ["☝", `☝${VS16}`],
    // ...but not before a skin tone.
    ["☝🏽", "☝🏽"],
    [`☝${VS16}🏽`, "☝🏽"],
    // ZWJ sequences with text-default parts.
    ["🏳‍🌈", `🏳${VS16}‍🌈`],
    ["🧑‍⚕", `🧑‍⚕${VS16}`],
    ["❤‍🔥", `❤${VS16}‍🔥`],
    ["🏌‍♂", `🏌${VS16}‍♂${VS16}`],
  ])("takes %s as the emoji in its fully-qualified form", (given, kept) => {
    expect(codes(reactionEmoji(given))).toBe(codes(kept));
  });

  it("takes 👍 followed by any number of invisible variation selectors as 👍 itself", () => {
    for (const n of [1, 2, 30]) expect(reactionEmoji(`👍${VS16.repeat(n)}`)).toBe("👍");
    expect(reactionEmoji(`👍${VS15}`)).toBe("👍");
    // Past the length limit it is refused, not truncated.
    expect(reactionEmoji(`👍${VS16.repeat(31)}`)).toBeNull();
  });

  it.each([
    "",
    "Thumbs Up",
    "👍👍",
    "a".repeat(65),
    "x\u0000",
    "<script>",
    "é",

    "1\uFE0F", // a digit with VS16 is no keycap
    "🇫", // a lone regional indicator
    "👍‍👍", // a ZWJ sequence that is no emoji
    VS16,
    "\u200D",
    "👍 ",
  ])("refuses %j", (e) => {
    expect(reactionEmoji(e)).toBeNull();
  });
});
