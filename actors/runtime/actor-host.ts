/**
 * ActorHost: the actors of one thread. It creates an actor on its first message, routes
 * envelopes to it, and passivates actors that stayed idle.
 */
import type { Limits } from "../../core/config.js";
import type { FilePolicy } from "../../core/file-rules.js";
import { type Logger, silentLogger } from "../../core/logger.js";
import type {
  Accounts,
  AuditLog,
  BlobStore,
  ChannelLog,
  Directory,
  EventStream,
  FileStore,
  FlagStore,
  LogFeed,
  MessageHistory,
  Scanner,
  ScheduleQueue,
  SearchIndex,
  ShardFence,
  Store,
  StreamConsumer,
  Thumbnailer,
  UserEventLog,
  UserState,
} from "../../core/ports.js";
import { auditStreamRecordOf, streamRecordOf, userStreamRecordOf } from "../../core/stream-records.js";
import type { AuditEntry, Presence, UserEvent } from "../../core/types.js";
import { ChannelActor, type ChannelActorDeps } from "../channel/channel-actor.js";
import { noReply, type Outlet, type Routed, systemPrincipal } from "../envelope.js";
import { PresenceBook, type PresenceEntry } from "../user/presence.js";
import { UserActor, type UserActorDeps } from "../user/user-actor.js";
import type { FollowingHealth } from "./actor-system.js";
import { FailoverSearch } from "./failover-search.js";
import { FileLifecycle } from "./file-lifecycle.js";
import { FileScanner } from "./file-scanner.js";
import { GroupCommitter } from "./group-commit.js";
import { type HandleEvents, LogFollower } from "./log-follower.js";
import { shardOf } from "./placement.js";
import { PresenceRelay } from "./presence-relay.js";
import { SchedulePoller } from "./schedule-poller.js";
import {
  externalSearchFollower,
  indexedUsersOf,
  searchFollower,
  searchIndexing,
  streamSearchIndexing,
} from "./search-indexer.js";
import { UserEventFollower, userEventsKey } from "./user-event-follower.js";

/** The event stream relay's name among the followers of the channel logs. */
export const streamFollower = "stream";

/** The audit log's key among the positions of the `stream` follower (and the shard that relays it). */
export const auditLogKey = "@audit-log";

/** How long a new owner waits for sessions to be announced before settling its users' presence. */
const presenceReconcileDelayMs = 2000;

// Declared in envelope.ts (which the actors import them from); the transport imports them from here.
export type { ActorKind, Routed } from "../envelope.js";

/** The ports the actors of a host use, over one store; the host hands each actor its part. */
export type ActorStore = ChannelLog &
  AuditLog &
  Accounts &
  MessageHistory &
  ScheduleQueue &
  Directory &
  UserState &
  LogFeed &
  UserEventLog &
  FileStore &
  SearchIndex &
  FlagStore;

/** Where files' bytes go, what is allowed of them, and (where configured) how they are scanned. */
export interface HostFiles {
  blobs: BlobStore;
  policy: FilePolicy;
  /** The virus scanner and the thumbnail pool; absent, files are `unscanned`. */
  scanning: { scanner: Scanner; thumbnails: Thumbnailer } | null;
}

/**
 * COLINK_SEARCH_FEED=kafka: the external index is fed from the event stream by a consumer
 * group that every node joins, not by the threads following their channels' logs. One
 * thread of a node runs the node's consumer; on the others `consumer` is null.
 */
export interface StreamFedIndex {
  consumer: StreamConsumer | null;
}

/** What a thread opens for its host: the store, the files' ports, and the optional external index and stream. */
export interface HostPorts {
  store: Store;
  files: HostFiles;
  searchIndex?: SearchIndex;
  stream?: EventStream;
  streamFedIndex?: StreamFedIndex;
  /** Closes the files' ports, the index and the stream (the store is closed by its owner). */
  closeExtras(): Promise<void>;
}

