/**
 * A message's text with its formatting (format/markdown.ts) as React elements: the text is
 * never parsed as HTML, so tags show as typed. Links open in a new tab without referrer.
 */
import { Fragment, type ReactNode, useMemo } from "react";
import { type Inline, parseMessage } from "../format/markdown.js";

function renderInline(inline: Inline): ReactNode {
  switch (inline.kind) {
    case "text":
      return inline.text;
    case "code":
      return <code>{inline.text}</code>;
    case "bold":
      return <strong>{renderInlines(inline.children)}</strong>;
    case "italic":
      return <em>{renderInlines(inline.children)}</em>;
    case "strike":
      return <s>{renderInlines(inline.children)}</s>;
    case "link":
      return (
        <a href={inline.href} target="_blank" rel="noopener noreferrer">
          {inline.text}
        </a>
      );
    case "mention":
      return <span className="mention">@{inline.name}</span>;
  }
}

function renderInlines(inlines: Inline[]): ReactNode[] {
  // biome-ignore lint/suspicious/noArrayIndexKey: the tree is parsed again from the text; a position is its identity
  return inlines.map((inline, i) => <Fragment key={i}>{renderInline(inline)}</Fragment>);
}

export function MessageText({ text }: { text: string }) {
  const blocks = useMemo(() => parseMessage(text), [text]);
  return (
    <div className="message-text" data-testid="message-text">
      {blocks.map((block, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the blocks are parsed again from the text; a position is their identity
        <Fragment key={i}>
          {block.kind === "code" ? (
            <pre>
              <code>{block.text}</code>
            </pre>
          ) : (
            <p>{renderInlines(block.inlines)}</p>
          )}
        </Fragment>
      ))}
    </div>
  );
}
