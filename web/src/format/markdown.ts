/**
 * The message formatting rules (docs/web.md): **bold**, _italic_, `code`, fenced code
 * blocks, ~strike~, http(s) links and @mentions, parsed into a tree that components render
 * as React elements. Nothing here produces HTML: any other text, tags included, stays text.
 */

export type Inline =
  | { kind: "text"; text: string }
  | { kind: "code"; text: string }
  | { kind: "bold" | "italic" | "strike"; children: Inline[] }
  | { kind: "link"; href: string; text: string }
  | { kind: "mention"; name: string };

export type Block = { kind: "code"; text: string } | { kind: "paragraph"; inlines: Inline[] };

const fence = "```";

/** Splits the text into fenced code blocks and paragraphs of inline formatting. */
export function parseMessage(text: string): Block[] {
  const blocks: Block[] = [];
  let rest = text;
  for (;;) {
    const open = findFence(rest, 0);
    const close = open < 0 ? -1 : rest.indexOf(fence, open + fence.length);
    if (open < 0 || close < 0) break;
    pushParagraph(blocks, rest.slice(0, open));
    let code = rest.slice(open + fence.length, close);
    // An info string (```ts) on the opening line is not code.
    const firstLine = code.match(/^[A-Za-z0-9_+-]*\n/);
    if (firstLine) code = code.slice(firstLine[0].length);
    blocks.push({ kind: "code", text: code.replace(/\n$/, "") });
    rest = rest.slice(close + fence.length).replace(/^\n/, "");
  }
  pushParagraph(blocks, rest);
  return blocks;
}

/** A fence starts a line (or the text). */
function findFence(text: string, from: number): number {
  let at = text.indexOf(fence, from);
  while (at > 0 && text[at - 1] !== "\n") at = text.indexOf(fence, at + 1);
  return at;
}

function pushParagraph(blocks: Block[], text: string): void {
  const trimmed = text.replace(/^\n+|\n+$/g, "");
  if (trimmed !== "") blocks.push({ kind: "paragraph", inlines: parseInline(trimmed) });
}

const wordChar = /[A-Za-z0-9]/;
/** Characters that may not precede an @mention: part of a name or an e-mail address. */
const beforeMention = /[A-Za-z0-9_@.]/;
const mentionName = /^@([a-zA-Z0-9][a-zA-Z0-9._-]{0,31})/;
const urlAt = /^https?:\/\/[^\s<>"]+/;

/** Parses inline formatting. Markers without their closing twin stay text. */
export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let plain = "";
  const flush = () => {
    if (plain !== "") out.push({ kind: "text", text: plain });
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const prev = i > 0 ? text[i - 1]! : "";
    const token = tokenAt(text, i, prev, ch);
    if (token) {
      flush();
      out.push(token.inline);
      i = token.end;
    } else {
      plain += ch;
      i++;
    }
  }
  flush();
  return out;
}

function tokenAt(text: string, i: number, prev: string, ch: string): { inline: Inline; end: number } | null {
  if (ch === "`") {
    const close = text.indexOf("`", i + 1);
    if (close > i + 1) return { inline: { kind: "code", text: text.slice(i + 1, close) }, end: close + 1 };
    return null;
  }
  if (text.startsWith("**", i)) {
    const close = text.indexOf("**", i + 2);
    if (close > i + 2)
      return { inline: { kind: "bold", children: parseInline(text.slice(i + 2, close)) }, end: close + 2 };
    return null;
  }
  if (ch === "_" && !wordChar.test(prev)) {
    const close = closingUnderscore(text, i + 1);
    if (close > i + 1)
      return { inline: { kind: "italic", children: parseInline(text.slice(i + 1, close)) }, end: close + 1 };
    return null;
  }
  if (ch === "~") {
    const close = text.indexOf("~", i + 1);
    if (close > i + 1)
      return { inline: { kind: "strike", children: parseInline(text.slice(i + 1, close)) }, end: close + 1 };
    return null;
  }
  if (ch === "h" && !wordChar.test(prev)) {
    const match = text.slice(i).match(urlAt);
    if (!match) return null;
    const href = match[0].replace(/[.,;:!?)'\]]+$/, "");
    if (!isWebUrl(href)) return null;
    return { inline: { kind: "link", href, text: href }, end: i + href.length };
  }
  if (ch === "@" && !beforeMention.test(prev)) {
    const match = text.slice(i).match(mentionName);
    if (!match) return null;
    const name = match[1]!.replace(/[._-]+$/, "");
    return { inline: { kind: "mention", name }, end: i + 1 + name.length };
  }
  return null;
}

/** The `_` that closes an italic: not followed by a letter or digit (so snake_case stays text). */
function closingUnderscore(text: string, from: number): number {
  let at = text.indexOf("_", from);
  while (at >= 0 && wordChar.test(text[at + 1] ?? "")) at = text.indexOf("_", at + 1);
  return at;
}

/** Only http and https links become links. */
export function isWebUrl(href: string): boolean {
  try {
    const url = new URL(href);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
