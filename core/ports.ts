/**
 * The ports: what the actors need from the outside world. Each port has an embedded
 * implementation and a production one, and one shared contract suite that both run.
 */
import type {
  Channel,
  ChannelEvent,
  ChannelKind,
  ChannelRole,
  Member,
  Message,
  Principal,
  SiteRole,
  User,
} from "./types.js";

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

/** What a ChannelActor loads once, on activation. */
export interface ChannelSnapshot {
  channel: ChannelRecord;
  members: Member[];
  /** The newest events, oldest first (at most the number asked for). */
  recentEvents: ChannelEvent[];
  /** Idempotency keys of the newest messages (at most the number asked for), with their ids. */
  recentKeys: Array<SendKey & { messageId: string }>;
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
  newMessages: Message[];
  /** Messages that existed before this batch, in their new state. */
  changedMessages: Message[];
  /** Members added or changed. */
  upsertMembers: Member[];
  /** User ids of members removed. */
  removedMembers: string[];
}

/** Thrown by `commit` when a new message repeats a stored idempotency key. Nothing was written. */
export class DuplicateSendError extends Error {
  constructor(readonly keys: Array<SendKey & { channelId: string }>) {
    super(`duplicate clientMsgId in ${keys.length} send(s)`);
    this.name = "DuplicateSendError";
  }
}

/** Thrown by `commit` when an event's (channel_id, seq) exists already: a stale writer. Nothing was written. */
export class SeqConflictError extends Error {
  constructor(readonly channelIds: string[]) {
    super(`log position already taken in ${channelIds.join(", ")}`);
    this.name = "SeqConflictError";
  }
}

/** Options of a message page. */
export interface MessagePage {
  /** Only messages with seq below this. */
  beforeSeq?: number;
  /** Only messages with seq above this. */
  afterSeq?: number;
  /** Most messages to return. */
  limit: number;
}

/**
 * The channel log and the state derived from it. Guarantees: `commit` is atomic across
 * all the writes given (all or nothing) and durable when it resolves; reads see only
 * committed data.
 */
export interface ChannelLog {
  /** Loads a channel for activation, or null when it does not exist. */
  loadChannel(
    channelId: string,
    opts: { recentEvents: number; recentKeys: number },
  ): Promise<ChannelSnapshot | null>;
  /** Applies many channels' writes in one transaction. Throws DuplicateSendError or SeqConflictError. */
  commit(writes: ChannelWrite[]): Promise<void>;
  /** Events with seq > afterSeq, ascending, at most `limit`. */
  readEvents(channelId: string, afterSeq: number, limit: number): Promise<ChannelEvent[]>;
  /**
   * Messages in seq order, ascending. With `beforeSeq` (or neither bound) the newest
   * ones below it; with only `afterSeq`, the oldest ones above it.
   */
  readMessages(channelId: string, page: MessagePage): Promise<Message[]>;
  /** One message of this channel, or null. */
  getMessage(channelId: string, messageId: string): Promise<Message | null>;
  /** The stored messages that hold these idempotency keys. */
  findSends(channelId: string, keys: SendKey[]): Promise<Message[]>;
}

/** A user's view of a channel in a listing. */
export interface ChannelListing extends Channel {
  /** The caller's role, or null when the caller is not a member (public channels). */
  myRole: ChannelRole | null;
}

/** Users and cross-channel listings. */
export interface Directory {
  /** Creates the user, or updates username, display name and role from fresh claims. */
  upsertUser(user: { id: string; username: string; displayName: string; role: SiteRole }): Promise<User>;
  /** One user, or null. */
  getUser(userId: string): Promise<User | null>;
  /** The id of the channel that holds a message, or null. Access is checked by that channel. */
  locateMessage(messageId: string): Promise<string | null>;
  /** The channels the user belongs to, and with `includePublic` every public channel too. */
  listChannels(
    userId: string,
    opts: { includePublic: boolean; includeArchived: boolean },
  ): Promise<ChannelListing[]>;
}

/** The store: the channel log and the directory over one database, plus its lifecycle. */
export interface Store extends ChannelLog, Directory {
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
  /** Validates a dev username and returns a token for it and who it names. Throws `bad_request`. */
  login(username: unknown): Promise<{ accessToken: string; principal: Principal }>;
  /** The issuer's public keys (JWKS). */
  jwks(): { keys: unknown[] };
}
