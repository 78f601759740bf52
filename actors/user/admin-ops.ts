/**
 * The administration ops a UserActor answers (issue 23), admins only. On the actor of the
 * user they are about (route `targetUser`): `user.deactivate`, `user.reactivate` and
 * `role.set`, so one mailbox orders every change to one account, and the change reaches
 * every node's sockets and token checks through the outlet (`accountChanged`). On the
 * caller's own actor: `users.list`, `audit.list`, `audit.verify`. Each change writes its
 * audit entry in the same statement as the change (the Accounts port).
 */
import { fail } from "../../core/errors.js";
import type { ArgsOf } from "../../core/ops.js";
import type { Accounts, AuditLog, AuditOrigin } from "../../core/ports.js";
import type { AuditEntry, AuditVerdict, Principal, User } from "../../core/types.js";
import type { Outlet, RequestOrigin } from "../envelope.js";

/** What the admin ops need of their actor. */
export interface AdminDeps {
  accounts: Accounts;
  audit: AuditLog;
  outlet: Outlet;
  now: () => number;
}

/** Admins only: anyone else is refused. */
function mustBeAdmin(p: Principal): void {
  if (p.role !== "admin") throw fail.forbidden("admins only");
}

/** The audit origin of a request: who, from where, which request, when. */
function originOf(deps: AdminDeps, p: Principal, origin: RequestOrigin | undefined): AuditOrigin {
  return { actorId: p.userId, ip: origin?.ip ?? "", requestId: origin?.requestId ?? "", at: deps.now() };
}

/** `user.deactivate` / `user.reactivate` of `userId` (the actor's own user). */
export async function setDeactivated(
  deps: AdminDeps,
  userId: string,
  p: Principal,
  deactivated: boolean,
  origin: RequestOrigin | undefined,
): Promise<{ user: User }> {
  mustBeAdmin(p);
  if (deactivated && p.userId === userId) throw fail.badRequest("an admin cannot deactivate themself");
  const user = await deps.accounts.setDeactivated(userId, deactivated, originOf(deps, p, origin));
  if (!user) throw fail.notFound("user");
  // After the commit, before the answer: this node's sockets close before the admin hears back.
  deps.outlet.accountChanged(userId, { deactivated, roleChanged: false });
  return { user };
}

/** `role.set` of `userId` (the actor's own user). */
export async function setRole(
  deps: AdminDeps,
  userId: string,
  p: Principal,
  a: ArgsOf<"role.set">,
  origin: RequestOrigin | undefined,
  before: User | null,
): Promise<{ user: User }> {
  mustBeAdmin(p);
  // The stored role wins over every later token: an admin demoting themself could lock
  // the site out of administration for good.
  if (p.userId === userId) throw fail.badRequest("an admin cannot change their own role");
  const user = await deps.accounts.setRole(userId, a.role, originOf(deps, p, origin));
  if (!user) throw fail.notFound("user");
  deps.outlet.accountChanged(userId, {
    deactivated: user.deactivated,
    roleChanged: before === null || before.role !== user.role,
  });
  return { user };
}

/** `users.list`: a page of users by username, deactivated ones included. */
export async function listUsers(
  deps: AdminDeps,
  p: Principal,
  a: ArgsOf<"users.list">,
): Promise<{ users: User[]; nextCursor?: string }> {
  mustBeAdmin(p);
  const limit = a.limit ?? 50;
  const users = await deps.accounts.listAccounts({
    ...(a.q === undefined ? {} : { q: a.q }),
    ...(a.cursor === undefined ? {} : { after: a.cursor }),
    limit: limit + 1,
  });
  if (users.length <= limit) return { users };
  const page = users.slice(0, limit);
  return { users: page, nextCursor: page[page.length - 1]!.username.toLowerCase() };
}

/** `audit.list`: a page of the audit log, newest first. */
export async function listAudit(
  deps: AdminDeps,
  p: Principal,
  a: ArgsOf<"audit.list">,
): Promise<{ entries: AuditEntry[]; nextCursor?: string }> {
  mustBeAdmin(p);
  const { cursor, limit, ...filters } = a;
  return deps.audit.listAudit({
    ...filters,
    ...(cursor === undefined ? {} : { before: cursor }),
    limit: limit ?? 50,
  });
}

/** `audit.verify`: the chain recomputed. */
export async function verifyAudit(deps: AdminDeps, p: Principal): Promise<AuditVerdict> {
  mustBeAdmin(p);
  return deps.audit.verifyAudit();
}
