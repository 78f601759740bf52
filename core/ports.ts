/**
 * The ports: what the actors need from the outside world. Each port has an embedded
 * implementation and a production one, and one shared contract suite that both run.
 */
import type { AuditStreamRecord, StreamEvent, StreamRecord } from "./stream-records.js";
import type {
  AuditAction,
  AuditEntry,
  AuditVerdict,
  Channel,
  ChannelEvent,
  ChannelKind,
  ChannelRole,
  FileInfo,
  Flag,
  Member,
  Message,
  MessageVersion,
  Principal,
  Scheduled,
  SearchHit,
  SiteRole,
  Unread,
  User,
  UserEvent,
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
  /** Flags created or changed (resolved) in this batch, without their `message` (latest wins). */
  flags?: Flag[];
  /** Originals of messages a moderator removed in this batch, kept for audit. */
  removals?: RemovedOriginal[];
  /** Audit entries of this batch (msg.remove, flag.resolve, ch.archive), appended in its transaction. */
  audit?: AuditRecord[];
  /**
   * In a cluster: the shard the channel belongs to and the epoch under which this node
   * owns it. The commit fails with a `staleOwner` StoreConflict when another node took the shard since.
   */
  fence?: ShardFence;
}

/**
 * A message as it was when a moderator removed it (`msg.remove`, `flag.resolve` removed):
 * kept for audit and for the moderators' view of its flags, never shown to members.
 */
export interface RemovedOriginal {
  messageId: string;
  channelId: string;
  removedBy: string;
  reason: string;
  removedAt: number;
  /** The message before the removal (its text, files, mentions…). */
  original: StoredMessage;
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

/**
 * Flags (reports of messages to the moderators). A channel's actor writes its flags in its
 * commits (`ChannelWrite.flags`) and reads them back here; the moderators' queue lists
 * them across channels. Reads see only committed data.
 */
export interface FlagStore {
  /** One flag of this channel (without `message`), or null. */
  getFlag(channelId: string, flagId: string): Promise<Flag | null>;
  /** The open flags of a message of this channel (without `message`), oldest first. */
  openFlagsOf(channelId: string, messageId: string): Promise<Flag[]>;
  /**
   * Flags of every channel, newest first (by id, which is time-ordered), with `message` as
   * moderators see it (the original text of a removed message). `before`: only flags with
   * an id below it (the previous page's last id).
   */
  listFlags(opts: { status?: "open" | "resolved"; before?: string; limit: number }): Promise<Flag[]>;
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
   * Creates the user from token claims, or refreshes username and role (unless an admin
   * set the role: `Accounts.setRole` wins over the claim). The display
   * name comes from the claims only on creation; later the user sets it (`updateProfile`).
   * Usernames are unique regardless of case: when another user holds the claimed one (in
   * any case), an existing user keeps theirs and a new one gets the first free
   * `<username>-2`, `<username>-3`, …
   */
  upsertUser(user: { id: string; username: string; displayName: string; role: SiteRole }): Promise<User>;
  /** One user, or null. */
  getUser(userId: string): Promise<User | null>;
  /** Users by id after `afterId`, at most `limit`, deactivated ones included (a re-index pages through them). */
  listUsers(afterId: string, limit: number): Promise<User[]>;
  /** The users with these usernames (case-insensitive), deactivated ones included. */
  getUsersByUsername(usernames: string[]): Promise<User[]>;
  /** Changes profile fields; returns the new profile, or null when the user does not exist. */
  updateProfile(
    userId: string,
    patch: { displayName?: string; title?: string; timeZone?: string; avatarFileId?: string | null },
  ): Promise<User | null>;
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
  /**
   * The key that seals the sign-in cookies (a JWK of kind `oct`): the stored one, or
   * `candidate` when none is stored yet (it is then stored). Concurrent callers all get the same key.
   */
  sharedSessionKey(candidate: Record<string, unknown>): Promise<Record<string, unknown>>;
}

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
  degraded?: true;
}

/**
 * A user as the search index holds them. `version` is the id of the user-event outbox
 * entry that carried this state: an older one never replaces a newer one.
 */
