/**
 * The Users page (admins): everyone, deactivated people too, found by name (`users.list`),
 * a page at a time; each person's role (changed at once with `role.set`) and status, and
 * Deactivate / Reactivate after a confirmation. An admin cannot change or deactivate
 * themself here.
 */
import type { User } from "@colink/client";
import { type FormEvent, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { usePagedList } from "../hooks/use-paged-list.js";
import { errorMessage } from "../logger.js";
import { type SiteRole, siteRoles } from "../state/admin-types.js";
import { ConfirmDialog } from "./ConfirmDialog.js";
import { PagedListView } from "./PagedListView.js";
import { PaneHeader } from "./PaneHeader.js";

const pageLimit = 25;

function nameOf(user: User): string {
  return user.displayName || user.username;
}

export function UsersAdmin() {
  const { admin } = useChat();
  const myId = useChatState((s) => s.me?.id ?? "");
  const [typed, setTyped] = useState("");
  const [query, setQuery] = useState("");
  const list = usePagedList(query, (cursor) => admin.users(query, cursor, pageLimit));
  const [confirming, setConfirming] = useState<User | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<{ text: string; failed: boolean } | null>(null);

  const replace = (user: User) => list.update((users) => users.map((u) => (u.id === user.id ? user : u)));

  const search = (event: FormEvent) => {
    event.preventDefault();
    setOutcome(null);
    if (typed.trim() === query) list.reload();
    else setQuery(typed.trim());
  };

  const changeRole = async (user: User, role: SiteRole) => {
    setBusyId(user.id);
    setOutcome(null);
    try {
      const changed = await admin.setRole(user.id, role);
      replace(changed);
      setOutcome({
        text: `${nameOf(changed)} is now ${changed.role === "admin" ? "an" : "a"} ${changed.role}.`,
        failed: false,
      });
    } catch (error) {
      setOutcome({
        text: `Could not change the role of ${nameOf(user)}: ${errorMessage(error)}`,
        failed: true,
      });
    }
    setBusyId(null);
  };

  const toggleAccess = async (user: User) => {
    const changed = user.deactivated ? await admin.reactivate(user.id) : await admin.deactivate(user.id);
    replace(changed);
    setOutcome({
      text: changed.deactivated
        ? `${nameOf(changed)} was deactivated and signed out everywhere.`
        : `${nameOf(changed)} was reactivated.`,
      failed: false,
    });
  };

  return (
    <main className="channel admin-page" aria-labelledby="admin-users-heading">
      <PaneHeader headingId="admin-users-heading" title="Users" subtitle="Roles and access" />
      <div className="admin-body">
        <form className="admin-filters" onSubmit={search}>
          <label htmlFor="admin-user-search" className="visually-hidden">
            Search users
          </label>
          <input
            id="admin-user-search"
            type="search"
            placeholder="Search by name or username"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
          />
          <button type="submit" className="button">
            Search
          </button>
        </form>
        <p className="admin-outcome" role={outcome?.failed ? "alert" : "status"}>
          {outcome?.text ?? ""}
        </p>
        <PagedListView
          list={list}
          failure="Could not list users"
          empty="Nobody found."
          pagerLabel="User pages"
        >
          {(items) => (
            <div className="table-wrap">
              <table className="admin-table" aria-busy={list.loading}>
                <caption className="visually-hidden">Users</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((user) => {
                    const name = nameOf(user);
                    const self = user.id === myId;
                    return (
                      <tr
                        key={user.id}
                        data-user-id={user.id}
                        className={user.deactivated ? "inactive" : undefined}
                      >
                        <th scope="row">
                          <span className="admin-name">{name}</span>
                          <span className="hint"> @{user.username}</span>
                          {self && <span className="hint"> (you)</span>}
                        </th>
                        <td>
                          <select
                            aria-label={`Role of ${name}`}
                            value={user.role}
                            disabled={self || busyId === user.id}
                            onChange={(e) => void changeRole(user, e.target.value as SiteRole)}
                          >
                            {siteRoles.map((role) => (
                              <option key={role} value={role}>
                                {role}
                              </option>
                            ))}
                          </select>
                        </td>
                        <td>
                          <span className={`status-tag ${user.deactivated ? "off" : "on"}`}>
                            {user.deactivated ? "Deactivated" : "Active"}
                          </span>
                        </td>
                        <td className="admin-actions-cell">
                          {!self && (
                            <button
                              type="button"
                              className={`button small${user.deactivated ? "" : " danger-outline"}`}
                              aria-label={`${user.deactivated ? "Reactivate" : "Deactivate"} ${name}`}
                              onClick={() => setConfirming(user)}
                            >
                              {user.deactivated ? "Reactivate" : "Deactivate"}
                            </button>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </PagedListView>
      </div>
      {confirming && (
        <ConfirmDialog
          title={`${confirming.deactivated ? "Reactivate" : "Deactivate"} ${nameOf(confirming)}?`}
          confirmLabel={confirming.deactivated ? "Reactivate" : "Deactivate"}
          danger={!confirming.deactivated}
          onConfirm={() => toggleAccess(confirming)}
          onClose={() => setConfirming(null)}
        >
          <p>
            {confirming.deactivated
              ? `${nameOf(confirming)} will be able to sign in again, with the role they had.`
              : `${nameOf(confirming)} is signed out of every device at once and cannot sign in until reactivated. Their messages stay.`}
          </p>
        </ConfirmDialog>
      )}
    </main>
  );
}
