/**
 * The search box's autocomplete: which `from:` or `in:` modifier is being typed before the
 * caret, the channels that match it, and the query once a suggestion is picked
 * (`from:@username `, `in:#channel `). The modifiers are the `search` op's (docs/protocol.md).
 */
import { replaceBeforeCaret } from "./caret-token.js";

export interface ModifierQuery {
  /** `from` suggests people, `in` channels. */
  kind: "from" | "in";
  /** Index of the modifier's first letter. */
  start: number;
  /** What follows `from:` / `from:@` or `in:` / `in:#` up to the caret, lowercased. */
  query: string;
}

/** The `from:` or `in:` modifier being typed at `caret` (a word of its own), or null. */
export function modifierQueryAt(text: string, caret: number): ModifierQuery | null {
  const before = text.slice(0, caret);
  const match = before.match(/(?:^|\s)(from|in):([@#]?)([^\s@#]*)$/i);
  if (!match) return null;
  const kind = match[1]!.toLowerCase() as ModifierQuery["kind"];
  const query = match[3]!;
  const start = caret - query.length - match[2]!.length - kind.length - 1;
  return { kind, start, query: query.toLowerCase() };
}

/** Replaces the partial modifier with the picked person (`from:@bob `) or channel (`in:#dev `). */
export function insertModifier(
  text: string,
  modifier: ModifierQuery,
  caret: number,
  value: string,
): { text: string; caret: number } {
  const inserted = modifier.kind === "from" ? `from:@${value} ` : `in:#${value} `;
  return replaceBeforeCaret(text, modifier.start, caret, inserted, /^\S*/);
}

/** The channels whose name starts with the query, then those that contain it, by name, at most `limit`. */
export function matchChannels<C extends { name: string }>(
  channels: readonly C[],
  query: string,
  limit = 8,
): C[] {
  const q = query.toLowerCase();
  const byName = (a: C, b: C) => a.name.localeCompare(b.name);
  const starting = channels.filter((c) => c.name.toLowerCase().startsWith(q)).sort(byName);
  const containing = channels
    .filter((c) => !c.name.toLowerCase().startsWith(q) && c.name.toLowerCase().includes(q))
    .sort(byName);
  return [...starting, ...containing].slice(0, limit);
}
