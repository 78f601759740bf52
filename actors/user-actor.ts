/**
 * UserActor: one per user. In this version it keeps the user's profile and answers the
 * ops that are about the user rather than one channel. Presence, settings and read
 * markers across sessions join it later.
 */
import { errorBodyOf, fail } from "../core/errors.js";
import type { ArgsOf } from "../core/ops.js";
import type { Directory } from "../core/ports.js";
import type { Principal, User } from "../core/types.js";
import type { Envelope, Outlet } from "./envelope.js";

/** What a user actor needs from its host. */
export interface UserActorDeps {
  directory: Directory;
  outlet: Outlet;
  now: () => number;
}

/** One user's actor. */
export class UserActor {
  private user: User | null = null;
  private readonly queue: Envelope[] = [];
  private processing = false;
  /** Time of the last request, for passivation. */
  lastActive = 0;

  constructor(
    readonly id: string,
    private readonly deps: UserActorDeps,
  ) {}

  /** True when nothing is queued or running. */
  get isIdle(): boolean {
    return !this.processing && this.queue.length === 0;
  }

  /** Queues a request. */
  post(env: Envelope): void {
    this.lastActive = this.deps.now();
    this.queue.push(env);
    if (!this.processing) void this.drain();
  }

  private async drain(): Promise<void> {
    this.processing = true;
    try {
      for (let env = this.queue.shift(); env; env = this.queue.shift()) {
        try {
          const result = await this.dispatch(env);
          this.deps.outlet.reply(env.callId, { ok: true, result });
        } catch (err) {
          this.deps.outlet.reply(env.callId, { ok: false, error: errorBodyOf(err) });
        }
      }
    } finally {
      this.processing = false;
    }
  }

  private async dispatch(env: Envelope): Promise<Record<string, unknown>> {
    const p = env.principal;
    if (p.userId !== this.id) throw fail.forbidden();
    switch (env.op) {
      case "user.hello":
        return { user: await this.hello(p) };
      case "user.me":
        return { user: this.user ?? (await this.hello(p)) };
      case "ch.list": {
        const a = env.args as ArgsOf<"ch.list">;
        const channels = await this.deps.directory.listChannels(this.id, {
          includePublic: (a.includePublic ?? false) && p.role !== "guest",
          includeArchived: a.includeArchived ?? false,
        });
        return { channels };
      }
      case "msg.locate": {
        const channelId = await this.deps.directory.locateMessage(env.args.messageId as string);
        if (!channelId) throw fail.notFound("message");
        return { channelId };
      }
      default:
        throw fail.badRequest(`op ${env.op} is not a user op`);
    }
  }

  /** Creates the user on first sight and refreshes the profile when the token's claims changed. */
  private async hello(p: Principal): Promise<User> {
    const u = this.user;
    if (u && u.username === p.username && u.displayName === p.displayName && u.role === p.role) return u;
    this.user = await this.deps.directory.upsertUser({
      id: p.userId,
      username: p.username,
      displayName: p.displayName,
      role: p.role,
    });
    return this.user;
  }
}
