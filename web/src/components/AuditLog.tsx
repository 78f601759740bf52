/**
 * The Audit log page (admins): the entries newest first, a page at a time (`audit.list`),
 * filtered by actor (a username or an id), action, target and a range of days; each shows when, who, what, on
 * what, the details, the IP and the request id. `Verify chain` recomputes the hash chain
 * (`audit.verify`) and says whether it is intact or where it broke.
 */
import { type FormEvent, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { dateTimeFormat } from "../format/time.js";
import { usePagedList } from "../hooks/use-paged-list.js";
import { errorMessage, reportError } from "../logger.js";
import {
  type AuditFilters,
  actorName,
  auditActions,
  auditListArgs,
  detailsText,
  noAuditFilters,
  verdictText,
  withActorId,
} from "../state/audit-query.js";
import { userName } from "../state/conversation-name.js";
import { PagedListView } from "./PagedListView.js";
import { PaneHeader } from "./PaneHeader.js";

const pageLimit = 50;

type Verification =
  | { state: "running" }
  | { state: "done"; ok: boolean; text: string }
  | { state: "failed"; text: string };

/** The verdict's colour: green when intact, red when broken or not verified. */
function verdictTone(verification: Verification | null): string {
  if (verification?.state === "done") return verification.ok ? "ok" : "broken";
  return verification?.state === "failed" ? "broken" : "";
}

export function AuditLog() {
  const { admin } = useChat();
  const users = useChatState((s) => s.users);
  const [form, setForm] = useState<AuditFilters>(noAuditFilters);
  const [applied, setApplied] = useState<AuditFilters>(noAuditFilters);
  const list = usePagedList(JSON.stringify(applied), (cursor) =>
    admin.audit(auditListArgs(applied, cursor, pageLimit)),
  );
  const [verification, setVerification] = useState<Verification | null>(null);

  const field = (name: keyof AuditFilters) => ({
    value: form[name],
    onChange: (e: { target: { value: string } }) => setForm((f) => ({ ...f, [name]: e.target.value })),
  });

  /** Applies `filters`, the Actor's username (if it names one) looked up for its user id. */
  const applyFilters = async (filters: AuditFilters) => {
    const name = actorName(filters.actor);
    const found =
      name === null
        ? []
        : await admin.users(name, undefined, 20).then(
            (page) => page.items,
            (error: unknown) => {
              reportError("looking up the audit log's actor", error);
              return [];
            },
          );
    const next = withActorId(filters, found);
    if (JSON.stringify(next) === JSON.stringify(applied)) list.reload();
    else setApplied(next);
  };
  const apply = (event: FormEvent) => {
    event.preventDefault();
    void applyFilters(form);
  };
  const clear = () => {
    setForm(noAuditFilters);
    setApplied(noAuditFilters);
  };
  const filterBy = (name: "actor" | "target" | "action", value: string) => {
    const next = { ...form, [name]: value };
    setForm(next);
    setApplied(next);
  };

  const verify = async () => {
    setVerification({ state: "running" });
    try {
      const verdict = await admin.verifyAudit();
      setVerification({ state: "done", ok: verdict.ok, text: verdictText(verdict) });
    } catch (error) {
      setVerification({ state: "failed", text: `Could not verify the chain: ${errorMessage(error)}` });
    }
  };

  return (
    <main className="channel admin-page" aria-labelledby="admin-audit-heading">
      <PaneHeader headingId="admin-audit-heading" title="Audit log" subtitle="Who did what, and when">
        <div className="channel-tools">
          <button
            type="button"
            className="button small"
            disabled={verification?.state === "running"}
            onClick={() => void verify()}
          >
            Verify chain
          </button>
        </div>
      </PaneHeader>
      <div className="admin-body">
        <p className={`verdict ${verdictTone(verification)}`} role="status" data-testid="audit-verdict">
          {verification === null ? "" : verification.state === "running" ? "Verifying…" : verification.text}
        </p>
        <form className="admin-filters audit-filters" aria-label="Audit log filters" onSubmit={apply}>
          <label>
            Actor
            <input {...field("actor")} placeholder="username or id" />
          </label>
          <label>
            Action
            <select {...field("action")}>
              <option value="">Any</option>
              {auditActions.map((action) => (
                <option key={action} value={action}>
                  {action}
                </option>
              ))}
            </select>
          </label>
          <label>
            Target
            <input {...field("target")} placeholder="id" />
          </label>
          <label>
            From
            <input type="date" {...field("from")} />
          </label>
          <label>
            To
            <input type="date" {...field("to")} />
          </label>
          <div className="filter-buttons">
            <button type="submit" className="button primary small">
              Apply filters
            </button>
            <button type="button" className="button small" onClick={clear}>
              Clear
            </button>
          </div>
        </form>
        <PagedListView
          list={list}
          failure="Could not read the audit log"
          empty="No entries."
          pagerLabel="Audit log pages"
        >
          {(items) => (
            <div className="table-wrap">
              <table className="admin-table audit-table" aria-busy={list.loading}>
                <caption className="visually-hidden">Audit log entries</caption>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">Details</th>
                    <th scope="col">IP</th>
                    <th scope="col">Request</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((entry) => (
                    <tr key={entry.id} data-entry-id={entry.id} data-action={entry.action}>
                      <td className="nowrap">
                        <time dateTime={new Date(entry.at).toISOString()}>
                          {dateTimeFormat.format(entry.at)}
                        </time>
                      </td>
                      <td>
                        {entry.actorId ? (
                          <button
                            type="button"
                            className="link-button"
                            title={`Only entries by ${entry.actorId}`}
                            onClick={() => filterBy("actor", entry.actorId)}
                          >
                            {userName(users, entry.actorId)}
                          </button>
                        ) : (
                          <span className="hint">—</span>
                        )}
                      </td>
                      <td>
                        <code className="audit-action">{entry.action}</code>
                      </td>
                      <td className="breakable">
                        {entry.target ? (
                          <button
                            type="button"
                            className="link-button"
                            title={`Only entries about ${entry.target}`}
                            onClick={() => filterBy("target", entry.target)}
                          >
                            {users[entry.target] ? userName(users, entry.target) : entry.target}
                          </button>
                        ) : (
                          <span className="hint">—</span>
                        )}
                      </td>
                      <td className="breakable details">{detailsText(entry.details)}</td>
                      <td className="nowrap">{entry.ip || "—"}</td>
                      <td className="hint breakable">{entry.requestId || "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </PagedListView>
      </div>
    </main>
  );
}
