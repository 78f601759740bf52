/**
 * UserActor: one per user. It keeps the user's profile, settings and presence (sessions
 * and chosen status), moves their read markers, and feeds their personal topic
 * `u:<userId>`, so that every session of the user hears about changes made in another.
 */
import type { Limits } from "../core/config.js";
import { errorBodyOf, fail } from "../core/errors.js";
import type { ArgsOf } from "../core/ops.js";
import type { Directory, UserState } from "../core/ports.js";
import { eventFrame, userTopic } from "../core/protocol.js";
import type { Principal, User } from "../core/types.js";
import {
  type Envelope,
  noReply,
  type Outcome,
  type Outlet,
  type Routed,
  systemPrincipal,
} from "./envelope.js";
import { type PresenceBook, type PresenceChange, SessionPresence } from "./presence.js";
import { mergeSettings } from "./user-settings.js";

/** What a user actor needs from its host. */
export interface UserActorDeps {
  directory: Directory;
  userState: UserState;
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
}

/** Ops the server itself sends about sessions; never refused for a full mailbox. */
const sessionOps = new Set<string>([
  "presence.connect",
  "presence.disconnect",
  "presence.purge",
  "presence.reconcile",
]);

/** One user's actor. */
export class UserActor {
  private user: User | null = null;
  /** The latest principal seen, for the envelopes this actor sends on the user's behalf. */
  private principal: Principal | null = null;
  private readonly sessions: SessionPresence;
  private readonly queue: Envelope[] = [];
  private processing = false;
  /** Presence fan-outs, chained so that they go out in the order of the changes. */
  private fanout: Promise<void> = Promise.resolve();
  private fanoutsPending = 0;
  /** Time of the last request, for passivation. */
  lastActive = 0;

  constructor(
    readonly id: string,
    private readonly deps: UserActorDeps,
  ) {
    this.sessions = new SessionPresence(id, deps.presence.get(id));
  }

  /**
   * True when nothing is queued or running and no session is open: an actor with a live
   * session must stay, since it holds that session's presence. (A kept `dnd` survives
   * passivation in the book.)
   */
  get isIdle(): boolean {
    return (
      !this.processing && this.queue.length === 0 && this.fanoutsPending === 0 && !this.sessions.connected
    );
  }

  /** Queues a request. */
  post(env: Envelope): void {
    this.lastActive = this.deps.now();
    if (this.queue.length >= this.deps.limits.mailboxCapacity && !sessionOps.has(env.op)) {
      this.answer(env, { ok: false, error: fail.unavailable("user actor busy, retry").toBody() });
      return;
    }
    this.queue.push(env);
    if (!this.processing) void this.drain();
  }

  private async drain(): Promise<void> {
    this.processing = true;
    try {
      for (let env = this.queue.shift(); env; env = this.queue.shift()) {
        try {
          this.answer(env, { ok: true, result: await this.dispatch(env) });
        } catch (err) {
          this.answer(env, { ok: false, error: errorBodyOf(err) });
        }
      }
    } finally {
      this.processing = false;
    }
  }

  private answer(env: Envelope, outcome: Outcome): void {
    if (env.callId !== noReply) this.deps.outlet.reply(env.callId, outcome);
  }

