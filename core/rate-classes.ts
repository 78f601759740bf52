/**
 * The rate classes: every op belongs to one, and each class has its own budget per user
 * and per client address (COLINK_RATE_*, see config.ts). This file is the one table of
 * which op counts against which budget; the compiler holds it to every op of ops.ts.
 *
 * - `send`: writes that others see or that cost a commit (messages, edits, reactions,
 *   pins, channel changes, uploads begun, settings). A flood of these is what slows
 *   everyone else down, so its budget is the tightest.
 * - `typing`: the ephemeral `typing` signal, sent every few seconds while someone types.
 * - `read`: reads and subscriptions (history, search, get/list, `sub` on every channel when
 *   a client starts), and the cheap connection ops (`ping`, `unsub`). The budget is wide
 *   enough for a client that subscribes to all its channels and loads their members at once.
 * - `auth`: token checks: a WebSocket connection (its token at the upgrade, or its `auth`
 *   frame) and the `/auth/*` routes.
 */
import { type Limits, limitVariables } from "./config.js";
import type { OpName } from "./ops.js";

/** The classes of requests, each with its own budgets. */
export const rateClasses = ["send", "typing", "read", "auth"] as const;

/** One of the rate classes. */
export type RateClass = (typeof rateClasses)[number];

/** The class each op counts against. */
export const rateClassOfOp: Record<OpName, RateClass> = {
  auth: "auth",
  ping: "read",
  sub: "read",
  unsub: "read",
  "ch.create": "send",
  "ch.get": "read",
  "ch.list": "read",
  "ch.update": "send",
  "ch.archive": "send",
  "ch.join": "send",
  "ch.invite": "send",
  "ch.leave": "send",
  "ch.kick": "send",
  "ch.members": "read",
  "msg.send": "send",
  "msg.edit": "send",
  "msg.delete": "send",
  "msg.history": "read",
  "msg.versions": "read",
  "msg.schedule": "send",
  "msg.scheduled.list": "read",
  "msg.scheduled.cancel": "send",
  "thread.history": "read",
  "thread.follow": "send",
  "thread.unfollow": "send",
  "react.add": "send",
  "react.remove": "send",
  "pin.add": "send",
  "pin.remove": "send",
  "pin.list": "read",
  "dm.open": "send",
  typing: "typing",
  // A client marks a channel read as messages arrive in it: as frequent as reading, and cheap.
  "read.mark": "read",
  "unread.summary": "read",
  "presence.set": "send",
  "presence.query": "read",
  "user.me": "read",
  "user.get": "read",
  "user.update": "send",
  "search.users": "read",
  search: "read",
  "file.begin": "send",
  "user.avatar.begin": "send",
  "file.complete": "send",
  "file.get": "read",
  "user.settings.get": "read",
  "user.settings.set": "send",
  // Moderation (issue 23): a flag or a removal is a durable write; the queue is a read.
  "msg.flag": "send",
  "msg.remove": "send",
  "flags.list": "read",
  "flag.resolve": "send",
  // Administration (issue 23): changes count as sends, listings as reads; a verify reads
  // the whole log, so it counts as a send (the smaller budget).
  "user.deactivate": "send",
  "user.reactivate": "send",
  "role.set": "send",
  "users.list": "read",
  "audit.list": "read",
  "audit.verify": "send",
};

/** Who a budget counts: one user (all their connections, HTTP, every node) or one client address. */
export type RateScope = "user" | "ip";

/** The limit that holds each class's budget, per scope. */
const budgetFields: Record<RateClass, Record<RateScope, keyof Limits>> = {
  send: { user: "rateSend", ip: "rateSendPerIp" },
  typing: { user: "rateTyping", ip: "rateTypingPerIp" },
  read: { user: "rateRead", ip: "rateReadPerIp" },
  auth: { user: "rateAuth", ip: "rateAuthPerIp" },
};

/** Requests of a class per window for one user or one address; 0 = no limit. */
export function rateBudget(limits: Limits, cls: RateClass, scope: RateScope): number {
  return limits[budgetFields[cls][scope]];
}

/** The environment variable that sets a budget (for messages and docs). */
export function rateBudgetVariable(cls: RateClass, scope: RateScope): string {
  return limitVariables[budgetFields[cls][scope]];
}