/** What a host needs. */
export interface ActorHostDeps {
  store: ActorStore;
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
  /** How often the search index and the event stream look for channel events they lack. */
  followPollMs?: number;
  /** How often pending files are looked for (where a scanner is configured). */
  filePollMs?: number;
  /** The event stream (Kafka) that the channel logs are relayed to; absent, none. */
  stream?: EventStream;
  /** Files' bytes, policy and scanning; absent, file ops answer `unavailable` (unit tests). */
  files?: HostFiles;
  /**
   * A search index besides the store's Postgres full-text (OpenSearch): it answers
   * searches, and the store's answers while it fails. Absent, the store's alone.
   */
  searchIndex?: SearchIndex;
  /** Set when `searchIndex` is fed from the event stream (a consumer group) instead of the logs. */
  streamFedIndex?: StreamFedIndex;
  /** Hands a presence change made here to the other threads' books (W > 0). */
  sharePresence?: (entry: PresenceEntry) => void;
  /** Virtual shards keys hash into (for cluster ownership). */
  shards?: number;
  /**
   * Cluster: a channel actor loaded under `stale` (a shard and this node's epoch of it then)
   * found it may not write any more: another node, or this node under a newer epoch, owns
   * the shard now.
   */
  staleShard?: (stale: ShardFence) => void;
  /** Where the actors write internal errors and store failures; absent, nowhere. */
  logger?: Logger;
}

/** The actors of one thread. */
export class ActorHost {
  private readonly channels = new Map<string, ChannelActor>();
  private readonly users = new Map<string, UserActor>();
  private readonly committer: GroupCommitter;
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly route: (env: Routed) => void;
  private readonly logger: Logger;
  /** Everyone's presence as this thread knows it (see actors/user/presence.ts). */
  readonly presence: PresenceBook;
  /**
   * In a cluster: the shards this node owns now, with the epoch of each; null on a single
   * node, where every key is owned and commits carry no fence.
   */
  private owned: Map<number, number> | null = null;
  /** The ports of the store a channel actor is handed. */
  private readonly channelPorts: Pick<ChannelActorDeps, "log" | "history" | "directory" | "files" | "flags">;
  /** The ports of the store a user actor is handed. */
  private readonly userPorts: Pick<
    UserActorDeps,
    "directory" | "userState" | "search" | "files" | "flags" | "accounts" | "audit"
  >;
  /** Searches that fall back to Postgres while the external index fails; null without one. */
  private readonly failover: FailoverSearch | null;

