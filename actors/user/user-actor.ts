/**
 * UserActor: one per user. It keeps the user's profile, settings and presence (sessions
 * and chosen status), moves their read markers, and feeds their personal topic
 * `u:<userId>`, so that every session of the user hears about changes made in another.
 */
import type { Limits } from "../../core/config.js";
import { errorBodyLogged, fail } from "../../core/errors.js";
import { fileInfoOf } from "../../core/file-rules.js";
import type { Logger } from "../../core/logger.js";
import { isSiteModerator } from "../../core/moderation-rules.js";
import type { OpName } from "../../core/ops.js";
import type {
  Accounts,
  AuditLog,
  AuditRecord,
  Directory,
  FlagStore,
  SearchIndex,
  UserState,
} from "../../core/ports.js";
import { eventFrame, userTopic } from "../../core/protocol.js";
import type { Presence, Principal, User } from "../../core/types.js";
import {
  type Envelope,
  handlerOf,
  type InternalOp,
  noReply,
  type OpHandler,
  type Outcome,
  type Outlet,
  type RequestOrigin,
  type ResultFor,
  type Routed,
  systemPrincipal,
} from "../envelope.js";
import type { FileAccess } from "../file-uploads.js";
import { MailboxActor } from "../mailbox.js";
import { listAudit, listUsers, setDeactivated, setRole, verifyAudit } from "./admin-ops.js";
import { beginAvatar, completeAvatar, getAvatar, linkableAvatar } from "./avatar-ops.js";
import { searchMessages } from "./message-search.js";
import { type PresenceBook, type PresenceChange, SessionPresence } from "./presence.js";
import { mergeSettings } from "./user-settings.js";

/** What a user actor needs from its host. */
export interface UserActorDeps {
  directory: Directory;
  userState: UserState;
  /** Account administration (issue 23). */
  accounts: Accounts;
  /** The audit log (issue 23). */
  audit: AuditLog;
  /** Message search (the caller's access is decided before it is asked). */
  search: SearchIndex;
  outlet: Outlet;
  limits: Pick<Limits, "presenceFanoutMaxMembers" | "maxNotifyOverrides" | "mailboxCapacity">;
  now: () => number;
  /**
   * Sends an envelope to any actor, on whichever thread hosts it. Nobody waits for the
   * answer: envelopes sent this way carry the call id `noReply`.
   */
  route: (env: Routed) => void;
  /** This thread's presence book: the actor writes its user's entry and reads others'. */
  presence: PresenceBook;
  /** Internal errors, with the request they failed. */
  logger: Logger;
  /** Avatars' metadata, bytes and policy; absent where files are not offered (some unit tests). */
  files?: FileAccess;
  /** Hands a visible presence change to the event stream (presence.events); absent, none. */
  streamPresence?: (presence: Presence) => void;
  /** The moderators' queue of flags; absent where moderation is not offered (some unit tests). */
  flags?: Pick<FlagStore, "listFlags">;
}

/** Ops the server itself sends about sessions; never refused for a full mailbox. */
const sessionOps = new Set<string>([
  "presence.connect",
  "presence.disconnect",
  "presence.purge",
  "presence.reconcile",
]);

/** The handler of user op `O`: typed by its arguments, returning its result. */
type UserHandler<O extends OpName | InternalOp> = OpHandler<UserActor, O, ResultFor<O>>;
/** What a user op's handler returns, as the actor sees it. */
type UserResult = Record<string, unknown>;

/** One user's actor. */
export class UserActor extends MailboxActor {
  private user: User | null = null;
  /**
   * The username the token named at the last `hello`. The user's may differ: a name
   * another user holds (in any case) gets a suffix (Directory.upsertUser).
   */
  private claimed: string | null = null;
  /** The latest principal seen, for the envelopes this actor sends on the user's behalf. */
  private principal: Principal | null = null;
  /** The origin of the request being handled (audited ops only; the mailbox runs one at a time). */
  private origin: RequestOrigin | undefined = undefined;
  private readonly sessions: SessionPresence;
  /** Presence fan-outs, chained so that they go out in the order of the changes. */
  private fanout: Promise<void> = Promise.resolve();
  private fanoutsPending = 0;
  /** Time of the last request, for passivation. */
  lastActive = 0;

