/**
 * The ports: what the actors need from the outside world. Each port has an embedded
 * implementation and a production one, and one shared contract suite that both run.
 */
import type { StreamRecord } from "./stream-records.js";
import type {
  Channel,
  ChannelEvent,
  ChannelKind,
  ChannelRole,
  Member,
  Message,
  MessageVersion,
  Principal,
  Scheduled,
  SearchHit,
  SiteRole,
  Unread,
  User,
  UserSettings,
} from "./types.js";

/** Who reacted with one emoji, in reaction order. */
export interface StoredReaction {
  emoji: string;
  users: string[];
}

/**
 * A message as stored: the wire `Message` but with who reacted, from which each
 * caller's view (`count`, `me`) is made.
 */
export type StoredMessage = Omit<Message, "reactions"> & { reactions: StoredReaction[] };

/** One user's reaction, as a row. */
export interface ReactionRow {
  messageId: string;
  userId: string;
  emoji: string;
  at: number;
}

/** A follow or an explicit unfollow of a thread. Participants follow unless they unfollowed. */
export interface ThreadFollow {
  rootId: string;
  userId: string;
  following: boolean;
}

/** A channel's row as stored: what `Channel` shows except the member count. */
export interface ChannelRecord {
  id: string;
  name: string;
  kind: ChannelKind;
  topic: string;
  createdBy: string;
  createdAt: number;
  archived: boolean;
  lastSeq: number;
}

/** The idempotency key of a send. */
export interface SendKey {
  authorId: string;
  clientMsgId: string;
}

/** A member as stored: with the read marker, which the member's own actor moves (`UserState.markRead`). */
export type MemberRecord = Member & { lastReadSeq: number };

/** What a ChannelActor loads once, on activation. */
export interface ChannelSnapshot {
  channel: ChannelRecord;
  members: MemberRecord[];
  /** The newest events, oldest first (at most the number asked for). */
  recentEvents: ChannelEvent[];
  /** Idempotency keys of the newest messages (at most the number asked for), with their ids. */
  recentKeys: Array<SendKey & { messageId: string }>;
  /** Scheduled messages of this channel still pending. */
  pendingSchedules: Scheduled[];
}

/**
 * The durable changes a batch of requests made to one channel. Applied atomically,
 * together with other channels' writes, by `ChannelLog.commit`.
 */
export interface ChannelWrite {
  /** The channel row after the batch; always written, since `lastSeq` moved. */
  channel: ChannelRecord;
  /** New log entries, seq ascending and contiguous after the stored `lastSeq`. */
  events: ChannelEvent[];
  /** Messages created in this batch (their final state if also edited in it). */
  newMessages: StoredMessage[];
  /** Messages that existed before this batch, in their new state. */
  changedMessages: StoredMessage[];
  /**
   * Members added or changed. `lastReadSeq` is the marker of a new member (the seq it
   * joined at); an existing member's marker is not overwritten: read markers belong to
   * the user's actor (`UserState.markRead`).
   */
  upsertMembers: MemberRecord[];
  /** User ids of members removed. */
  removedMembers: string[];
  /** Reactions added; a row that exists already is left as it is. */
  addedReactions: ReactionRow[];
  /** Reactions removed (matched on message, user, emoji). */
  removedReactions: ReactionRow[];
  /** Previous versions of messages edited in this batch. */
  versions: MessageVersion[];
  /** Thread follows and unfollows (latest wins per thread and user). */
  follows: ThreadFollow[];
  /** Scheduled messages created or changed (cancelled, sent). */
  schedules: Scheduled[];
  /**
   * In a cluster: the shard the channel belongs to and the epoch under which this node
   * owns it. The commit fails with a `staleOwner` StoreConflict when another node took the shard since.
   */
  fence?: ShardFence;
}

/** A node's claim on a shard: the fencing epoch it got when it took the shard. */
export interface ShardFence {
  shard: number;
  epoch: number;
}

