/**
 * The audit log page's filters as its form holds them (text, and dates as the date inputs
 * give them, `YYYY-MM-DD` in the browser's time zone), turned into `audit.list`'s args; and
 * what the page says about an entry and about `audit.verify`'s answer.
 */
import type { User } from "@colink/client";
import { dateTimeFormat } from "../format/time.js";
import type { AuditEntry, AuditListArgs, AuditVerdict } from "./admin-types.js";

/**
 * The audit actions the server records (the filter's choices): core/types.ts `AuditActions`,
 * in the order an admin looks for them (a unit test keeps the two the same set).
 */
export const auditActions = [
  "auth.login",
  "auth.token_refused",
  "user.deactivate",
  "user.reactivate",
  "role.set",
  "ch.archive",
  "msg.remove",
  "flag.resolve",
  "file.quarantine",
] as const;

/** The filter form's fields; empty strings are "any". */
export interface AuditFilters {
  actor: string;
  action: string;
  target: string;
  /** First day, `YYYY-MM-DD`. */
  from: string;
  /** Last day, `YYYY-MM-DD` (included). */
  to: string;
}

export const noAuditFilters: AuditFilters = { actor: "", action: "", target: "", from: "", to: "" };

const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Epoch ms of the start of a local day `YYYY-MM-DD`, or undefined when it is not one. */
export function dayStart(day: string): number | undefined {
  const parts = day.match(dayPattern);
  if (!parts) return undefined;
  const at = new Date(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3])).getTime();
  return Number.isNaN(at) ? undefined : at;
}

/** Epoch ms of the last millisecond of a local day `YYYY-MM-DD` (`to` is inclusive). */
export function dayEnd(day: string): number | undefined {
  const start = dayStart(day);
  if (start === undefined) return undefined;
  const parts = day.match(dayPattern)!;
  return new Date(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3]) + 1).getTime() - 1;
}

/** The username an Actor field names (an `@` before it allowed), or null when it is blank. */
export function actorName(actor: string): string | null {
  const name = actor.trim().replace(/^@/, "");
  return name === "" ? null : name;
}

/**
 * The filters to query, the Actor field's username turned into that user's id when one of
 * `found` (the users its search found) has it exactly; anything else is taken as an id as
 * typed (`system:scanner`, a user id from a row).
 */
export function withActorId(filters: AuditFilters, found: readonly User[]): AuditFilters {
  const name = actorName(filters.actor);
  if (name === null) return filters;
  const user = found.find((u) => u.username.toLowerCase() === name.toLowerCase());
  return user ? { ...filters, actor: user.id } : filters;
}

/** `audit.list`'s args for the filters (blank ones left out) and a page. */
export function auditListArgs(
  filters: AuditFilters,
  cursor: string | undefined,
  limit: number,
): AuditListArgs {
  const args: AuditListArgs = { limit };
  const actor = filters.actor.trim();
  const target = filters.target.trim();
  if (actor) args.actor = actor;
  if (filters.action) args.action = filters.action;
  if (target) args.target = target;
  const from = dayStart(filters.from);
  const to = dayEnd(filters.to);
  if (from !== undefined) args.from = from;
  if (to !== undefined) args.to = to;
  if (cursor !== undefined) args.cursor = cursor;
  return args;
}

/** What the Verify button's result says. */
export function verdictText(verdict: AuditVerdict): string {
  if (verdict.ok) return `Chain intact (${verdict.checked} ${verdict.checked === 1 ? "row" : "rows"})`;
  const reason = verdict.reason ? `: ${verdict.reason}` : "";
  return `Broken at row ${verdict.brokenAt ?? "?"}${reason}`;
}

/**
 * An entry's details on one line: `key: value` pairs, a nested object's fields as
 * `key.field` (a removal's `original.text`), a time (`…At`, epoch ms) as a date, lists and
 * other values as JSON; empty values (null, "", []) left out.
 */
export function detailsText(details: AuditEntry["details"]): string {
  const pairs: string[] = [];
  const add = (key: string, value: unknown) => {
    if (value === null || value === undefined || value === "") return;
    if (Array.isArray(value)) {
      if (value.length > 0) pairs.push(`${key}: ${JSON.stringify(value)}`);
    } else if (typeof value === "object") {
      for (const [field, inner] of Object.entries(value)) add(`${key}.${field}`, inner);
    } else if (typeof value === "number" && /At$/.test(key)) {
      pairs.push(`${key}: ${dateTimeFormat.format(value)}`);
    } else {
      pairs.push(`${key}: ${String(value)}`);
    }
  };
  for (const [key, value] of Object.entries(details)) add(key, value);
  return pairs.join(", ");
}