  /** The server's own notices about the user's sessions (a node is gone, the actor moved). */
  private static readonly systemHandlers = {
    "presence.purge": (u, _p, a) =>
      u.sessionsChanged(u.sessions.disconnectAll(String(a.prefix), u.deps.now())),
    "presence.reconcile": (u) => u.sessionsChanged(u.sessions.reconcile(u.deps.now())),
    // The transport's account check (AccountGate) of this user's tokens.
    "user.account": async (u) => {
      const state = await u.deps.accounts.accountOf(u.id);
      return { deactivated: state?.deactivated ?? false, roleFromAdmin: state?.roleFromAdmin ?? null };
    },
    // A security event the transport saw (a refused token), on the actor keyed `system`.
    "audit.record": async (u, _p, a) => ({
      entry: await u.deps.audit.recordAudit(a as unknown as AuditRecord),
    }),
  } satisfies { [O in OpName | InternalOp]?: UserHandler<O> };

  /**
   * Admin ops about this actor's user, asked by an admin (route `targetUser`): the one place
   * another user's principal is let in; each handler checks the caller is an admin.
   */
  private static readonly adminHandlers = {
    "user.deactivate": async (u, p) =>
      u.changedAccount(await setDeactivated(u.deps, u.id, p, true, u.origin)),
    "user.reactivate": async (u, p) =>
      u.changedAccount(await setDeactivated(u.deps, u.id, p, false, u.origin)),
    "role.set": async (u, p, a) => {
      const before = await u.deps.directory.getUser(u.id);
      return u.changedAccount(await setRole(u.deps, u.id, p, a, u.origin, before));
    },
  } satisfies { [O in OpName]?: UserHandler<O> };

  /** One handler per op the user (or the server on their behalf) sends to their own actor. */
  private static readonly handlers = {
    "user.hello": async (u, p, a) => {
      const user = await u.hello(p);
      // A sign-in route's hello (not a socket's): the login is a security event.
      if (a.login === "dev" || a.login === "oidc") {
        await u.deps.audit.recordAudit({
          at: u.deps.now(),
          actorId: u.id,
          action: "auth.login",
          target: u.id,
          details: { method: a.login, username: user.username },
          ip: u.origin?.ip ?? "",
          requestId: u.origin?.requestId ?? "",
        });
      }
      return { user };
    },
    "user.me": async (u, p) => ({ user: u.user ?? (await u.hello(p)) }),
    "ch.list": async (u, p, a) => {
      const channels = await u.deps.directory.listChannels(u.id, {
        includePublic: (a.includePublic ?? false) && p.role !== "guest",
        includeArchived: a.includeArchived ?? false,
      });
      return { channels };
    },
    "msg.locate": async (u, _p, a) => {
      const channelId = await u.deps.directory.locateMessage(a.messageId as string);
      if (!channelId) throw fail.notFound("message");
      return { channelId };
    },

    "read.mark": async (u, _p, a) => {
      const { userState } = u.deps;
      const lastReadSeq =
        a.threadRootId === undefined
          ? await userState.markRead(u.id, a.channelId, a.seq)
          : await userState.markThreadRead(u.id, a.channelId, a.threadRootId, a.seq);
      if (lastReadSeq === null) throw fail.notFound("channel");
      const marker = {
        channelId: a.channelId,
        lastReadSeq,
        ...(a.threadRootId === undefined ? {} : { threadRootId: a.threadRootId }),
      };
      u.publishOwn("read.updated", marker);
      return marker;
    },
    "unread.summary": async (u) => ({ channels: await u.deps.userState.unreadSummary(u.id) }),

    "presence.connect": (u, _p, a) =>
      u.sessionsChanged(u.sessions.connect(String(a.sessionId), u.deps.now())),
    "presence.disconnect": (u, _p, a) =>
      u.sessionsChanged(u.sessions.disconnect(String(a.sessionId), u.deps.now())),
    "presence.set": (u, _p, a) => u.sessionsChanged(u.sessions.choose(a.status, u.deps.now())),
    "presence.query": async (u, _p, a) => ({ presence: await u.queryPresence(a.userIds) }),

    "user.get": async (u, _p, a) => {
      const user = await u.deps.directory.getUser(a.userId);
      if (!user) throw fail.notFound("user");
      return { user };
    },
    "user.update": async (u, p, a) => {
      if (!u.user) await u.hello(p);
      const avatarFileId =
        a.avatarFileId === undefined || a.avatarFileId === null
          ? a.avatarFileId
          : await linkableAvatar(u.deps.files, u.id, a.avatarFileId);
      const user = await u.deps.directory.updateProfile(u.id, {
        ...(a.displayName === undefined ? {} : { displayName: a.displayName }),
        ...(a.title === undefined ? {} : { title: a.title }),
        ...(a.timeZone === undefined ? {} : { timeZone: a.timeZone }),
        ...(avatarFileId === undefined ? {} : { avatarFileId }),
      });
      if (!user) throw fail.notFound("user");
      u.user = user;
      u.publishOwn("user.updated", { user });
      return { user };
    },
    "user.avatar.begin": (u, _p, a) => beginAvatar(u.deps.files, u.id, a, u.deps.now()),
    "file.complete": async (u, _p, a) => {
      const file = await completeAvatar(u.deps.files, u.id, a.fileId, u.deps.now());
      u.publishOwn("file.updated", { file });
      return { file };
    },
    "file.get": (u, _p, a) => getAvatar(u.deps.files, u.id, a.fileId),
    "file.scanned": async (u, _p, a) => {
      // From a scanner: the owner's avatar got its verdict.
      const file = await u.deps.files?.store.getFile(String(a.fileId));
      if (file && file.uploaderId === u.id) u.publishOwn("file.updated", { file: fileInfoOf(file) });
      return {};
    },
    "search.users": (u, _p, a) => u.deps.search.searchUsers(a.q, a.limit ?? 20),
    // Moderation (issue 23): the queue spans channels, so the caller's own actor reads it.
    "flags.list": async (u, p, a) => {
      if (!isSiteModerator(p)) throw fail.forbidden("only site moderators and admins read the flags");
      if (!u.deps.flags) throw fail.unavailable("moderation is not offered here");
      const limit = a.limit ?? 50;
      const page = await u.deps.flags.listFlags({
        limit: limit + 1,
        ...(a.status === undefined ? {} : { status: a.status }),
        ...(a.cursor === undefined ? {} : { before: a.cursor }),
      });
      const flags = page.slice(0, limit);
      return page.length > limit ? { flags, nextCursor: flags.at(-1)!.id } : { flags };
    },
    search: (u, p, a) => searchMessages(u.deps, p, a),
    "users.list": (u, p, a) => listUsers(u.deps, p, a),
    "audit.list": (u, p, a) => listAudit(u.deps, p, a),
    "audit.verify": (u, p) => verifyAudit(u.deps, p),
    "user.settings.get": async (u) => ({ settings: await u.deps.userState.getSettings(u.id) }),
    "user.settings.set": async (u, _p, a) => {
      const { userState } = u.deps;
      // Read, merge and save within this one mailbox: two sessions' changes never lose each other.
      const current = await userState.getSettings(u.id);
      const settings = mergeSettings(current, a, u.deps.limits.maxNotifyOverrides);
      await userState.saveSettings(u.id, settings);
      u.publishOwn("settings.updated", { settings });
      return { settings };
    },
  } satisfies { [O in OpName | InternalOp]?: UserHandler<O> };

