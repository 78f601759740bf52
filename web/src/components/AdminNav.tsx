/**
 * The administration menu at the foot of the sidebar: Users and Audit log for admins, Flags
 * for moderators and admins; absent for everyone else.
 */
import { useChatState } from "../chat-context.js";
import { type AdminPage, followLink, routePath } from "../routes.js";
import { adminPagesFor, adminPageTitles } from "../state/admin-access.js";

const icons: Record<AdminPage, string> = { users: "👤", flags: "⚑", audit: "📜" };

export function AdminNav({ activePage }: { activePage: AdminPage | null }) {
  const role = useChatState((s) => s.me?.role);
  const pages = adminPagesFor(role);
  if (pages.length === 0) return null;
  return (
    <nav className="sidebar-section admin-nav" aria-labelledby="admin-heading">
      <div className="sidebar-heading">
        <h2 id="admin-heading">Administration</h2>
      </div>
      <ul>
        {pages.map((page) => {
          const route = { name: "admin" as const, page };
          return (
            <li key={page}>
              <a
                href={routePath(route)}
                onClick={followLink(route)}
                className="conversation-link"
                aria-current={page === activePage ? "page" : undefined}
              >
                <span className="conversation-icon" aria-hidden="true">
                  {icons[page]}
                </span>
                <span className="conversation-name">{adminPageTitles[page]}</span>
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
