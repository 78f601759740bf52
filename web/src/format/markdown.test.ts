import { describe, expect, it } from "vitest";
import { parseInline, parseMessage } from "./markdown.js";

describe("inline formatting", () => {
  it("parses bold, italic, strike and code", () => {
    expect(parseInline("a **b** _c_ ~d~ `e`")).toEqual([
      { kind: "text", text: "a " },
      { kind: "bold", children: [{ kind: "text", text: "b" }] },
      { kind: "text", text: " " },
      { kind: "italic", children: [{ kind: "text", text: "c" }] },
      { kind: "text", text: " " },
      { kind: "strike", children: [{ kind: "text", text: "d" }] },
      { kind: "text", text: " " },
      { kind: "code", text: "e" },
    ]);
  });

  it("nests italic in bold, and keeps code literal", () => {
    expect(parseInline("**_x_**")).toEqual([
      { kind: "bold", children: [{ kind: "italic", children: [{ kind: "text", text: "x" }] }] },
    ]);
    expect(parseInline("`**no**`")).toEqual([{ kind: "code", text: "**no**" }]);
  });

  it("leaves snake_case words and unclosed markers as text", () => {
    expect(parseInline("snake_case_name and **open")).toEqual([
      { kind: "text", text: "snake_case_name and **open" },
    ]);
  });

  it("keeps HTML as text", () => {
    const text = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
    expect(parseInline(text)).toEqual([{ kind: "text", text }]);
  });

  it("links http and https URLs only, without trailing punctuation", () => {
    expect(parseInline("see https://example.com/a?b=1.")).toEqual([
      { kind: "text", text: "see " },
      { kind: "link", href: "https://example.com/a?b=1", text: "https://example.com/a?b=1" },
      { kind: "text", text: "." },
    ]);
    expect(parseInline("javascript:alert(1) ftp://x.org")).toEqual([
      { kind: "text", text: "javascript:alert(1) ftp://x.org" },
    ]);
  });

  it("finds @mentions, not e-mail addresses", () => {
    expect(parseInline("hi @alice. mail bob@example.com")).toEqual([
      { kind: "text", text: "hi " },
      { kind: "mention", name: "alice" },
      { kind: "text", text: ". mail bob@example.com" },
    ]);
  });
});

describe("blocks", () => {
  it("splits fenced code blocks from paragraphs, dropping the info string", () => {
    expect(parseMessage("before\n```ts\nconst a = **1**;\n```\nafter")).toEqual([
      { kind: "paragraph", inlines: [{ kind: "text", text: "before" }] },
      { kind: "code", text: "const a = **1**;" },
      { kind: "paragraph", inlines: [{ kind: "text", text: "after" }] },
    ]);
  });

  it("leaves an unclosed fence as text", () => {
    expect(parseMessage("```\nopen")).toEqual([
      { kind: "paragraph", inlines: [{ kind: "text", text: "```\nopen" }] },
    ]);
  });
});
