/**
 * One search hit: author, time, "in thread" for a reply, and the snippet with its matched
 * words as <mark> elements, as a link (named by the snippet) that opens the message in its
 * conversation, or the reply in its thread, scrolled to and highlighted.
 */
import { useChatState } from "../chat-context.js";
import { splitSnippet } from "../format/snippet.js";
import { dateTimeFormat } from "../format/time.js";
import { followLink, type Route, routePath } from "../routes.js";
import { userName } from "../state/conversation-name.js";
import type { SearchHit } from "../state/search-results.js";

export function SearchHitItem({ hit }: { hit: SearchHit }) {
  const author = useChatState((s) => userName(s.users, hit.authorId));
  const route: Route = {
    name: "channel",
    channelId: hit.channelId,
    rootId: hit.threadRootId,
    focusSeq: hit.seq,
  };
  return (
    <li className="search-hit" data-message-id={hit.messageId}>
      <div className="message-meta">
        <span className="message-author">{author}</span>{" "}
        <time dateTime={new Date(hit.createdAt).toISOString()}>{dateTimeFormat.format(hit.createdAt)}</time>
        {hit.threadRootId !== null && <span className="hit-thread"> · in thread</span>}
      </div>
      <a className="hit-snippet" href={routePath(route)} onClick={followLink(route)}>
        {splitSnippet(hit.snippet, hit.marks).map((piece, i) =>
          // biome-ignore lint/suspicious/noArrayIndexKey: the pieces are cut again from the snippet; a position is their identity
          piece.marked ? <mark key={i}>{piece.text}</mark> : <span key={i}>{piece.text}</span>,
        )}
      </a>
    </li>
  );
}