export interface IndexedUser {
  user: User;
  version: number;
}

/**
 * The full-text index of messages and of people (Postgres full-text by default, where the
 * users table is its own index of people).
 */
export interface SearchIndex {
  /** Adds or replaces documents, each unless the index holds a newer version of it. */
  index(docs: SearchDocument[]): Promise<void>;
  /** Removes the documents of these messages. */
  remove(messageIds: string[]): Promise<void>;
  /** One page of hits, and whether there are more. */
  search(req: SearchRequest): Promise<SearchResult>;
  /** Adds or replaces people, each unless the index holds a newer version of them. */
  indexUsers(users: IndexedUser[]): Promise<void>;
  /**
   * Active users matched by every word of `query` (at most 5): each word starts their
   * username or a word of their display name (case-insensitive). An exact username first,
   * then by username.
   */
  searchUsers(query: string, limit: number): Promise<UserSearchResult>;
}

/** People found. */
export interface UserSearchResult {
  users: User[];
  /** Answered by the fallback index because the configured one failed. */
  degraded?: true;
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
  /** `follower` has handled each channel's log up to its `seq` (a position never moves back); one statement. */
  markFed(follower: string, positions: ReadonlyArray<{ channelId: string; seq: number }>): Promise<void>;
  /** The position `follower` has marked under `key` (a channel id, or another log's name), 0 when none. */
  fedPosition(follower: string, key: string): Promise<number>;
  /** Forgets every position of `follower`: it starts every log again from the beginning. */
  forgetFollower(follower: string): Promise<void>;
}

/**
 * The user-event outbox: each change to a user's profile or settings writes its event in
 * the same statement as the change, so the relay to Kafka misses none.
 */
export interface UserEventLog {
  /** Events after `afterId`, by id, at most `limit`. Ids may have gaps (see UserEventFollower). */
  readUserEvents(afterId: number, limit: number): Promise<UserEvent[]>;
}

/** Where the event stream goes (Kafka): records in order, durable once the promise resolves. */
export interface EventStream {
  /** Writes the records, in order per key; rejects when they may not all be written. */
  publish(records: readonly (StreamRecord | AuditStreamRecord)[]): Promise<void>;
  close(): Promise<void>;
}

/** What a consumer of the event stream does with a batch of events; the batch counts as done once it resolves. */
export type HandleStreamEvents = (events: readonly StreamEvent[]) => Promise<void>;

/**
 * A consumer of the event stream in a group shared by the nodes (Kafka): the stream's
 * partitions are spread over the group's members, so each event is handled by one of them.
 * Events of one key (a channel, a user) arrive in order. Delivery is at least once: a batch
 * counts as consumed (its offsets committed) only after `handle` resolved; while it rejects,
 * the same batch is tried again with backoff, and after a restart or a rebalance a batch may
 * come again. Handlers must be idempotent.
 */
export interface StreamConsumer {
  /** Starts consuming in the background (connecting, and again after a failure) until `close`. */
  run(handle: HandleStreamEvents): void;
  /**
   * `failing` while the last batch (or the connection) failed; `lagEvents`: records the
   * group has not committed yet over its topics (high watermark minus committed offsets),
   * as last measured.
   */
  readonly status: { failing: boolean; lagEvents: number };
  close(): Promise<void>;
}

/** A file as the store keeps it: its metadata and its scan's state. */
export interface FileRecord extends FileInfo {
  /** The signature found, for an infected file. */
  signature: string | null;
  /** Scans tried so far (each claim counts one). */
  scanAttempts: number;
  /** When a pending file's next scan is due (a claimed one's lease ends then). */
  nextScanAt: number | null;
  /** When an infected file was quarantined; its bytes are deleted 30 days later. */
  quarantinedAt: number | null;
}

/** What a scan of a file found, or that it must be tried again. */
export type ScanOutcome =
  | { status: "clean"; thumbnails: FileInfo["thumbnails"] }
  | { status: "infected"; signature: string }
  | { status: "failed"; reason: string }
  | { retryAt: number };

