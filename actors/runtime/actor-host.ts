/**
 * ActorHost: the actors of one thread. It creates an actor on its first message, routes
 * envelopes to it, and passivates actors that stayed idle.
 */
import type { Limits } from "../../core/config.js";
import type { Directory, Store } from "../../core/ports.js";
import { ChannelActor } from "../channel/channel-actor.js";
import type { Envelope, Outlet } from "../envelope.js";
import { PresenceBook, type PresenceEntry } from "../presence.js";
import { UserActor } from "../user-actor.js";
import { GroupCommitter } from "./group-commit.js";
import { SchedulePoller } from "./schedule-poller.js";

/** Which kind of actor an envelope goes to. */
export type ActorKind = "channel" | "user";

/** An envelope with its destination. */
export interface Routed extends Envelope {
  actor: ActorKind;
}

/** What a host needs. */
export interface ActorHostDeps {
  store: Store;
  outlet: Outlet;
  limits: Limits;
  now?: () => number;
  /** Transactions a thread runs at once. */
  maxCommitsInFlight?: number;
  /**
   * Delivers an envelope to its actor wherever it is hosted. Absent, this host's own
   * `deliver`, which is right only when every actor lives here (W = 0); a worker passes
   * one that goes through the main thread.
   */
  route?: (env: Routed) => void;
  /** True for the actor keys this thread hosts (W > 0); absent, all of them. */
  owns?: (key: string) => boolean;
  /** How often due scheduled messages are looked for. */
  schedulePollMs?: number;
  /** Hands a presence change made here to the other threads' books (W > 0). */
  sharePresence?: (entry: PresenceEntry) => void;
}

/** The actors of one thread. */
export class ActorHost {
  private readonly channels = new Map<string, ChannelActor>();
  private readonly users = new Map<string, UserActor>();
  private readonly committer: GroupCommitter;
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly route: (env: Routed) => void;
  /** Everyone's presence as this thread knows it (see actors/presence.ts). */
  readonly presence: PresenceBook;

  constructor(private readonly deps: ActorHostDeps) {
    this.now = deps.now ?? Date.now;
    this.route = deps.route ?? ((env) => this.deliver(env));
    this.presence = new PresenceBook(deps.sharePresence);
    this.committer = new GroupCommitter(deps.store, {
      maxInFlight: deps.maxCommitsInFlight ?? 1,
      maxWrites: 1000,
    });
    const idleMs = deps.limits.actorIdleSec * 1000;
    this.sweeper = setInterval(() => this.passivate(idleMs), Math.min(idleMs, 10_000));
    this.sweeper.unref();
    this.schedules = new SchedulePoller(
      deps.store,
      (env) => this.deliver(env),
      deps.owns ?? (() => true),
      this.now,
      deps.schedulePollMs ?? 1000,
    );
  }

  /** Wakes channels whose scheduled messages fell due. */
  readonly schedules: SchedulePoller;

  /** Delivers an envelope to its actor, creating the actor on first use. */
  deliver(env: Routed): void {
    if (env.actor === "channel") this.channelActor(env.key).post(env);
    else this.userActor(env.key).post(env);
  }

  /** Applies presence changes made on other threads. */
  applyPresence(list: PresenceEntry[]): void {
    this.presence.apply(list);
  }

  /** Actors in memory, by kind. */
  get counts(): { channels: number; users: number; commits: number } {
    return { channels: this.channels.size, users: this.users.size, commits: this.committer.commits };
  }

  /** Drops actors idle for longer than `idleMs`. */
  passivate(idleMs: number): void {
    const cutoff = this.now() - idleMs;
    for (const [id, a] of this.channels) {
      if (a.isIdle && a.lastActive <= cutoff) this.channels.delete(id);
    }
    for (const [id, a] of this.users) if (a.isIdle && a.lastActive <= cutoff) this.users.delete(id);
  }

  /** Waits for every pending commit, then stops the sweeper. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.schedules.stop();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && ![...this.channels.values()].every((a) => a.isIdle)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await this.committer.idle();
  }

  private channelActor(id: string): ChannelActor {
    let a = this.channels.get(id);
    if (!a) {
      a = new ChannelActor(id, {
        log: this.deps.store,
        directory: this.deps.store as Directory,
        committer: this.committer,
        outlet: this.deps.outlet,
        limits: this.deps.limits,
        now: this.now,
        route: this.route,
        isOnline: (userId) => this.presence.view(userId).status !== "offline",
      });
      this.channels.set(id, a);
    }
    return a;
  }

  private userActor(id: string): UserActor {
    let a = this.users.get(id);
    if (!a) {
      a = new UserActor(id, {
        directory: this.deps.store,
        userState: this.deps.store,
        outlet: this.deps.outlet,
        limits: this.deps.limits,
        now: this.now,
        route: this.route,
        presence: this.presence,
      });
      this.users.set(id, a);
    }
    return a;
  }
}
