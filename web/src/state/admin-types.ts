/**
 * The shapes the administration screens use: the args and answers of the admin and
 * moderation ops of issue 23 (users.list, role.set, user.deactivate/reactivate, audit.list,
 * audit.verify, flags.list, flag.resolve), as core/ops.ts defines them.
 */
import type { ArgsOf, ResultOf, User } from "@colink/client";

/** A site role, as `role.set` takes it. */
export type SiteRole = User["role"];

/** The site roles, most powerful first. */
export const siteRoles: readonly SiteRole[] = ["admin", "moderator", "member", "guest"];

/** One row of the audit log. */
export type AuditEntry = ResultOf<"audit.list">["entries"][number];

/** `audit.list`'s filters and page. */
export type AuditListArgs = ArgsOf<"audit.list">;

/** `audit.verify`'s answer: the chain recomputed. */
export type AuditVerdict = ResultOf<"audit.verify">;

/** A flag raised on a message, with the message as moderators see it. */
export type Flag = ResultOf<"flags.list">["flags"][number];

/** How a flag is resolved. */
export type FlagResolution = ArgsOf<"flag.resolve">["resolution"];

/** Which flags `flags.list` lists. */
export type FlagStatus = Flag["status"];