  constructor(private readonly deps: ActorHostDeps) {
    const { store } = deps;
    this.logger = deps.logger ?? silentLogger;
    this.channelPorts = {
      log: store,
      history: store,
      directory: store,
      flags: store,
      ...(deps.files ? { files: { store, blobs: deps.files.blobs, policy: deps.files.policy } } : {}),
    };
    this.failover = deps.searchIndex
      ? new FailoverSearch(deps.searchIndex, store, this.logger.child({ module: "search" }))
      : null;
    this.userPorts = {
      directory: store,
      userState: store,
      accounts: store,
      audit: store,
      search: this.failover ?? store,
      flags: store,
      ...(this.channelPorts.files ? { files: this.channelPorts.files } : {}),
    };
    this.now = deps.now ?? Date.now;
    this.route = deps.route ?? ((env) => this.deliver(env));
    this.presence = new PresenceBook(deps.sharePresence);
    this.committer = new GroupCommitter(
      deps.store,
      {
        maxInFlight: deps.maxCommitsInFlight ?? 1,
        maxWrites: 1000,
      },
      this.logger.child({ module: "commit" }),
    );
    const idleMs = deps.limits.actorIdleSec * 1000;
    this.sweeper = setInterval(() => this.passivate(idleMs), Math.min(idleMs, 10_000));
    this.sweeper.unref();
    const ownsKey = deps.owns ?? (() => true);
    const hosted = (key: string) =>
      ownsKey(key) && (this.owned === null || this.owned.has(this.shardOf(key)));
    this.schedules = new SchedulePoller(
      deps.store,
      (env) => this.deliver(env),
      hosted,
      this.now,
      deps.schedulePollMs ?? 1000,
      this.logger.child({ module: "schedules" }),
    );
    const follow = (name: string, handle: HandleEvents, logger: Logger) =>
      new LogFollower(
        { name, feed: store, log: store, owns: hosted, handle, logger },
        deps.followPollMs ?? 500,
      );
    this.indexer = follow(
      searchFollower,
      searchIndexing(store, store),
      this.logger.child({ module: "search" }),
    );
    const { stream, searchIndex, streamFedIndex } = deps;
    // Fed from the stream, the index has one indexer: the consumer group, not the threads.
    const logFedIndex = streamFedIndex ? undefined : searchIndex;
    this.indexConsumer = searchIndex ? (streamFedIndex?.consumer ?? null) : null;
    if (searchIndex && this.indexConsumer) this.indexConsumer.run(streamSearchIndexing(searchIndex, store));
    this.externalIndexer = logFedIndex
      ? follow(
          externalSearchFollower,
          searchIndexing(logFedIndex, store),
          this.logger.child({ module: "search", index: "external" }),
        )
      : null;
    const streamLogger = this.logger.child({ module: "stream" });
    this.relay = stream
      ? follow(
          streamFollower,
          (runs) => stream.publish(runs.flatMap((run) => run.events.map(streamRecordOf))),
          streamLogger,
        )
      : null;
    const followUsers = (follower: string, handle: (events: UserEvent[]) => Promise<void>, logger: Logger) =>
      new UserEventFollower(
        {
          follower,
          read: (afterId, limit) => store.readUserEvents(afterId, limit),
          feed: store,
          handle,
          hosted: () => hosted(userEventsKey),
          now: this.now,
          logger,
        },
        deps.followPollMs ?? 500,
      );
    this.userEventRelay = stream
      ? followUsers(streamFollower, (events) => stream.publish(events.map(userStreamRecordOf)), streamLogger)
      : null;
    // The audit log is an outbox too (ids taken in chain order): relayed to audit.events.
    this.auditRelay = stream
      ? new UserEventFollower(
          {
            follower: streamFollower,
            key: auditLogKey,
            read: async (afterId, limit) =>
              (await store.readAudit(afterId, limit)).map(({ seq, ...entry }) => ({
                id: seq,
                at: entry.at,
                entry,
              })),
            handle: (runs) => stream.publish(runs.map((r) => auditStreamRecordOf(r.entry))),
            feed: store,
            hosted: () => hosted(auditLogKey),
            now: this.now,
            logger: streamLogger,
          },
          deps.followPollMs ?? 500,
        )
      : null;
    this.peopleIndexer = logFedIndex
      ? followUsers(
          externalSearchFollower,
          (events) => logFedIndex.indexUsers(indexedUsersOf(events)),
          this.logger.child({ module: "search", index: "external" }),
        )
      : null;
    this.presenceRelay = stream ? new PresenceRelay(stream, deps.followPollMs ?? 500, streamLogger) : null;
    const scanning = deps.files?.scanning;
    this.fileScanner = scanning
      ? new FileScanner(
          {
            files: store,
            blobs: deps.files!.blobs,
            scanner: scanning.scanner,
            thumbnails: scanning.thumbnails,
            route: this.route,
            now: this.now,
            logger: this.logger.child({ module: "files" }),
          },
          deps.filePollMs ?? 1000,
        )
      : null;
    this.fileLifecycle = deps.files
      ? new FileLifecycle({
          files: store,
          blobs: deps.files.blobs,
          now: this.now,
          logger: this.logger.child({ module: "files" }),
        })
      : null;
    const presenceRelay = this.presenceRelay;
    this.streamPresence = presenceRelay ? (presence) => presenceRelay.add(presence) : null;
  }

