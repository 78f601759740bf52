/**
 * The search query language people know from Slack: words, `"quoted phrases"`,
 * `-excluded` words, and modifiers `from:@username`, `in:#channel` (or a channel id),
 * `before:` / `after:` / `on:` a date (YYYY-MM-DD, UTC), `has:link`, `has:reaction` and
 * `is:thread`. A modifier it does not know is a plain word, as in Slack.
 */
import { fail } from "./errors.js";

/** How many words of a people search count (`search.users`); the rest are ignored. */
export const maxUserSearchWords = 5;

/** A parsed query. */
export interface SearchQuery {
  /** Words every hit holds (matched by stem). */
  words: string[];
  /** Phrases every hit holds, word for word. */
  phrases: string[];
  /** Words no hit holds. */
  excluded: string[];
  /** Usernames (lowercased, without `@`) one of which wrote the hit. */
  from: string[];
  /** Channel names (without `#`) or ids one of which holds the hit. */
  in: string[];
  /** Epoch ms: hits at or after it (`after:` a day means from the next day on). */
  since: number | null;
  /** Epoch ms: hits before it. */
  until: number | null;
  hasLink: boolean;
  hasReaction: boolean;
  /** Only thread replies and roots with replies. */
  isThread: boolean;
}

const dayMs = 24 * 60 * 60 * 1000;

/** The start (epoch ms, UTC) of a `YYYY-MM-DD` day, or null when it is not one. */
function dayStart(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const at = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const back = new Date(at);
  // Date.UTC rolls 2026-02-31 over to March: such a day does not exist.
  if (back.getUTCFullYear() !== Number(m[1]) || back.getUTCMonth() !== Number(m[2]) - 1) return null;
  return at;
}

/** Splits the query into terms: runs of non-space, with double quotes keeping spaces. */
function terms(q: string): string[] {
  return q.match(/-?"[^"]*"?|[^\s"]+/g) ?? [];
}

/** Whether a term names anything to look for after its punctuation is gone. */
function hasWordCharacters(term: string): boolean {
  return /[\p{L}\p{N}]/u.test(term);
}

/** Parses `q`. Throws `bad_request` when it asks for nothing. */
export function parseSearchQuery(q: string): SearchQuery {
  const out: SearchQuery = {
    words: [],
    phrases: [],
    excluded: [],
    from: [],
    in: [],
    since: null,
    until: null,
    hasLink: false,
    hasReaction: false,
    isThread: false,
  };
  let modifiers = 0;
  const narrow = (since: number | null, until: number | null) => {
    if (since !== null) out.since = Math.max(out.since ?? since, since);
    if (until !== null) out.until = Math.min(out.until ?? until, until);
  };
  for (const term of terms(q)) {
    if (term.startsWith('"') || term.startsWith('-"')) {
      const negated = term.startsWith("-");
      const phrase = term.replace(/^-?"/, "").replace(/"$/, "").trim();
      if (!hasWordCharacters(phrase)) continue;
      (negated ? out.excluded : out.phrases).push(phrase);
      continue;
    }
    if (term.startsWith("-") && term.length > 1) {
      if (hasWordCharacters(term)) out.excluded.push(term.slice(1));
      continue;
    }
    const colon = term.indexOf(":");
    const key = colon > 0 ? term.slice(0, colon).toLowerCase() : "";
    const value = colon > 0 ? term.slice(colon + 1) : "";
    const day = value === "" ? null : dayStart(value);
    let known = value !== "";
    if (key === "from" && /^@?[\w.-]+$/.test(value)) out.from.push(value.replace(/^@/, "").toLowerCase());
    else if (key === "in" && /^#?[\w-]+$/.test(value)) out.in.push(value.replace(/^#/, ""));
    else if (key === "before" && day !== null) narrow(null, day);
    else if (key === "after" && day !== null) narrow(day + dayMs, null);
    else if (key === "on" && day !== null) narrow(day, day + dayMs);
    else if (key === "has" && value.toLowerCase() === "link") out.hasLink = true;
    else if (key === "has" && value.toLowerCase() === "reaction") out.hasReaction = true;
    else if (key === "is" && value.toLowerCase() === "thread") out.isThread = true;
    else known = false;
    if (known) {
      modifiers++;
      continue;
    }
    if (hasWordCharacters(term)) out.words.push(term);
  }
  if (out.words.length + out.phrases.length + modifiers === 0) {
    throw fail.badRequest(
      "search for at least one word, phrase or modifier (from:, in:, before:, has:, is:…)",
    );
  }
  return out;
}

/** The query's text part as `websearch_to_tsquery` reads it: words, "phrases", -excluded. */
export function fullTextOf(query: Pick<SearchQuery, "words" | "phrases" | "excluded">): string {
  const quote = (s: string) => `"${s.replaceAll('"', " ")}"`;
  return [
    ...query.words,
    ...query.phrases.map(quote),
    ...query.excluded.map((w) => `-${w.includes(" ") ? quote(w) : w}`),
  ].join(" ");
}
