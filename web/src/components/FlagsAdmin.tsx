/**
 * The Flags page (moderators and admins): the open flags, or the resolved ones, newest
 * first, a page at a time (`flags.list`); each shows the flagged message with its original
 * text and the reporter's reason, and an open one a Resolve button (ResolveFlagDialog).
 */
import type { Channel } from "@colink/client";
import { useEffect, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { usePagedList } from "../hooks/use-paged-list.js";
import type { Flag, FlagStatus } from "../state/admin-types.js";
import { FlaggedMessage } from "./FlaggedMessage.js";
import { Pager } from "./Pager.js";
import { PaneHeader } from "./PaneHeader.js";
import { ResolveFlagDialog } from "./ResolveFlagDialog.js";

const pageLimit = 20;

const tabs: ReadonlyArray<{ status: FlagStatus; label: string }> = [
  { status: "open", label: "Open" },
  { status: "resolved", label: "Resolved" },
];

export function FlagsAdmin() {
  const { admin, actions } = useChat();
  const conversations = useChatState((s) => s.conversations);
  const [status, setStatus] = useState<FlagStatus>("open");
  const list = usePagedList(status, (cursor) => admin.flags(status, cursor, pageLimit));
  const [resolving, setResolving] = useState<Flag | null>(null);
  const [resolved, setResolved] = useState<string | null>(null);
  /** Channels the moderator is not a member of, looked up for their names. */
  const [others, setOthers] = useState<Record<string, Channel | null>>({});

  useEffect(() => {
    const unknown = [...new Set(list.items?.map((f) => f.channelId))].filter(
      (id) => !conversations[id] && !(id in others),
    );
    if (unknown.length === 0) return;
    setOthers((o) => ({ ...o, ...Object.fromEntries(unknown.map((id) => [id, null])) }));
    void actions.lookUpChannels(unknown).then((found) => {
      if (found.length > 0) setOthers((o) => ({ ...o, ...Object.fromEntries(found.map((c) => [c.id, c])) }));
    });
  }, [actions, list.items, conversations, others]);

  const channelName = (channelId: string): string | undefined => {
    const channel = conversations[channelId] ?? others[channelId];
    if (!channel) return undefined;
    return channel.kind === "dm" || channel.kind === "group_dm" ? "a direct message" : `#${channel.name}`;
  };

  const onResolved = (flag: Flag) => {
    list.update((flags) => flags.filter((f) => f.id !== flag.id));
    setResolved(
      flag.resolution === "removed"
        ? "The message was removed and the flag resolved."
        : "The flag was dismissed.",
    );
  };

  return (
    <main className="channel admin-page" aria-labelledby="admin-flags-heading">
      <PaneHeader headingId="admin-flags-heading" title="Flags" subtitle="Messages people reported">
        <fieldset className="channel-tools search-order">
          <legend className="visually-hidden">Show</legend>
          {tabs.map((tab) => (
            <button
              key={tab.status}
              type="button"
              className="button subtle small"
              aria-pressed={status === tab.status}
              onClick={() => {
                setResolved(null);
                setStatus(tab.status);
              }}
            >
              {tab.label}
            </button>
          ))}
        </fieldset>
      </PaneHeader>
      <div className="admin-body">
        <p className="admin-outcome" role="status">
          {resolved ?? ""}
        </p>
        {list.error && (
          <p className="search-error" role="alert">
            Could not list flags: {list.error}
          </p>
        )}
        {list.items === null && list.loading && (
          <p className="list-note" aria-busy="true">
            Loading…
          </p>
        )}
        {list.items !== null && list.items.length === 0 && !list.loading && (
          <p className="list-note">{status === "open" ? "No open flags." : "No resolved flags."}</p>
        )}
        {list.items !== null && list.items.length > 0 && (
          <ul className="flag-list" aria-label={status === "open" ? "Open flags" : "Resolved flags"}>
            {list.items.map((flag) => (
              <li key={flag.id} className="flag-item" data-flag-id={flag.id}>
                <FlaggedMessage flag={flag} channelName={channelName(flag.channelId)} />
                {flag.status === "open" && (
                  <div className="flag-actions">
                    <button type="button" className="button small" onClick={() => setResolving(flag)}>
                      Resolve…
                    </button>
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
        <Pager
          label="Flag pages"
          trail={list.trail}
          nextCursor={list.nextCursor}
          busy={list.loading}
          onPage={list.goTo}
        />
      </div>
      {resolving && (
        <ResolveFlagDialog
          flag={resolving}
          channelName={channelName(resolving.channelId)}
          onResolved={onResolved}
          onClose={() => setResolving(null)}
        />
      )}
    </main>
  );
}