  constructor(
    readonly id: string,
    private readonly deps: UserActorDeps,
  ) {
    super();
    this.sessions = new SessionPresence(id, deps.presence.get(id));
  }

  /**
   * True when nothing is queued or running and no session is open: an actor with a live
   * session must stay, since it holds that session's presence. (A kept `dnd` survives
   * passivation in the book.)
   */
  get isIdle(): boolean {
    return !this.busy && this.queued === 0 && this.fanoutsPending === 0 && !this.sessions.connected;
  }

  /** Queues a request. */
  post(env: Envelope): void {
    this.lastActive = this.deps.now();
    const capacity = sessionOps.has(env.op) ? Number.POSITIVE_INFINITY : this.deps.limits.mailboxCapacity;
    if (!this.enqueue(env, capacity)) {
      this.answer(env, { ok: false, error: fail.unavailable("user actor busy, retry").toBody() });
    }
  }

  /** Runs one request and answers it. */
  protected async handle(env: Envelope): Promise<void> {
    try {
      this.answer(env, { ok: true, result: await this.dispatch(env) });
    } catch (err) {
      const fields = { callId: env.callId, op: env.op, userId: this.id };
      this.answer(env, { ok: false, error: errorBodyLogged(err, this.deps.logger, fields) });
    }
  }

  private answer(env: Envelope, outcome: Outcome): void {
    if (env.callId !== noReply) this.deps.outlet.reply(env.callId, outcome);
  }