/** Thrown by `commit` when a new message repeats a stored idempotency key. Nothing was written. */
export class DuplicateSendError extends Error {
  constructor(readonly keys: Array<SendKey & { channelId: string }>) {
    super(`duplicate clientMsgId in ${keys.length} send(s)`);
    this.name = "DuplicateSendError";
  }

  /** The channels whose writes hold a repeated key. */
  get channelIds(): string[] {
    return [...new Set(this.keys.map((k) => k.channelId))];
  }

  /** The same error for one channel's writes alone. */
  narrowedTo(channelId: string): DuplicateSendError {
    return new DuplicateSendError(this.keys.filter((k) => k.channelId === channelId));
  }
}

/**
 * Why a channel's write conflicts with the store: `seqTaken`, its log position exists
 * already (a stale writer); `staleOwner`, its shard was taken by another node after this
 * node got its epoch (or this node no longer holds the shard at all).
 */
export type StoreConflictKind = "seqTaken" | "staleOwner";

/**
 * Thrown by `commit` when some channels' writes conflict. Nothing was written. The kind
 * is data, not a subclass, so that narrowing the error to one channel cannot lose it.
 */
export class StoreConflict extends Error {
  constructor(
    readonly kind: StoreConflictKind,
    readonly channelIds: string[],
  ) {
    super(
      kind === "staleOwner"
        ? `shard of ${channelIds.join(", ")} has a newer owner`
        : `log position already taken in ${channelIds.join(", ")}`,
    );
    this.name = "StoreConflict";
  }

  /** The same conflict, of the same kind, for one channel alone. */
  narrowedTo(channelId: string): StoreConflict {
    return new StoreConflict(this.kind, [channelId]);
  }
}

/** True when `err` says this node no longer owns the shard of the write. */
export function isStaleOwner(err: unknown): err is StoreConflict {
  return err instanceof StoreConflict && err.kind === "staleOwner";
}

/** Options of a message page. */
export interface MessagePage {
  /** Only messages with seq below this. */
  beforeSeq?: number;
  /** Only messages with seq above this. */
  afterSeq?: number;
  /** Most messages to return. */
  limit: number;
  /** A thread root's id: its replies. Absent: top-level messages only (no thread replies). */
  thread?: string;
  /** Every message, top-level and replies alike (an actor's in-memory window). Ignores `thread`. */
  allThreads?: boolean;
}

/**
 * The channel logs: the commit that appends to many channels' logs at once, and the reads
 * that rebuild and resume one channel's actor. Guarantees: `commit` is atomic across all
 * the writes given (all or nothing) and durable when it resolves; reads see only
 * committed data.
 */
export interface ChannelLog {
  /** Loads a channel for activation, or null when it does not exist. */
  loadChannel(
    channelId: string,
    opts: { recentEvents: number; recentKeys: number },
  ): Promise<ChannelSnapshot | null>;
  /** Applies many channels' writes in one transaction. Throws DuplicateSendError or StoreConflict. */
  commit(writes: ChannelWrite[]): Promise<void>;
  /** Events with seq > afterSeq, ascending, at most `limit`. */
  readEvents(channelId: string, afterSeq: number, limit: number): Promise<ChannelEvent[]>;
  /** The stored messages that hold these idempotency keys. */
  findSends(channelId: string, keys: SendKey[]): Promise<StoredMessage[]>;
}

/**
 * A channel's messages as its log left them, for the reads beyond its actor's windows:
 * history pages, one message, pins, versions and thread follows. Reads see only committed
 * data, and never another channel's rows.
 */
