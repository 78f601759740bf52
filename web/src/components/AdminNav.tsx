/**
 * The administration menu at the foot of the sidebar: Users and Audit log for admins, Flags
 * for moderators and admins, with the number of open flags (kept current by the moderators'
 * topic); absent for everyone else.
 */
import { useChatState } from "../chat-context.js";
import { openFlagCap, useOpenFlagCount } from "../hooks/use-open-flag-count.js";
import { type AdminPage, followLink, routePath } from "../routes.js";
import { adminPagesFor, adminPageTitles } from "../state/admin-access.js";

const icons: Record<AdminPage, string> = { users: "👤", flags: "⚑", audit: "📜" };

export function AdminNav({ activePage }: { activePage: AdminPage | null }) {
  const role = useChatState((s) => s.me?.role);
  const pages = adminPagesFor(role);
  const openFlags = useOpenFlagCount(pages.includes("flags"));
  if (pages.length === 0) return null;
  return (
    <nav className="sidebar-section admin-nav" aria-labelledby="admin-heading">
      <div className="sidebar-heading">
        <h2 id="admin-heading">Administration</h2>
      </div>
      <ul>
        {pages.map((page) => {
          const route = { name: "admin" as const, page };
          const count = page === "flags" && openFlags ? openFlags : 0;
          const shown = count >= openFlagCap ? `${openFlagCap - 1}+` : String(count);
          // Read out after the name (aria-describedby), so the link's name is what it shows.
          const describedBy = `admin-about-${page}`;
          return (
            <li key={page}>
              <a
                href={routePath(route)}
                onClick={followLink(route)}
                className={`conversation-link${count > 0 ? " has-unread" : ""}`}
                aria-current={page === activePage ? "page" : undefined}
                aria-describedby={count > 0 ? describedBy : undefined}
              >
                <span className="conversation-icon" aria-hidden="true">
                  {icons[page]}
                </span>
                <span className="conversation-name">{adminPageTitles[page]}</span>
                {count > 0 && (
                  <span className="badge" data-testid="open-flag-count" aria-hidden="true">
                    {shown}
                  </span>
                )}
              </a>
              {count > 0 && (
                <span id={describedBy} className="visually-hidden">
                  {`${shown} open`}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
