/**
 * Which administration pages a site role opens, and who may remove others' messages: the
 * screens' side of the server's rules (the server decides; this only hides what it would
 * refuse).
 */
import type { AdminPage } from "../routes.js";
import type { SiteRole } from "./admin-types.js";

/** The administration pages `role` may open, in the menu's order. */
export function adminPagesFor(role: SiteRole | undefined): AdminPage[] {
  if (role === "admin") return ["users", "flags", "audit"];
  if (role === "moderator") return ["flags"];
  return [];
}

/** Moderators and admins remove anyone's message and resolve flags. */
export function moderates(role: SiteRole | undefined): boolean {
  return role === "admin" || role === "moderator";
}

/** The name of each administration page, in the menu and as the page's heading. */
export const adminPageTitles: Record<AdminPage, string> = {
  users: "Users",
  flags: "Flags",
  audit: "Audit log",
};