export interface MessageHistory {
  /**
   * Messages in seq order, ascending. With `beforeSeq` (alone or with `afterSeq`, or with
   * neither bound) the newest ones below it (and above `afterSeq`); with only `afterSeq`,
   * the oldest ones above it.
   */
  readMessages(channelId: string, page: MessagePage): Promise<StoredMessage[]>;
  /** One message of this channel, or null. */
  getMessage(channelId: string, messageId: string): Promise<StoredMessage | null>;
  /** The channel's pinned messages, most recently pinned first, at most `limit`. */
  listPinned(channelId: string, limit: number): Promise<StoredMessage[]>;
  /** Previous versions of a message of this channel, oldest first. */
  readVersions(channelId: string, messageId: string): Promise<MessageVersion[]>;
  /** Explicit follow and unfollow rows of a thread. */
  threadFollows(channelId: string, rootId: string): Promise<ThreadFollow[]>;
}

/** Scheduled messages across channels, for the poller that wakes their channels when they fall due. */
export interface ScheduleQueue {
  /** Pending scheduled messages due at or before `now`, across all channels, oldest first. */
  dueSchedules(now: number, limit: number): Promise<Scheduled[]>;
}

/** A user's view of a channel in a listing. */
export interface ChannelListing extends Channel {
  /** The caller's role, or null when the caller is not a member (public channels). */
  myRole: ChannelRole | null;
}

/** Users and cross-channel listings. */
export interface Directory {
  /**
   * Creates the user from token claims, or refreshes username and role. The display
   * name comes from the claims only on creation; later the user sets it (`updateProfile`).
   */
  upsertUser(user: { id: string; username: string; displayName: string; role: SiteRole }): Promise<User>;
  /** One user, or null. */
  getUser(userId: string): Promise<User | null>;
  /** The users with these usernames (case-insensitive), deactivated ones included. */
  getUsersByUsername(usernames: string[]): Promise<User[]>;
  /** Changes profile fields; returns the new profile, or null when the user does not exist. */
  updateProfile(
    userId: string,
    patch: { displayName?: string; title?: string; timeZone?: string },
  ): Promise<User | null>;
  /** Active users whose username, or a word of whose display name, starts with `prefix` (case-insensitive), by username. */
  searchUsers(prefix: string, limit: number): Promise<User[]>;
  /** The id of the channel that holds a message, or null. Access is checked by that channel. */
  locateMessage(messageId: string): Promise<string | null>;
  /** The channels the user belongs to, and with `includePublic` every public channel too. */
  listChannels(
    userId: string,
    opts: { includePublic: boolean; includeArchived: boolean },
  ): Promise<ChannelListing[]>;
}

/** Per-user state that is not part of any channel's log: settings and read markers. */
export interface UserState {
  /** The user's settings (defaults when never saved). */
  getSettings(userId: string): Promise<UserSettings>;
  /** Replaces the user's settings. */
  saveSettings(userId: string, settings: UserSettings): Promise<void>;
  /**
   * Moves the user's read marker in a channel forward to `seq` (never back, never past
   * the channel's last seq). Returns the marker, or null when the user is not a member.
   */
  markRead(userId: string, channelId: string, seq: number): Promise<number | null>;
  /** Moves the user's read marker in a thread forward. Returns it, or null for a non-member. */
  markThreadRead(userId: string, channelId: string, rootId: string, seq: number): Promise<number | null>;
  /**
   * Unread state of every channel the user is in. Unread messages are those after the
   * marker that the user did not write, are not deleted, and are top-level or in a thread
   * the user follows; mentions are the unread ones that name the user, @channel or @here.
   */
  unreadSummary(userId: string): Promise<Unread[]>;
  /**
   * The users who share at least one channel with `userId` whose member count is at most
   * `maxChannelMembers` (DMs always count), and the ids of the larger channels the user is in.
   */
  presenceAudience(
    userId: string,
    maxChannelMembers: number,
  ): Promise<{ users: string[]; largeChannels: string[] }>;
  /** Which of `others` share at least one channel with `userId`. */
  sharingWith(userId: string, others: string[]): Promise<string[]>;
}

/** The fencing side of shard ownership, kept in the database that the commits go to. */
export interface ShardFencing {
  /**
   * Takes shards for a node that just won their leases: raises each one's epoch and returns
   * the new epochs. Commits fenced with an older epoch fail from then on, and this waits
   * for any such commit still running.
   */
  takeShards(shards: number[]): Promise<ShardFence[]>;
}