  private async dispatch(env: Envelope): Promise<Record<string, unknown>> {
    const p = env.principal;
    // The server's own notices about the user's sessions (a node is gone, the actor moved).
    if (
      p.userId === systemPrincipal.userId &&
      (env.op === "presence.purge" || env.op === "presence.reconcile")
    ) {
      const change =
        env.op === "presence.purge"
          ? this.sessions.disconnectAll(String(env.args.prefix), this.deps.now())
          : this.sessions.reconcile(this.deps.now());
      this.presenceChanged(change);
      return { presence: this.sessions.presence };
    }
    if (p.userId !== this.id) throw fail.forbidden();
    this.principal = p;
    const { directory, userState } = this.deps;
    switch (env.op) {
      case "user.hello":
        return { user: await this.hello(p) };
      case "user.me":
        return { user: this.user ?? (await this.hello(p)) };
      case "ch.list": {
        const a = env.args as ArgsOf<"ch.list">;
        const channels = await directory.listChannels(this.id, {
          includePublic: (a.includePublic ?? false) && p.role !== "guest",
          includeArchived: a.includeArchived ?? false,
        });
        return { channels };
      }
      case "msg.locate": {
        const channelId = await directory.locateMessage(env.args.messageId as string);
        if (!channelId) throw fail.notFound("message");
        return { channelId };
      }

      case "read.mark": {
        const a = env.args as ArgsOf<"read.mark">;
        const lastReadSeq =
          a.threadRootId === undefined
            ? await userState.markRead(this.id, a.channelId, a.seq)
            : await userState.markThreadRead(this.id, a.channelId, a.threadRootId, a.seq);
        if (lastReadSeq === null) throw fail.notFound("channel");
        const marker = {
          channelId: a.channelId,
          lastReadSeq,
          ...(a.threadRootId === undefined ? {} : { threadRootId: a.threadRootId }),
        };
        this.publishOwn("read.updated", marker);
        return marker;
      }
      case "unread.summary":
        return { channels: await userState.unreadSummary(this.id) };

      case "presence.connect":
        this.presenceChanged(this.sessions.connect(String(env.args.sessionId), this.deps.now()));
        return { presence: this.sessions.presence };
      case "presence.disconnect":
        this.presenceChanged(this.sessions.disconnect(String(env.args.sessionId), this.deps.now()));
        return { presence: this.sessions.presence };
      case "presence.set": {
        const a = env.args as ArgsOf<"presence.set">;
        this.presenceChanged(this.sessions.choose(a.status, this.deps.now()));
        return { presence: this.sessions.presence };
      }
      case "presence.query":
        return { presence: await this.queryPresence((env.args as ArgsOf<"presence.query">).userIds) };

      case "user.get": {
        const user = await directory.getUser((env.args as ArgsOf<"user.get">).userId);
        if (!user) throw fail.notFound("user");
        return { user };
      }
      case "user.update": {
        const a = env.args as ArgsOf<"user.update">;
        if (!this.user) await this.hello(p);
        const user = await directory.updateProfile(this.id, {
          ...(a.displayName === undefined ? {} : { displayName: a.displayName }),
          ...(a.title === undefined ? {} : { title: a.title }),
          ...(a.timeZone === undefined ? {} : { timeZone: a.timeZone }),
        });
        if (!user) throw fail.notFound("user");
        this.user = user;
        this.publishOwn("user.updated", { user });
        return { user };
      }
      case "user.search": {
        const a = env.args as ArgsOf<"user.search">;
        return { users: await directory.searchUsers(a.q, a.limit ?? 20) };
      }
      case "user.settings.get":
        return { settings: await userState.getSettings(this.id) };
      case "user.settings.set": {
        const a = env.args as ArgsOf<"user.settings.set">;
        // Read, merge and save within this one mailbox: two sessions' changes never lose each other.
        const current = await userState.getSettings(this.id);
        const settings = mergeSettings(current, a, this.deps.limits.maxNotifyOverrides);
        await userState.saveSettings(this.id, settings);
        this.publishOwn("settings.updated", { settings });
        return { settings };
      }
      default:
        throw fail.badRequest(`op ${env.op} is not a user op`);
    }
  }

  /**
   * Creates the user on first sight and refreshes username and role when the token's
   * claims changed. The display name is the user's own after creation (the store keeps it).
   */
  private async hello(p: Principal): Promise<User> {
    const u = this.user;
    if (u && u.username === p.username && u.role === p.role) return u;
    this.user = await this.deps.directory.upsertUser({
      id: p.userId,
      username: p.username,
      displayName: p.displayName,
      role: p.role,
    });
    return this.user;
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
    // Off the mailbox: presence must never delay the user's other requests (invariant 8).
    this.fanoutsPending++;
    this.fanout = this.fanout
      .then(() => this.sendPresence(change))
      .catch((err: unknown) => {
        // Presence is best effort: a store outage loses this update, not the actor.
        console.error(`presence fan-out of ${this.id} failed:`, err instanceof Error ? err.message : err);
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
