/**
 * The @mention being typed in the composer: which partial name is before the caret, and the
 * text once a suggestion is picked. The name rules are the server's (docs/protocol.md,
 * Mentions): an @ at the start or after a character that cannot be part of a name.
 */
import { replaceBeforeCaret } from "./caret-token.js";

export interface MentionQuery {
  /** Index of the `@`. */
  start: number;
  /** What follows the `@` up to the caret, lowercased. */
  query: string;
}

/** The mention being typed at `caret`, or null. */
export function mentionQueryAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const match = before.match(/(^|[^A-Za-z0-9_@.])@([A-Za-z0-9._-]{0,32})$/);
  if (!match) return null;
  const query = match[2]!;
  return { start: caret - query.length - 1, query: query.toLowerCase() };
}

/** Replaces the partial mention with `@username ` and says where the caret goes. */
export function insertMention(
  text: string,
  mention: MentionQuery,
  caret: number,
  username: string,
): { text: string; caret: number } {
  return replaceBeforeCaret(text, mention.start, caret, `@${username} `, /^[A-Za-z0-9._-]*/);
}

/** The members whose username or display name starts with the query, best first, at most `limit`. */
export function matchMembers<U extends { username: string; displayName: string }>(
  users: readonly U[],
  query: string,
  limit = 8,
): U[] {
  const q = query.toLowerCase();
  return users
    .filter((u) => u.username.toLowerCase().startsWith(q) || u.displayName.toLowerCase().startsWith(q))
    .sort((a, b) => a.username.localeCompare(b.username))
    .slice(0, limit);
}