/** Secrets that every node of a deployment must share. */
export interface SharedSecrets {
  /**
   * The dev issuer's private key (a JWK): the stored one, or `candidate` when none is
   * stored yet (it is then stored). Concurrent callers all get the same key.
   */
  sharedDevIssuerKey(candidate: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/**
 * The store: every port above over one database, plus its lifecycle. The composition root
 * opens it; each actor and service is handed only the ports it uses.
 */
/**
 * What full-text search holds of a message: its text and the fields the filters need.
 * `version` is the seq of the channel event that produced it: a document never replaces
 * a newer one of the same message, so applying the log again changes nothing.
 */
export interface SearchDocument {
  messageId: string;
  channelId: string;
  seq: number;
  authorId: string;
  text: string;
  createdAt: number;
  threadRootId: string | null;
  /** A reply, or a root with replies. */
  inThread: boolean;
  hasLink: boolean;
  hasReaction: boolean;
  version: number;
}

/** A search, with the caller's access already decided (`channelIds`). */
export interface SearchRequest {
  words: string[];
  phrases: string[];
  excluded: string[];
  /** Only these channels: the ones the caller may read (never empty: no channel, no search). */
  channelIds: string[];
  /** Only these authors, or any. */
  authorIds: string[] | null;
  since: number | null;
  until: number | null;
  hasLink: boolean;
  hasReaction: boolean;
  isThread: boolean;
  /** Newest first, or best match first. */
  sort: "recent" | "relevance";
  limit: number;
  /** Hits to skip (the cursor of the previous page). */
  offset: number;
}

/** A page of search hits. */
export interface SearchResult {
  hits: SearchHit[];
  hasMore: boolean;
  /** Answered by the fallback index because the configured one failed. */
  degraded?: boolean;
}

/** The full-text index of messages (Postgres full-text by default). */
export interface SearchIndex {
  /** Adds or replaces documents, each unless the index holds a newer version of it. */
  index(docs: SearchDocument[]): Promise<void>;
  /** Removes the documents of these messages. */
  remove(messageIds: string[]): Promise<void>;
  /** One page of hits, and whether there are more. */
  search(req: SearchRequest): Promise<SearchResult>;
}

/**
 * What follows the channel logs from outside the actors (the search indexer; the Kafka
 * relay next): how far each follower has handled each channel's log, kept with the log,
 * so a follower that stops, fails or restarts picks up where it was.
 */
export interface LogFeed {
  /** Channels whose log is ahead of `follower` (at most `limit`): the seq it has handled and the log's last. */
  feedBacklog(
    follower: string,
    limit: number,
  ): Promise<Array<{ channelId: string; handledSeq: number; lastSeq: number }>>;
  /** `follower` has handled this channel's log up to `seq` (never moves back). */
  markFed(follower: string, channelId: string, seq: number): Promise<void>;
  /** Forgets every position of `follower`: it starts every log again from the beginning. */
  forgetFollower(follower: string): Promise<void>;
}

/** Where the event stream goes (Kafka): records in order, durable once the promise resolves. */
export interface EventStream {
  /** Writes the records, in order per key; rejects when they may not all be written. */
  publish(records: readonly StreamRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface Store
  extends ChannelLog,
    MessageHistory,
    ScheduleQueue,
    Directory,
    UserState,
    ShardFencing,
    SharedSecrets,
    LogFeed,
    SearchIndex {
  /** Runs the SQL migrations that have not run yet. Safe to call on every start. */
  migrate(): Promise<void>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  /** Closes connections. */
  close(): Promise<void>;
}

/**
 * Verifies an access token and returns who it names. Throws ColinkError `unauthenticated`,
 * or `unavailable` (retryable) when the issuer's keys cannot be fetched.
 */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** The built-in development issuer, as the transport sees it. */
export interface DevLogin {
  /**
   * Validates a dev username and role (absent: `member`) and signs them in: an access
   * token, and a session token to refresh it with. Throws `bad_request`.
   */
  login(username: unknown, role?: unknown): Promise<DevSession>;
  /** Signs in again the user of a session token from `login`. Throws `unauthenticated`. */
  refresh(sessionToken: string): Promise<DevSession>;
  /** The issuer's public keys (JWKS). */
  jwks(): { keys: unknown[] };
}

/** A dev sign-in: who, an access token and when it expires, and the session token behind it. */
export interface DevSession {
  principal: Principal;
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Lives longer than the access token; the web client keeps it in an HttpOnly cookie. */
  sessionToken: string;
  /** Epoch ms. */
  sessionExpiresAt: number;
}

/**
 * Messages between the nodes of a cluster. Topics are opaque names; a node hears only
 * the topics it subscribed to, and never its own messages. Order is kept per publishing
 * node: two messages one node publishes, on any topics, reach a subscriber in that order.
 */
export interface NodeBus {
  /** Sends a payload to every other node subscribed to `topic`; resolves to how many heard it. */
  publish(topic: string, payload: Uint8Array): Promise<number>;
  /** Resolves once messages on `topic` reach `onMessage`. */
  subscribe(topic: string): Promise<void>;
  unsubscribe(topic: string): Promise<void>;
  /** Where messages arrive (one handler). */
  onMessage(handler: (topic: string, payload: Uint8Array) => void): void;
  /**
   * Told false when the connection is lost and true when it is back. Messages published
   * while it was down are lost for this node: a node that hears `true` after `false` must
   * make its clients resume.
   */
  onConnection(handler: (up: boolean) => void): void;
  close(): Promise<void>;
}

/**
 * Request counters per key in fixed time windows, shared by the nodes of a cluster (rate
 * limits that hold across nodes). Counts are exchanged in batches, so a limit may be
 * passed by what the nodes let through between two exchanges.
 */
export interface RateCounters {
  /**
   * Adds this node's counts of window `window` (a window number) and returns, for the same
   * keys, the totals of all nodes in that window.
   */
  addCounts(window: number, windowMs: number, counts: Map<string, number>): Promise<Map<string, number>>;
}

/** One user's presence as the cluster keeps it (the user actor's latest entry). */
export interface SharedPresence {
  userId: string;
  status: "online" | "away" | "dnd" | "offline";
  since: number;
  /** The chosen status that outlives the sessions (`dnd`), or null. */
  kept: "dnd" | null;
}

/**
 * Presence shared by the nodes of a cluster, so that a node that starts (or restarts)
 * knows who is online before their next change. Changes also travel on the bus.
 */
export interface PresenceShare {
  /** Records users' latest presence (an offline user without a kept status is dropped). */
  savePresence(list: SharedPresence[]): Promise<void>;
  /** Everyone's presence as recorded. */
  loadPresence(): Promise<SharedPresence[]>;
}

/** Who is in the cluster and who owns which shard: leases that lapse unless renewed. */
export interface ClusterRegistry extends PresenceShare {
  /** Renews this node's membership for `ttlMs` and returns every live node, this one included. */
  heartbeat(nodeId: string, ttlMs: number): Promise<string[]>;
  /** Removes this node from the membership at once (clean shutdown). */
  leave(nodeId: string): Promise<void>;
  /** Tries to lease free shards (or ones this node holds already) for `ttlMs`; returns those won. */
  acquire(nodeId: string, shards: number[], ttlMs: number): Promise<number[]>;
  /** Records the fencing epoch of a lease this node holds (for operators to read). */
  stamp(nodeId: string, fences: ShardFence[], ttlMs: number): Promise<void>;
  /** Extends the leases this node still holds; returns those, dropping any it lost. */
  renew(nodeId: string, shards: number[], ttlMs: number): Promise<number[]>;
  /** Gives up leases this node holds. */
  release(nodeId: string, shards: number[]): Promise<void>;
  /** Resolves when the registry answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
