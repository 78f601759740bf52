/**
 * The results of a message search (`/search?q=…`): the hits grouped by channel under a
 * heading with the channel's name, the order (Most recent / Most relevant), Load more while
 * the server has more, "No results", and the error when the search fails. The Workspace
 * mounts it anew per query and order.
 */
import type { Channel } from "@colink/client";
import { useEffect, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { errorMessage } from "../logger.js";
import { navigate, type SearchSort } from "../routes.js";
import { conversationName, conversationSymbol } from "../state/conversation-name.js";
import { appendHits, groupHitsByChannel, type SearchHit } from "../state/search-results.js";
import { PaneHeader } from "./PaneHeader.js";
import { SearchHitItem } from "./SearchHitItem.js";

const pageLimit = 20;

const sorts: ReadonlyArray<{ sort: SearchSort; label: string }> = [
  { sort: "recent", label: "Most recent" },
  { sort: "relevance", label: "Most relevant" },
];

interface Results {
  hits: SearchHit[];
  nextCursor: string | null;
}

export function SearchResults({ query, sort }: { query: string; sort: SearchSort }) {
  const { actions } = useChat();
  const conversations = useChatState((s) => s.conversations);
  const members = useChatState((s) => s.members);
  const users = useChatState((s) => s.users);
  const me = useChatState((s) => s.me?.id ?? "");
  const [results, setResults] = useState<Results | null>(null);
  const [loading, setLoading] = useState(query.trim() !== "");
  const [error, setError] = useState<string | null>(null);
  /** Channels the user is not a member of (public ones), looked up for their names. */
  const [others, setOthers] = useState<Record<string, Channel>>({});

  const load = async (cursor: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = await actions.search({ q: query, sort, limit: pageLimit, ...(cursor ? { cursor } : {}) });
      setResults((held) => ({
        hits: cursor && held ? appendHits(held.hits, page.hits) : page.hits,
        nextCursor: page.nextCursor,
      }));
    } catch (failure) {
      setError(`Could not search: ${errorMessage(failure)}`);
    } finally {
      setLoading(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: one search per mount (the Workspace keys it by query and order)
  useEffect(() => {
    if (query.trim() !== "") void load(null);
  }, []);

  useEffect(() => {
    const unknown = [...new Set(results?.hits.map((h) => h.channelId))].filter(
      (id) => !conversations[id] && !others[id],
    );
    if (unknown.length === 0) return;
    void actions.lookUpChannels(unknown).then((found) => {
      if (found.length > 0) setOthers((o) => ({ ...o, ...Object.fromEntries(found.map((c) => [c.id, c])) }));
    });
  }, [actions, results, conversations, others]);

  const channelName = (channelId: string): string => {
    const conversation = conversations[channelId];
    if (conversation) return conversationName(conversation, members[channelId], users, me);
    return others[channelId]?.name ?? "Channel";
  };
  const channelKind = (channelId: string) =>
    (conversations[channelId] ?? others[channelId])?.kind ?? "public";

  const hits = results?.hits ?? [];
  const status = loading
    ? "Searching…"
    : results === null
      ? ""
      : hits.length === 0
        ? "No results"
        : `${hits.length} ${hits.length === 1 ? "result" : "results"}${results.nextCursor ? ", more below" : ""}`;

  return (
    <main className="channel search-results" aria-labelledby="search-heading">
      <PaneHeader headingId="search-heading" title="Search results" subtitle={query}>
        <fieldset className="channel-tools search-order">
          <legend className="visually-hidden">Order</legend>
          {sorts.map((option) => (
            <button
              key={option.sort}
              type="button"
              className="button subtle small"
              aria-pressed={sort === option.sort}
              onClick={() => navigate({ name: "search", query, sort: option.sort }, { replace: true })}
            >
              {option.label}
            </button>
          ))}
        </fieldset>
      </PaneHeader>
      <div className="search-body">
        <p className="list-note" role="status">
          {query.trim() === "" ? "Type words to search for, then Enter." : status}
        </p>
        {error && (
          <div className="search-error" role="alert">
            {error}
          </div>
        )}
        {groupHitsByChannel(hits).map((group) => (
          <section key={group.channelId} className="search-group" aria-labelledby={`hits-${group.channelId}`}>
            <h2>
              <span className="hint" aria-hidden="true">
                {conversationSymbol(channelKind(group.channelId))}
              </span>{" "}
              <span id={`hits-${group.channelId}`}>{channelName(group.channelId)}</span>
            </h2>
            <ul>
              {group.hits.map((hit) => (
                <SearchHitItem key={hit.messageId} hit={hit} />
              ))}
            </ul>
          </section>
        ))}
        {results?.nextCursor && (
          <button
            type="button"
            className="button subtle load-more"
            disabled={loading}
            onClick={() => void load(results.nextCursor)}
          >
            Load more
          </button>
        )}
      </div>
    </main>
  );
}