  /** What a user actor hands its presence changes to, for the event stream; null without one. */
  private readonly streamPresence: ((presence: Presence) => void) | null;

  /** Relays the user-event outbox to the event stream, when there is one and this thread hosts it. */
  readonly userEventRelay: UserEventFollower | null;

  /** Relays the audit log to the event stream (audit.events), when there is one and this thread hosts it. */
  readonly auditRelay: UserEventFollower<{ id: number; at: number; entry: AuditEntry }> | null;

  /** Keeps the external search index's people following the user-event outbox, when this thread hosts it. */
  readonly peopleIndexer: UserEventFollower | null;

  /** Scans uploaded files, where a scanner is configured. */
  readonly fileScanner: FileScanner | null;

  /** Deletes quarantined files' bytes and abandoned uploads. */
  readonly fileLifecycle: FileLifecycle | null;

  /** Sends presence changes made here to the event stream, when there is one. */
  readonly presenceRelay: PresenceRelay | null;

  /** Keeps the external search index (OpenSearch), when there is one and it follows the logs, following the channels hosted here. */
  readonly externalIndexer: LogFollower | null;

  /** Feeds the external search index from the event stream, on the one thread of the node that runs the node's consumer. */
  private readonly indexConsumer: StreamConsumer | null;

  /** Relays the channels hosted here to the event stream, when there is one. */
  readonly relay: LogFollower | null;

  /** Keeps the search index following the channels hosted here. */
  readonly indexer: LogFollower;

  /** How the search index and the event stream are following the channels hosted here (for /ready). */
  get health(): FollowingHealth {
    const idle = { failing: false, lagEvents: 0 };
    // Fed from the stream: the consumer group's lag (on the thread that runs the node's consumer).
    const external = this.deps.streamFedIndex
      ? (this.indexConsumer?.status ?? idle)
      : this.externalIndexer?.status;
    const index = external ?? this.indexer.status;
    const people = this.peopleIndexer?.status ?? idle;
    const health: FollowingHealth = {
      search: {
        index: this.deps.searchIndex ? "opensearch" : "postgres",
        status: index.failing || people.failing || this.failover?.degraded ? "degraded" : "ok",
        lagEvents: index.lagEvents + people.lagEvents,
      },
    };
    const relay = this.relay?.status;
    const users = this.userEventRelay?.status;
    if (relay && users) {
      const failing = relay.failing || users.failing || this.presenceRelay?.isFailing === true;
      health.stream = { status: failing ? "failing" : "ok", lagEvents: relay.lagEvents + users.lagEvents };
    }
    return health;
  }

  /** Wakes channels whose scheduled messages fell due. */
  readonly schedules: SchedulePoller;

  /** Delivers an envelope to its actor, creating the actor on first use. */
  deliver(env: Routed): void {
    if (env.actor === "channel") this.channelActor(env.key).post(env);
    else this.userActor(env.key).post(env);
  }

