/**
 * Completing the word being typed before the caret (an @mention, a search modifier): the
 * picked text replaces it, and the caret goes right after.
 */

/**
 * Replaces `text[start, caret)`, and the rest of the word after the caret (what `tail`
 * matches there), with `inserted`; says where the caret goes.
 */
export function replaceBeforeCaret(
  text: string,
  start: number,
  caret: number,
  inserted: string,
  tail: RegExp,
): { text: string; caret: number } {
  const after = text.slice(caret).replace(tail, "");
  return { text: text.slice(0, start) + inserted + after, caret: start + inserted.length };
}
