/**
 * Reaction emoji: which strings are one, and the one form each is kept under, so that two
 * reactions that look the same are the same reaction. Emoji are told by the Unicode emoji
 * data as `emoji-regex` (kept up to date with each Unicode release) compiles it: one whole
 * RGI emoji, keycaps and ZWJ sequences included. Variation selectors (U+FE0E, U+FE0F) are
 * invisible, so they are normalised: removed, then put back only where the emoji's
 * fully-qualified form has U+FE0F. In its own file, apart from message-rules.ts, because
 * the client SDK ships that one and does not need the emoji data.
 */
import emojiRegex from "emoji-regex";

/** A short name such as `thumbsup` or `+1`, kept as given. */
const shortName = /^[a-z0-9_+-]{1,64}$/;

/** Longest emoji accepted, in UTF-16 units, as given (the longest RGI sequences take about 15). */
export const maxEmojiUnits = 32;

/** Exactly one emoji of the Unicode emoji data (emoji-regex matches them one at a time). */
const wholeEmoji = new RegExp(`^(?:${emojiRegex().source})$`);

const variationSelectors = /[\uFE0E\uFE0F]/g;
/** An emoji character that is shown as text unless U+FE0F follows it (©, ❤, ☝, the keycap digits). */
const textByDefault = /^(?=\p{Emoji})\P{Emoji_Presentation}$/u;
const emojiModifier = /^\p{Emoji_Modifier}$/u;
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * `emoji` in the form it is kept under, or null when it is not a reaction emoji. A short
 * name is kept as given. Otherwise it must be exactly one grapheme and, once normalised,
 * one emoji: its variation selectors are dropped, and U+FE0F is put after each character
 * that is shown as text by default and has no skin-tone modifier after it, which is the
 * fully-qualified form Unicode defines (emoji-test.txt). So 👍 and 👍 with any number of
 * U+FE0F are one reaction (👍), as are 1⃣ and 1️⃣ (1 U+FE0F U+20E3), ❤ and ❤️.
 */
export function reactionEmoji(emoji: string): string | null {
  if (shortName.test(emoji)) return emoji;
  if (emoji.length === 0 || emoji.length > maxEmojiUnits) return null;
  let graphemes = 0;
  for (const _ of segmenter.segment(emoji)) if (++graphemes > 1) return null;
  const chars = [...emoji.replace(variationSelectors, "")];
  let qualified = "";
  chars.forEach((c, i) => {
    qualified += c;
    const next = chars[i + 1];
    if (textByDefault.test(c) && !(next !== undefined && emojiModifier.test(next))) qualified += "\uFE0F";
  });
  return wholeEmoji.test(qualified) ? qualified : null;
}