  /** Ends, in every user actor here, the sessions whose ids start with `prefix` (a node that is gone). */
  purgeSessions(prefix: string): void {
    for (const [id, actor] of this.users) {
      actor.post({
        callId: noReply,
        op: "presence.purge",
        args: { prefix },
        principal: systemPrincipal,
        key: id,
      });
    }
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

  /**
   * Cluster: the shards this node owns from now on. Actors of shards that were lost, or
   * taken again under a new epoch, are dropped: an actor's state is only trusted under the
   * tenure it was loaded in (one still busy finishes, but its commits fail the fence).
   */
  setOwnedShards(fences: ShardFence[]): void {
    const before = this.owned;
    const next = new Map(fences.map((f) => [f.shard, f.epoch]));
    this.owned = next;
    const changed = (key: string) => {
      const shard = this.shardOf(key);
      return before?.get(shard) !== next.get(shard) || !next.has(shard);
    };
    for (const id of this.channels.keys()) if (changed(id)) this.channels.delete(id);
    for (const id of this.users.keys()) if (changed(id)) this.users.delete(id);
    const gained = fences.filter((f) => before?.get(f.shard) !== f.epoch);
    if (gained.length > 0) this.reconcilePresence(new Map(gained.map((f) => [f.shard, f.epoch])));
  }

  /**
   * After taking shards: users of those shards whom the book shows connected may have lost
   * their sessions with the node that owned them before. Once the live nodes have had time
   * to announce the sessions they hold, each such user's actor settles its presence.
   */
  private reconcilePresence(gained: Map<number, number>): void {
    const timer = setTimeout(() => {
      for (const entry of this.presence.entries()) {
        const shard = this.shardOf(entry.userId);
        if (entry.status === "offline" || gained.get(shard) === undefined) continue;
        if (this.owned?.get(shard) !== gained.get(shard)) continue;
        this.deliver({
          actor: "user",
          callId: noReply,
          op: "presence.reconcile",
          args: {},
          principal: systemPrincipal,
          key: entry.userId,
        });
      }
    }, presenceReconcileDelayMs);
    timer.unref();
  }

  /**
   * Cluster hand-off: waits (up to `timeoutMs`) until the actors of `shards` have answered
   * what they were sent and committed it, then drops them. The caller stops routing these
   * shards here first.
   */
  async releaseShards(shards: number[], timeoutMs = 10_000): Promise<void> {
    const set = new Set(shards);
    const leaving = [...this.channels].filter(([id]) => set.has(this.shardOf(id)));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !leaving.every(([, a]) => a.isIdle)) {
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const [id] of leaving) this.channels.delete(id);
    for (const id of this.users.keys()) if (set.has(this.shardOf(id))) this.users.delete(id);
  }

  private shardOf(key: string): number {
    return shardOf(key, this.deps.shards ?? 1024);
  }

  /**
   * Cluster: the tenure a new channel actor is loaded under (its shard's epoch now): the
   * fence its commits carry while the tenure lasts, and the report it makes when it finds
   * the tenure over. The report names the epoch, so that the node can tell an actor of its
   * own older tenure (nothing to do) from another node's newer one (give the shard up).
   */
  private tenureOf(key: string): Pick<ChannelActorDeps, "fence" | "onStaleOwner"> {
    if (this.owned === null) return {};
    const shard = this.shardOf(key);
    const epoch = this.owned.get(shard);
    return {
      fence: () => (epoch !== undefined && this.owned?.get(shard) === epoch ? { shard, epoch } : null),
      onStaleOwner: () => {
        if (epoch !== undefined) this.deps.staleShard?.({ shard, epoch });
      },
    };
  }

  /** Waits for every pending commit, then stops the sweeper. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.schedules.stop();
    this.indexer.stop();
    this.relay?.stop();
    this.userEventRelay?.stop();
    this.auditRelay?.stop();
    this.peopleIndexer?.stop();
    this.presenceRelay?.stop();
    this.fileScanner?.stop();
    this.fileLifecycle?.stop();
    this.externalIndexer?.stop();
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
        ...this.channelPorts,
        committer: this.committer,
        outlet: this.deps.outlet,
        limits: this.deps.limits,
        now: this.now,
        route: this.route,
        isOnline: (userId) => this.presence.view(userId).status !== "offline",
        logger: this.logger,
        ...this.tenureOf(id),
      });
      this.channels.set(id, a);
    }
    return a;
  }

  private userActor(id: string): UserActor {
    let a = this.users.get(id);
    if (!a) {
      a = new UserActor(id, {
        ...this.userPorts,
        outlet: this.deps.outlet,
        limits: this.deps.limits,
        now: this.now,
        route: this.route,
        presence: this.presence,
        logger: this.logger,
        ...(this.streamPresence ? { streamPresence: this.streamPresence } : {}),
      });
      this.users.set(id, a);
    }
    return a;
  }
}
