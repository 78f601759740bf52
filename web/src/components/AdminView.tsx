/**
 * An administration page (`/admin/users`, `/admin/flags`, `/admin/audit`), or, for someone
 * whose role does not open it, a line saying so (the server would refuse its ops anyway).
 */
import { useChatState } from "../chat-context.js";
import type { AdminPage } from "../routes.js";
import { adminPagesFor, adminPageTitles } from "../state/admin-access.js";
import { AuditLog } from "./AuditLog.js";
import { FlagsAdmin } from "./FlagsAdmin.js";
import { PaneHeader } from "./PaneHeader.js";
import { UsersAdmin } from "./UsersAdmin.js";

export function AdminView({ page }: { page: AdminPage }) {
  const me = useChatState((s) => s.me);
  if (me === null) {
    return (
      <main className="channel-empty" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  }
  if (!adminPagesFor(me.role).includes(page)) {
    return (
      <main className="channel admin-page" aria-labelledby="admin-denied-heading">
        <PaneHeader headingId="admin-denied-heading" title={adminPageTitles[page]} />
        <p className="list-note">
          {page === "flags"
            ? "Only moderators and admins can see this page."
            : "Only admins can see this page."}
        </p>
      </main>
    );
  }
  switch (page) {
    case "users":
      return <UsersAdmin />;
    case "flags":
      return <FlagsAdmin />;
    case "audit":
      return <AuditLog />;
  }
}