  private dispatch(env: Envelope): UserResult | Promise<UserResult> {
    const { principal: p, op } = env;
    const system =
      p.userId === systemPrincipal.userId
        ? handlerOf<UserActor, UserResult>(UserActor.systemHandlers, op)
        : undefined;
    if (system) return system(this, p, env.args);
    this.origin = env.origin;
    const admin = handlerOf<UserActor, UserResult>(UserActor.adminHandlers, op);
    if (admin) return admin(this, p, env.args);
    if (p.userId !== this.id) throw fail.forbidden();
    this.principal = p;
    const handler = handlerOf<UserActor, UserResult>(UserActor.handlers, op);
    if (!handler) throw fail.badRequest(`op ${op} is not a user op`);
    return handler(this, p, env.args);
  }

  /** Records a change of the user's sessions or status; the reply is the presence now. */
  private sessionsChanged(change: PresenceChange | null): { presence: Presence } {
    this.presenceChanged(change);
    return { presence: this.sessions.presence };
  }

  /**
   * Creates the user on first sight and refreshes username and role when the token's
   * claims changed. The display name is the user's own after creation (the store keeps it).
   */
  /**
   * The user as the principal claims them, created or updated. A deactivated account is
   * refused here too, so that no sign-in (dev, single sign-on, a refresh of either) issues a
   * token to it: the AccountGate refuses such tokens on use, but one should not be made.
   */
  private async hello(p: Principal): Promise<User> {
    const known = this.user;
    const user =
      known && this.claimed === p.username && known.role === p.role
        ? known
        : await this.deps.directory.upsertUser({
            id: p.userId,
            username: p.username,
            displayName: p.displayName,
            role: p.role,
          });
    this.user = user;
    this.claimed = p.username;
    if (user.deactivated) throw fail.deactivated();
    return user;
  }

  /** After an admin changed the account: the next hello reads the user again. */
  private changedAccount<T>(answer: T): T {
    this.user = null;
    return answer;
  }

  /** Publishes an event on the user's own topic: every session of the user gets it. */
  private publishOwn(type: string, data: Record<string, unknown>): void {
    const topic = userTopic(this.id);
    this.deps.outlet.publish(topic, eventFrame(topic, type, data));
  }

  /** Presence of the asked users who share a channel or DM with this one (and of oneself). */
  private async queryPresence(userIds: string[]) {
    const asked = [...new Set(userIds)];
    const others = asked.filter((u) => u !== this.id);
    const visible = new Set(others.length > 0 ? await this.deps.userState.sharingWith(this.id, others) : []);
    return asked.flatMap((u) => {
      if (u === this.id) return [this.sessions.presence];
      return visible.has(u) ? [this.deps.presence.view(u)] : [];
    });
  }

  /** Writes the user's entry into the book when it moved, and fans a visible change out. */
  private presenceChanged(change: PresenceChange | null): void {
    const entry = this.sessions.entry;
    const old = this.deps.presence.get(this.id);
    if (!old || old.status !== entry.status || old.since !== entry.since || old.kept !== entry.kept) {
      this.deps.presence.record(entry);
    }
    if (!change) return;
    this.deps.streamPresence?.(change.presence);
    // Off the mailbox: presence must never delay the user's other requests (invariant 8).
    this.fanoutsPending++;
    this.fanout = this.fanout
      .then(() => this.sendPresence(change))
      .catch((err: unknown) => {
        // Presence is best effort: a store outage loses this update, not the actor.
        this.deps.logger.warn({ err, userId: this.id }, "presence fan-out failed");
      })
      .finally(() => {
        this.fanoutsPending--;
      });
  }

  /**
   * Tells the users who share a channel of at most `presenceFanoutMaxMembers` members (or a
   * DM) about the change, and the user's other sessions; larger channels get only whether
   * the user is online, for their count.
   */
  private async sendPresence({ presence, onlineChanged }: PresenceChange): Promise<void> {
    const { users, largeChannels } = await this.deps.userState.presenceAudience(
      this.id,
      this.deps.limits.presenceFanoutMaxMembers,
    );
    const data = { ...presence };
    for (const u of new Set([this.id, ...users])) {
      const topic = userTopic(u);
      this.deps.outlet.publish(topic, eventFrame(topic, "presence.updated", data));
    }
    const principal = this.principal;
    if (!onlineChanged || !principal) return;
    const online = presence.status !== "offline";
    for (const channelId of largeChannels) {
      this.deps.route({
        actor: "channel",
        key: channelId,
        callId: noReply,
        op: "presence.member",
        args: { userId: this.id, online },
        principal,
      });
    }
  }
}
