/**
 * What the administration screens and the moderation actions of the message menu ask of
 * the server: people (search, role, deactivate, reactivate), flags (list, resolve), the
 * audit log (list, verify), and flagging or removing a message. Each throws on failure: the
 * screen that asked shows why, where it was asked. The people these answers name are
 * looked up for their names.
 */
import type { ColinkClient, Message, User } from "@colink/client";
import type {
  AuditEntry,
  AuditListArgs,
  AuditVerdict,
  Flag,
  FlagResolution,
  FlagStatus,
  SiteRole,
} from "./admin-types.js";
import type { AppState } from "./app-state.js";
import type { ChatSync } from "./chat-sync.js";
import type { Store } from "./store.js";

/** One page of a list, and the cursor of the next one when there is more. */
export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

/** Whether an actor is a person: not the server itself (`system:…`), nor `anonymous`, nor empty. */
export function isPersonActor(actorId: string): boolean {
  return actorId !== "" && actorId !== "anonymous" && !actorId.startsWith("system:");
}

/** Whether an entry's target is a user: the actions on accounts and sign-ins. */
export function targetsUser(action: string): boolean {
  return action.startsWith("user.") || action === "role.set" || action.startsWith("auth.");
}

export class AdminActions {
  constructor(
    private readonly client: ColinkClient,
    private readonly store: Store<AppState>,
    private readonly sync: ChatSync,
  ) {}

  // ------------------------------------------------------------------ people

  /** A page of everyone (deactivated people too) whose name matches `q`. */
  async users(q: string, cursor: string | undefined, limit: number): Promise<ListPage<User>> {
    const args = { limit, ...(q.trim() ? { q: q.trim() } : {}), ...(cursor ? { cursor } : {}) };
    const result = await this.client.request("users.list", args);
    this.remember(result.users);
    return { items: result.users, nextCursor: result.nextCursor ?? null };
  }

  async setRole(userId: string, role: SiteRole): Promise<User> {
    return this.remembered((await this.client.request("role.set", { userId, role })).user);
  }

  async deactivate(userId: string): Promise<User> {
    return this.remembered((await this.client.request("user.deactivate", { userId })).user);
  }

  async reactivate(userId: string): Promise<User> {
    return this.remembered((await this.client.request("user.reactivate", { userId })).user);
  }

  // ------------------------------------------------------------------ flags

  /** A page of flags, newest first, their reporters and authors known. */
  async flags(status: FlagStatus, cursor: string | undefined, limit: number): Promise<ListPage<Flag>> {
    const result = await this.client.request("flags.list", {
      status,
      limit,
      ...(cursor ? { cursor } : {}),
    });
    await this.sync.ensureUsers(
      result.flags.flatMap((f) => [f.reporterId, ...(f.message ? [f.message.authorId] : [])]),
    );
    return { items: result.flags, nextCursor: result.nextCursor ?? null };
  }

  async resolveFlag(flagId: string, resolution: FlagResolution, note: string): Promise<Flag> {
    const args = note.trim() ? { flagId, resolution, note: note.trim() } : { flagId, resolution };
    return (await this.client.request("flag.resolve", args)).flag;
  }

  /** Flags a message for the moderators; a second flag of the same message answers the first. */
  async flagMessage(message: Message, reason: string): Promise<Flag> {
    const args = { messageId: message.id, channelId: message.channelId, reason: reason.trim() };
    return (await this.client.request("msg.flag", args)).flag;
  }

  /** Removes anyone's message (moderators, admins), with the reason kept in the audit log. */
  async removeMessage(message: Message, reason: string): Promise<void> {
    const args = { messageId: message.id, channelId: message.channelId, reason: reason.trim() };
    await this.client.request("msg.remove", args);
  }

  // ------------------------------------------------------------------ audit log

  /** A page of the audit log, newest first, its actors known. */
  async audit(args: AuditListArgs): Promise<ListPage<AuditEntry>> {
    const result = await this.client.request("audit.list", args);
    await this.sync.ensureUsers(
      result.entries.flatMap((e) => [
        ...(isPersonActor(e.actorId) ? [e.actorId] : []),
        ...(targetsUser(e.action) && e.target !== "" ? [e.target] : []),
      ]),
    );
    return { items: result.entries, nextCursor: result.nextCursor ?? null };
  }

  verifyAudit(): Promise<AuditVerdict> {
    return this.client.request("audit.verify", {});
  }

  // ------------------------------------------------------------------ profiles

  /** Keeps the profiles an answer gave, so names and roles show the same everywhere. */
  private remember(users: readonly User[]): void {
    if (users.length === 0) return;
    const byId = Object.fromEntries(users.map((u) => [u.id, u]));
    this.store.update((s) => ({
      ...s,
      users: { ...s.users, ...byId },
      me: s.me ? (byId[s.me.id] ?? s.me) : null,
    }));
  }

  private remembered(user: User): User {
    this.remember([user]);
    return user;
  }
}
