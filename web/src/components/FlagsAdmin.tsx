/**
 * The Flags page (moderators and admins): the open flags, or the resolved ones, newest
 * first, a page at a time (`flags.list`); each shows the flagged message with its original
 * text and the reporter's reason, and an open one a Resolve button (ResolveFlagDialog).
 */
import { useState } from "react";
import { useChat } from "../chat-context.js";
import { usePagedList } from "../hooks/use-paged-list.js";
import type { Flag, FlagStatus } from "../state/admin-types.js";
import { FlaggedMessage } from "./FlaggedMessage.js";
import { PagedListView } from "./PagedListView.js";
import { PaneHeader } from "./PaneHeader.js";
import { ResolveFlagDialog } from "./ResolveFlagDialog.js";

const pageLimit = 20;

const tabs: ReadonlyArray<{ status: FlagStatus; label: string }> = [
  { status: "open", label: "Open" },
  { status: "resolved", label: "Resolved" },
];

export function FlagsAdmin() {
  const { admin } = useChat();
  const [status, setStatus] = useState<FlagStatus>("open");
  const list = usePagedList(status, (cursor) => admin.flags(status, cursor, pageLimit));
  const [resolving, setResolving] = useState<Flag | null>(null);
  const [resolved, setResolved] = useState<string | null>(null);

  const onResolved = (flag: Flag) => {
    // A removal resolves the message's other open flags with it (the server does the same).
    list.update((flags) =>
      flags.filter(
        (f) => f.id !== flag.id && !(flag.resolution === "removed" && f.messageId === flag.messageId),
      ),
    );
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
        <PagedListView
          list={list}
          failure="Could not list flags"
          empty={status === "open" ? "No open flags." : "No resolved flags."}
          pagerLabel="Flag pages"
        >
          {(items) => (
            <ul className="flag-list" aria-label={status === "open" ? "Open flags" : "Resolved flags"}>
              {items.map((flag) => (
                <li key={flag.id} className="flag-item" data-flag-id={flag.id}>
                  <FlaggedMessage flag={flag} />
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
        </PagedListView>
      </div>
      {resolving && (
        <ResolveFlagDialog flag={resolving} onResolved={onResolved} onClose={() => setResolving(null)} />
      )}
    </main>
  );
}