/** Files' metadata and scan state (the bytes are in a BlobStore). */
export interface FileStore {
  /** Records a new file (status `uploading`). */
  createFile(file: FileInfo): Promise<void>;
  getFile(fileId: string): Promise<FileRecord | null>;
  /** The files of these ids that exist. */
  getFiles(fileIds: string[]): Promise<FileRecord[]>;
  /**
   * The upload is complete: `uploading` becomes `status` (`pending` to be scanned from
   * `now` on, or `unscanned`). Returns the file, or null when it was not `uploading`.
   */
  completeUpload(fileId: string, status: "pending" | "unscanned", now: number): Promise<FileRecord | null>;
  /**
   * Claims up to `limit` pending files whose scan is due, for `leaseMs`: no other claim
   * takes them until then (so each is scanned by one scanner at a time, cluster-wide).
   */
  claimScans(now: number, leaseMs: number, limit: number): Promise<FileRecord[]>;
  /**
   * Records a scan: final (clean with its thumbnails, infected, which quarantines it and
   * writes the audit log in the same statement, or failed), or a retry at `retryAt`.
   * Returns the file, or null when it is not pending any more.
   */
  recordScan(fileId: string, outcome: ScanOutcome, now: number): Promise<FileRecord | null>;
  /** Whether a message of `channelId` that is not deleted carries the file. */
  isFileShared(fileId: string, channelId: string): Promise<boolean>;
  /** Files quarantined before `cutoff` whose bytes are still kept, for the lifecycle job. */
  quarantinedBefore(cutoff: number, limit: number): Promise<FileRecord[]>;
  /** A quarantined file's bytes are deleted: it is not listed by `quarantinedBefore` again. */
  markPurged(fileId: string): Promise<void>;
  /** Uploads begun before `cutoff` and never completed (abandoned), for the lifecycle job. */
  abandonedUploads(cutoff: number, limit: number): Promise<FileRecord[]>;
  /** Forgets an abandoned upload (only while it is still `uploading`). */
  dropUpload(fileId: string): Promise<void>;
}

/** The buckets files live in (the seed's three). */
export type BlobBucket = "files" | "avatars" | "thumbnails";

/** A URL a client uses directly (an upload's PUT, a download's GET), good until `expiresAt` (ms). */
export interface SignedUrl {
  url: string;
  expiresAt: number;
}

/**
 * Where file bytes live: local disk through Colink's own HTTP server (the embedded default)
 * or S3. Clients upload and download directly with signed URLs; the server reads an object
 * only as a stream (to scan it, to make thumbnails), never whole into memory.
 */
export interface BlobStore {
  /** A URL the client PUTs exactly `size` bytes of `contentType` to. */
  uploadUrl(
    bucket: BlobBucket,
    key: string,
    opts: { contentType: string; size: number; expiresInSec: number },
  ): Promise<SignedUrl>;
  /** A URL the client GETs the object from; `fileName` becomes its Content-Disposition. */
  downloadUrl(
    bucket: BlobBucket,
    key: string,
    opts: { expiresInSec: number; fileName?: string; contentType?: string },
  ): Promise<SignedUrl>;
  /** The object's size, or null when there is none. */
  stat(bucket: BlobBucket, key: string): Promise<{ size: number } | null>;
  /** The object's bytes as a stream; rejects when there is none. */
  read(bucket: BlobBucket, key: string): Promise<AsyncIterable<Uint8Array>>;
  /** Writes an object the server made (a thumbnail). */
  write(bucket: BlobBucket, key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** Removes the object; nothing happens when there is none. */
  remove(bucket: BlobBucket, key: string): Promise<void>;
  close(): Promise<void>;
}

/** An open object's bytes: a Node Readable, which `destroy` closes whether it was read or not. */
export type ObjectBytes = AsyncIterable<Uint8Array> & { destroy(): unknown };

/** What a signed URL allows, or why it allows nothing (the store's answer). */
export type BlobGrant =
  | {
      ok: true;
      op: "put";
      bucket: BlobBucket;
      key: string;
      /** Exactly this many bytes must arrive. */
      size: number;
      /** The request's Content-Type must be this one. */
      contentType: string;
      /** ms since epoch. */
      expiresAt: number;
    }
  | {
      ok: true;
      op: "get";
      bucket: BlobBucket;
      key: string;
      contentType: string | null;
      fileName: string | null;
      expiresAt: number;
    }
  | { ok: false; refusal: "expired" | "bad_signature" | "malformed"; message: string };

/**
 * The local disk's signed URLs, as the HTTP routes that serve them (transport/blob-routes.ts)
 * use the store behind them (the local-disk adapter).
 */
export interface SignedBlobAccess {
  /** What the URL with this method, bucket, key (decoded) and query allows at `now` (ms). */
  verify(method: string, bucket: string, key: string, params: URLSearchParams, now: number): BlobGrant;
  /**
   * Stores exactly `size` bytes of `body` as the object, pulling it only as fast as it can
   * write; rejects with `too_large` as soon as there are more, `bad_request` when fewer.
   */
  receive(bucket: BlobBucket, key: string, size: number, body: AsyncIterable<Uint8Array>): Promise<void>;
  /** The object's size and bytes (destroyed to close the file early), or null when there is none. */
  openObject(bucket: BlobBucket, key: string): Promise<{ size: number; body: ObjectBytes } | null>;
}

/** What a virus scan found. */
export type ScanVerdict = { infected: false } | { infected: true; signature: string };

/** A virus scanner (ClamAV's clamd). It rejects when it cannot tell (down, timed out, too large): the file stays pending. */
export interface Scanner {
  scan(body: AsyncIterable<Uint8Array>): Promise<ScanVerdict>;
  /** Resolves when the scanner answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The small and medium thumbnails of an image, as WebP. */
export interface Thumbnail {
  size: "small" | "medium";
  width: number;
  height: number;
  bytes: Uint8Array;
}

/** Makes thumbnails off the actors' and the gateway's threads (a worker pool). */
export interface Thumbnailer {
  /** Thumbnails of the image, or null when the bytes are not an image it can read. */
  thumbnails(image: Uint8Array): Promise<Thumbnail[] | null>;
  close(): Promise<void>;
}

/**
 * The store: every port above over one database, plus its lifecycle. The composition root
 * opens it; each actor and service is handed only the ports it uses.
 */
export interface Store
  extends ChannelLog,
    MessageHistory,
    ScheduleQueue,
    Directory,
    UserState,
    ShardFencing,
    SharedSecrets,
    LogFeed,
    UserEventLog,
    FileStore,
    SearchIndex,
    AuditLog,
    Accounts,
    FlagStore {
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

/** What an OpenID provider's token endpoint gave. */
export interface ProviderTokens {
  accessToken: string;
  /** When the access token expires, epoch ms. */
  expiresAt: number;
  /** Null when the provider gave none. */
  refreshToken: string | null;
  /** When the refresh token lapses unless used (Keycloak's session idle time), epoch ms; null when the provider does not say. */
  refreshExpiresAt: number | null;
}

/**
 * Sign-in at an OpenID provider (Keycloak), run by Colink's server for the browser: the
 * authorization-code flow with PKCE (S256) of one client, refresh and revocation. Methods
 * throw ColinkError `unauthenticated` when the provider refuses (a code used twice or
 * expired, a wrong verifier, a session that ended) and `unavailable` (retryable) when it
 * cannot be reached or answers something else.
 */
export interface OidcLogin {
  /** Where to send the browser to sign in: the provider's authorization endpoint with this request. */
  authorizationUrl(req: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): string;
  /**
   * Trades an authorization code for tokens, and checks the ID token that comes with them
   * (signature, issuer, audience and `nonce`).
   */
  exchangeCode(req: {
    code: string;
    codeVerifier: string;
    redirectUri: string;
    nonce: string;
  }): Promise<ProviderTokens>;
  /** New tokens for a refresh token. */
  refresh(refreshToken: string): Promise<ProviderTokens>;
  /**
   * Revokes a refresh token (RFC 7009); Keycloak then ends the session it belongs to. Resolves
   * too when the token was not valid any more.
   */
  revoke(refreshToken: string): Promise<void>;
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
 * Where rate limits count: fixed-window counters, `points` events per key per window of
 * `windowSec`, a key's window starting at its first event. Every node using the same
 * store (Redis in a cluster) shares the counts, so a user spread over nodes has one
 * budget. A store that cannot be reached counts in this process meanwhile: a lost store
 * neither lets everyone through unbounded nor refuses everyone. `take` rejects only on a
 * fault of the store's own code, never because the store is away.
 */
export interface RateStore {
  /** The counter of one budget; `name` keeps budgets apart in a shared store. */
  counter(name: string, points: number, windowSec: number): RateCounter;
  close(): Promise<void>;
}

/** One budget's counter (see RateStore). */
export interface RateCounter {
  /**
   * Counts one event of `key`: resolves with 0 when it is within the budget, else with
   * the milliseconds until the key's window ends (a refused event counts too).
   */
  take(key: string): Promise<number>;
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

// ---- The audit log and account administration (issue 23) ----

/** Where an audited request came from, and who made it. */
export interface AuditOrigin {
  /** The user (or `system:…`) who acted. */
  actorId: string;
  /** The client's address; empty for the server's own actions. */
  ip: string;
  /** The request's id (HTTP X-Request-Id, or one made per WebSocket request). */
  requestId: string;
  /** Epoch ms. */
  at: number;
}

/** An entry to append to the audit log: the store adds its id, `prevHash` and `hash`. */
export interface AuditRecord extends AuditOrigin {
  action: AuditAction;
  target: string;
  details: Record<string, unknown>;
}

/** Which entries `listAudit` returns: every given filter must match. */
export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, inclusive. */
  to?: number;
  /** Entries with ids below this one (the previous page's `nextCursor`). */
  before?: string;
  limit: number;
}

/**
 * The tamper-evident audit log: a hash chain in id order. Guarantees: appends are
 * serialised (concurrent writers never fork the chain), an entry is durable when
 * `recordAudit` resolves, and any SQL statement of the store that inserts into the log
 * (in the same transaction as the change it records) is chained the same way.
 */
export interface AuditLog {
  /** Appends an entry; returns it with its id and hashes. */
  recordAudit(entry: AuditRecord): Promise<AuditEntry>;
  /** Entries newest first, at most `limit`, and the cursor of the next page when there may be more. */
  listAudit(filter: AuditFilter): Promise<{ entries: AuditEntry[]; nextCursor?: string }>;
  /** Recomputes the chain from the first entry: ok, or the first entry where it breaks and why. */
  verifyAudit(): Promise<AuditVerdict>;
  /** Entries after id `afterId`, oldest first, at most `limit` (the event stream's relay). */
  readAudit(afterId: number, limit: number): Promise<Array<AuditEntry & { seq: number }>>;
}

/** What the transport must know of a user to let their tokens in: deactivated, and an admin's role. */
export interface AccountState {
  deactivated: boolean;
  /** The role an admin set (role.set), which wins over the token's claim; null when the claim decides. */
  roleFromAdmin: SiteRole | null;
}

/**
 * Account administration: each change writes the user's event (user.updated, for the
 * event stream and the people index) and its audit entry in the same statement.
 */
export interface Accounts {
  /** Deactivates or reactivates a user; null when there is no such user. Audited even when nothing changed. */
  setDeactivated(userId: string, deactivated: boolean, origin: AuditOrigin): Promise<User | null>;
  /** Sets a user's role, which wins over the token's claim from then on; null when there is no such user. */
  setRole(userId: string, role: SiteRole, origin: AuditOrigin): Promise<User | null>;
  /**
   * Users for the admin page, deactivated ones included, by lowercase username: those after
   * `after` (a lowercase username), matched by every word of `q` as search.users matches.
   */
  listAccounts(opts: { q?: string; after?: string; limit: number }): Promise<User[]>;
  /** What the transport checks tokens against; null when the user was never seen. */
  accountOf(userId: string): Promise<AccountState | null>;
}
