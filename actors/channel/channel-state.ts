/**
 * The in-memory state of one channel actor and the helpers every channel op shares:
 * access checks, appending to the log, finding and replacing messages, and reading
 * pages that span the in-memory windows and the store. Ops (the `*-ops.ts` files) are
 * functions over this state; the actor (`channel-actor.ts`) runs them one at a time.
 */
import * as rules from "../../core/channel-rules.js";
import type { Limits } from "../../core/config.js";
import { fail } from "../../core/errors.js";
import { viewOf } from "../../core/message-rules.js";
import type { OpName, ResultOf } from "../../core/ops.js";
import type {
  AuditRecord,
  ChannelLog,
  ChannelRecord,
  ChannelSnapshot,
  ChannelWrite,
  Directory,
  FlagStore,
  MessageHistory,
  ReactionRow,
  RemovedOriginal,
  StoredMessage,
  ThreadFollow,
} from "../../core/ports.js";
import { channelTopic, eventFrame, userTopic } from "../../core/protocol.js";
import type {
  Channel,
  ChannelEvent,
  ChannelEventType,
  ChannelRole,
  Flag,
  Member,
  Message,
  MessageVersion,
  Principal,
  Scheduled,
} from "../../core/types.js";
import type { Envelope, Grant, InternalOp, OpHandler, RequestOrigin, ResultFor } from "../envelope.js";
import type { FileAccess } from "../file-uploads.js";
import { ChannelBatch } from "./channel-batch.js";

/** What a channel's ops need from the actor's host. */
export interface ChannelDeps {
  /** The channel's log, read to activate, resume and find earlier sends; writes go through the group committer. */
  log: Omit<ChannelLog, "commit">;
  /** Messages beyond the in-memory windows. */
  history: MessageHistory;
  /** Who the users named in members' changes and mentions are. */
  directory: Pick<Directory, "getUser" | "getUsersByUsername">;
  limits: Pick<
    Limits,
    | "maxMessageChars"
    | "replayLimit"
    | "mailboxCapacity"
    | "maxBatchRequests"
    | "maxDistinctReactions"
    | "maxPins"
  >;
  now: () => number;
  /** Sends an envelope to another actor (presence counts, scheduled deliveries to itself). */
  route?: (env: Envelope & { actor: "channel" | "user" }) => void;
  /** Whether a user is online now, as this thread knows it (seeds the online count). */
  isOnline?: (userId: string) => boolean;
  /** Files' metadata, bytes and policy; absent where files are not offered (some unit tests). */
  files?: FileAccess;
  /** The channel's flags as committed (moderation); absent where it is not offered (some unit tests). */
  flags?: Pick<FlagStore, "getFlag" | "openFlagsOf">;
}

/** Events kept in memory for resume; older ones are read from the store. */
export const eventWindowSize = 512;
/** Messages kept in memory for history; older ones are read from the store. */
export const messageWindowSize = 200;
/** How long an event window extended by a replay read keeps the extra events. */
const extendedWindowMs = 60_000;
/**
 * Idempotency keys kept in memory (and loaded with the channel); older keys are still
 * enforced by the store, at the cost of a read when a very late retry comes. (It was
 * 20,000: with a few dozen busy channels that was over a million long-lived entries, and
 * the old generation they kept growing made V8's marking steps pause the thread for
 * tens of milliseconds.)
 */
export const keyCacheSize = 1000;
/**
 * Windows are trimmed once they are this many entries over their size, not after every
 * commit: a trim moves the whole window down (splice from the front), and doing that per
 * commit of a busy channel cost more than the rest of keeping the windows.
 */
const trimStep = 64;

/** Entries to drop from a window of `length` kept at `size`: none until it is `trimStep` over. */
function trimmable(length: number, size: number): number {
  return length - size >= trimStep ? length - size : 0;
}

interface WindowEvent {
  seq: number;
  frame: Uint8Array;
}

/** The map key of an idempotency key. */
export const sendKey = (authorId: string, clientMsgId: string) => `${authorId}\u0000${clientMsgId}`;

/**
 * What an op hands back: its reply's result and, for `sub`, the subscription it grants. Its
 * events went into the open batch (`append`), which the actor releases after commit.
 */
export interface Handled<R = Record<string, unknown>> {
  result: R;
  grant?: Grant;
}

/** What the handler of channel op `O` hands back. */
export type Reply<O extends OpName> = Handled<ResultOf<O>>;

/** The handler of channel op `O`: typed by its arguments, returning its result (and grant). */
export type ChannelHandler<O extends OpName | InternalOp> = OpHandler<ChannelState, O, Handled<ResultFor<O>>>;

/** One channel's state. Ops change it through its methods, never its fields. */
export class ChannelState {
  private channel: ChannelRecord | null = null;
  private members = new Map<string, Member>();
  /** Every event with seq > eventFloor, oldest first (committed or pending). */
  private events: WindowEvent[] = [];
  private eventFloor = 0;
  /** Every message (top-level and replies) with seq > messageFloor, oldest first. */
  private messages: StoredMessage[] = [];
  private messageFloor = 0;
  /** Older messages changed during this activation, so store reads can be overlaid. */
  private readonly touched = new Map<string, StoredMessage>();
  private keys = new Map<string, string>();
  /** Explicit thread follows loaded so far, by root id. */
  private readonly follows = new Map<string, Map<string, boolean>>();
  /** Previous versions loaded so far (and added since), by message id. */
  private readonly versions = new Map<string, MessageVersion[]>();
  /** Pending scheduled messages, by id. */
  private schedules = new Map<string, Scheduled>();
  /** Last typing event per user, for the rate limit. */
  private readonly typingAt = new Map<string, number>();
  /** Members known to be online (large channels show a count instead of per-user presence). */
  private online = new Set<string>();
  /** A `presence.count` publish is scheduled. */
  private presenceCountPending = false;
  /** Until then the event window may hold up to the replay limit (see extendEventWindow). */
  private extendedUntil = 0;
  /** The batch the running op writes into; the actor swaps it at each flush. */
  private openBatch = new ChannelBatch();
  /** Flags read or written during this activation, by id (this actor is their one writer). */
  private readonly flags = new Map<string, Flag>();
  /** Where the request being handled came from, when its op is audited (set by the actor). */
  origin: RequestOrigin | undefined = undefined;

  constructor(
    readonly id: string,
    readonly deps: ChannelDeps,
  ) {}

  /** Loads a snapshot (null: the channel does not exist yet). */
  load(snap: ChannelSnapshot | null, recent: StoredMessage[]): void {
    this.channel = snap?.channel ?? null;
    this.members = new Map(
      (snap?.members ?? []).map((m) => [m.userId, { userId: m.userId, role: m.role, joinedAt: m.joinedAt }]),
    );
    this.events = (snap?.recentEvents ?? []).map((e) => ({ seq: e.seq, frame: this.frameOf(e) }));
    this.eventFloor = this.events.length > 0 ? this.events[0]!.seq - 1 : (snap?.channel.lastSeq ?? 0);
    this.keys = new Map(
      (snap?.recentKeys ?? []).map((k) => [sendKey(k.authorId, k.clientMsgId), k.messageId]),
    );
    this.messages = recent;
    this.messageFloor = recent.length < messageWindowSize ? 0 : recent[0]!.seq - 1;
    this.schedules = new Map((snap?.pendingSchedules ?? []).map((s) => [s.id, s]));
    const isOnline = this.deps.isOnline;
    this.online = new Set(isOnline ? [...this.members.keys()].filter((u) => isOnline(u)) : []);
    this.extendedUntil = 0;
    this.touched.clear();
    this.follows.clear();
    this.versions.clear();
    this.flags.clear();
  }

  /** The batch the running op writes into. */
  get batch(): ChannelBatch {
    return this.openBatch;
  }

  /** Hands the open batch over (to commit, or to drop after a failed commit) and opens a new one. */
  takeBatch(): ChannelBatch {
    const batch = this.openBatch;
    this.openBatch = new ChannelBatch();
    return batch;
  }

  /** The store's form of `batch`, with the channel's record as it is now. */
  writeOf(batch: ChannelBatch): ChannelWrite {
    return batch.toWrite(this.channel!);
  }

  /**
   * After a duplicate send: the sends the store already holds, so that handling their
   * requests again answers with these originals.
   */
  knowSends(originals: StoredMessage[]): void {
    for (const m of originals) this.keys.set(sendKey(m.authorId, m.clientMsgId), m.id);
    for (const m of originals) if (m.seq <= this.messageFloor) this.touched.set(m.id, m);
  }

  // ---- the channel and its members ---------------------------------------------

  /** True when the channel exists (was created or loaded). */
  get exists(): boolean {
    return this.channel !== null;
  }

  /** The seq of the channel's last event. */
  get lastSeq(): number {
    return this.channel!.lastSeq;
  }

  /** Creates the channel, with its `channel.created` event. */
  create(fields: Pick<ChannelRecord, "name" | "kind" | "topic" | "createdBy">): void {
    const { name, kind, topic, createdBy } = fields;
    const channel = {
      id: this.id,
      name,
      kind,
      topic,
      createdBy,
      createdAt: this.deps.now(),
      archived: false,
    };
    this.channel = { ...channel, lastSeq: 0 };
    this.append("channel.created", { channel: { ...channel, lastSeq: 1, memberCount: 0 } });
  }

  /** Renames, retopics or archives the channel, with a `channel.updated` event. */
  change(patch: Partial<Pick<ChannelRecord, "name" | "topic" | "archived">>): void {
    Object.assign(this.channel!, patch);
    const seq = this.channel!.lastSeq + 1;
    this.append("channel.updated", { channel: { ...this.view(), lastSeq: seq } });
  }

  /** A member, or undefined. */
  member(userId: string): Member | undefined {
    return this.members.get(userId);
  }

  /** True when `userId` is a member. */
  isMember(userId: string): boolean {
    return this.members.has(userId);
  }

  /** The members' user ids. */
  memberIds(): IterableIterator<string> {
    return this.members.keys();
  }

  /** Every member. */
  memberList(): Member[] {
    return [...this.members.values()];
  }

  /** How many members the channel has. */
  get memberCount(): number {
    return this.members.size;
  }

  // ---- access ----------------------------------------------------------------

  /** The caller's standing; `not_found` when the channel does not exist. */
  standing(p: Principal): rules.Standing {
    if (!this.channel) throw fail.notFound("channel");
    return { channel: this.channel, role: this.members.get(p.userId)?.role ?? null, principal: p };
  }

  /** The caller's standing if they may read; a private channel is `not_found` to outsiders. */
  readable(p: Principal): rules.Standing {
    const s = this.standing(p);
    if (!rules.canRead(s)) throw fail.notFound("channel");
    return s;
  }

  /** The caller's standing if they may post. */
  postable(p: Principal): rules.Standing {
    const s = this.readable(p);
    if (s.channel.archived) throw fail.forbidden("channel is archived");
    if (!rules.canPost(s)) throw fail.forbidden("join the channel to post");
    return s;
  }

  /**
   * May `userId` (who is not the caller) still read this channel? For notifications. A
   * non-member reads a public channel unless a guest (a guest who left keeps their follows),
   * and only the directory knows a non-member's site role.
   */
  async canUserRead(userId: string): Promise<boolean> {
    const channel = this.channel;
    if (!channel) return false;
    if (this.members.has(userId)) return true;
    if (channel.kind !== "public") return false;
    const user = await this.deps.directory.getUser(userId);
    if (!user) return false;
    const principal = { userId, username: user.username, displayName: user.displayName, role: user.role };
    return rules.canRead({ channel, role: null, principal });
  }

  /** The channel as clients see it. */
  view(): Channel {
    return { ...this.channel!, memberCount: this.members.size };
  }

  // ---- log -------------------------------------------------------------------

  /** The event frame of a log entry. */
  frameOf(e: ChannelEvent): Uint8Array {
    return eventFrame(channelTopic(this.id), e.type, { seq: e.seq, ...e.data });
  }

  /** Appends an event with the next seq to the batch and the window; returns its frame. */
  append(type: ChannelEventType, data: Record<string, unknown>): Uint8Array {
    const channel = this.channel!;
    const event: ChannelEvent = {
      channelId: this.id,
      seq: channel.lastSeq + 1,
      type,
      data,
      at: this.deps.now(),
    };
    channel.lastSeq = event.seq;
    const frame = this.frameOf(event);
    this.openBatch.appendEvent(event, frame);
    this.events.push({ seq: event.seq, frame });
    return frame;
  }

  /** Publishes a live event (not in the log) on the channel's topic after the batch commits. */
  announce(type: string, data: Record<string, unknown>): void {
    this.openBatch.notify(channelTopic(this.id), eventFrame(channelTopic(this.id), type, data));
  }

  /** Publishes an event on a user's personal topic after the batch commits. */
  notifyUser(userId: string, type: string, data: Record<string, unknown>): void {
    this.openBatch.notify(userTopic(userId), eventFrame(userTopic(userId), type, data));
  }

  /** Adds or changes a member, with a `member.joined` event. */
  setMember(userId: string, role: ChannelRole, by: string | null): Member {
    // Messages from before joining are not unread for the newcomer.
    const member: Member = { userId, role, joinedAt: this.deps.now() };
    this.members.set(userId, member);
    if (this.deps.isOnline?.(userId)) this.online.add(userId);
    this.openBatch.upsertMember({ ...member, lastReadSeq: this.channel!.lastSeq });
    this.append("member.joined", by ? { userId, role, by } : { userId, role });
    return member;
  }

  /**
   * Removes a member, with a `member.left` event. Losing membership of a non-public channel
   * loses the live stream; so does a guest's (guests read only their own channels) and a
   * kicked member's (`revokeAnyway`).
   */
  dropMember(userId: string, reason: "left" | "kicked", by: string | null, revokeAnyway: boolean): void {
    this.members.delete(userId);
    this.online.delete(userId);
    this.openBatch.removeMember(userId);
    this.append("member.left", by ? { userId, reason, by } : { userId, reason });
    if (this.channel!.kind !== "public" || revokeAnyway)
      this.openBatch.outputs.push({ kind: "revoke", userId });
  }

  // ---- messages ----------------------------------------------------------------

  /** A message of this channel, from memory or the store. */
  async findMessage(id: string): Promise<StoredMessage | null> {
    const inMemory = this.messages.find((m) => m.id === id) ?? this.touched.get(id);
    if (inMemory) return inMemory;
    const stored = await this.deps.history.getMessage(this.id, id);
    // A change made while the read was running wins over what was read.
    return this.messages.find((m) => m.id === id) ?? this.touched.get(id) ?? stored;
  }

  /** A message that exists and is not deleted, or `not_found`. */
  async liveMessage(id: string): Promise<StoredMessage> {
    const m = await this.findMessage(id);
    if (!m || m.deletedAt !== null) throw fail.notFound("message");
    return m;
  }

  /** Records a new message in the window and the batch. */
  addMessage(message: StoredMessage): void {
    this.openBatch.createMessage(message);
    this.messages.push(message);
    this.keys.set(sendKey(message.authorId, message.clientMsgId), message.id);
  }

  /** Replaces a message's state in memory and in the batch. */
  replaceMessage(message: StoredMessage): void {
    const i = this.messages.findIndex((m) => m.id === message.id);
    if (i >= 0) this.messages[i] = message;
    else this.touched.set(message.id, message);
    this.openBatch.changeMessage(message);
  }

  /** The id of the message `authorId` sent with `clientMsgId`, if this channel knows it. */
  sentMessageId(authorId: string, clientMsgId: string): string | undefined {
    return this.keys.get(sendKey(authorId, clientMsgId));
  }

  /** Previous versions of a message, loaded once per activation. */
  async versionsOf(messageId: string): Promise<MessageVersion[]> {
    let v = this.versions.get(messageId);
    if (!v) {
      const stored = await this.deps.history.readVersions(this.id, messageId);
      v = this.versions.get(messageId) ?? stored;
      this.versions.set(messageId, v);
    }
    return v;
  }

  /** Records the text an edit replaced. */
  addVersion(version: MessageVersion): void {
    this.versions.get(version.messageId)?.push(version);
    this.openBatch.addVersion(version);
  }

  /** Records a reaction row added or removed. */
  recordReaction(row: ReactionRow, added: boolean): void {
    this.openBatch.react(row, added);
  }

  /** The pinned messages, newest pin first: the store's, overlaid with changes in memory. */
  async pinned(): Promise<StoredMessage[]> {
    const stored = await this.deps.history.listPinned(this.id, this.deps.limits.maxPins + 1);
    const byId = new Map(stored.map((m) => [m.id, m]));
    for (const m of [...this.touched.values(), ...this.messages]) {
      if (m.pinnedAt !== null || byId.has(m.id)) byId.set(m.id, m);
    }
    return [...byId.values()].filter((m) => m.pinnedAt !== null).sort((x, y) => y.pinnedAt! - x.pinnedAt!);
  }

  /** Refuses text over the limit, empty text. */
  checkText(text: string): void {
    const limit = this.deps.limits.maxMessageChars;
    if (text.length > limit && [...text].length > limit) {
      throw fail.tooLarge(`message text is longer than ${limit} characters`);
    }
    if (text.trim().length === 0) throw fail.badRequest("message text is empty");
  }

  /** A message as the caller sees it. */
  viewFor(p: Principal | null, m: StoredMessage): Message {
    return viewOf(m, p?.userId ?? null);
  }

  /**
   * A page of messages (top-level, or one thread's replies), ascending by seq, spanning
   * the in-memory window and, for older ones, the store. With `beforeSeq` or no bound:
   * the newest below it; with only `afterSeq`: the oldest above it.
   */
  async page(opts: {
    thread?: string;
    beforeSeq?: number;
    afterSeq?: number;
    limit: number;
  }): Promise<{ messages: StoredMessage[]; hasMore: boolean }> {
    const { limit, thread } = opts;
    const after = opts.afterSeq ?? 0;
    const before = opts.beforeSeq ?? Number.POSITIVE_INFINITY;
    const oldestFirst = opts.afterSeq !== undefined && opts.beforeSeq === undefined;
    const wanted = (m: StoredMessage) =>
      m.seq > after &&
      m.seq < before &&
      (thread === undefined ? m.threadRootId === null : m.threadRootId === thread);
    const fromWindow = this.messages.filter(wanted);
    let merged: StoredMessage[];
    if (after >= this.messageFloor || (!oldestFirst && fromWindow.length > limit)) {
      merged = fromWindow;
    } else {
      // Older messages are committed: read them, then overlay changes made in memory.
      const upper = Math.min(before, this.messageFloor + 1);
      const threadOpt = thread === undefined ? {} : { thread };
      // One bound per read: with both, the store returns the newest between them.
      const stored = oldestFirst
        ? (
            await this.deps.history.readMessages(this.id, { afterSeq: after, limit: limit + 1, ...threadOpt })
          ).filter((m) => m.seq < upper)
        : (
            await this.deps.history.readMessages(this.id, {
              beforeSeq: upper,
              limit: limit + 1 - fromWindow.length,
              ...threadOpt,
            })
          ).filter((m) => m.seq > after);
      merged = [...stored.map((m) => this.touched.get(m.id) ?? m), ...this.messages.filter(wanted)];
    }
    if (oldestFirst) return { messages: merged.slice(0, limit), hasMore: merged.length > limit };
    return { messages: merged.slice(-limit), hasMore: merged.length > limit };
  }

  // ---- threads -----------------------------------------------------------------

  /** Explicit follow rows of a thread, loaded once per activation. */
  async followsOf(rootId: string): Promise<Map<string, boolean>> {
    let f = this.follows.get(rootId);
    if (!f) {
      const rows: ThreadFollow[] = await this.deps.history.threadFollows(this.id, rootId);
      // Another op may have loaded it while this read ran.
      f = this.follows.get(rootId) ?? new Map(rows.map((r) => [r.userId, r.following]));
      this.follows.set(rootId, f);
    }
    return f;
  }

  /** Records a follow or unfollow. */
  setFollow(rootId: string, userId: string, following: boolean, follows: Map<string, boolean>): void {
    follows.set(userId, following);
    this.openBatch.follow({ rootId, userId, following });
  }

  // ---- scheduled messages ---------------------------------------------------------

  /** The pending scheduled messages. */
  pendingSchedules(): IterableIterator<Scheduled> {
    return this.schedules.values();
  }

  /** A pending scheduled message, or undefined. */
  findSchedule(id: string): Scheduled | undefined {
    return this.schedules.get(id);
  }

  /** True when the channel has scheduled messages waiting. */
  get hasSchedules(): boolean {
    return this.schedules.size > 0;
  }

  /** Adds a pending scheduled message. */
  addSchedule(s: Scheduled): void {
    this.schedules.set(s.id, s);
    this.openBatch.schedule(s);
  }

  /** Takes a scheduled message out of the pending set (its new state is recorded with `recordSchedule`). */
  dropSchedule(id: string): void {
    this.schedules.delete(id);
  }

  /** Records a scheduled message's new state (sent, cancelled). */
  recordSchedule(s: Scheduled): void {
    this.openBatch.schedule(s);
  }

  // ---- flags (moderation) ------------------------------------------------------------

  private flagStore(): Pick<FlagStore, "getFlag" | "openFlagsOf"> {
    if (!this.deps.flags) throw fail.unavailable("moderation is not offered here");
    return this.deps.flags;
  }

  /** A flag of this channel, from memory or the store. */
  async findFlag(flagId: string): Promise<Flag | null> {
    const known = this.flags.get(flagId);
    if (known) return known;
    const stored = await this.flagStore().getFlag(this.id, flagId);
    // A change made while the read was running wins over what was read.
    const current = this.flags.get(flagId) ?? stored;
    if (current) this.flags.set(flagId, current);
    return current;
  }

  /**
   * The open flags of a message, oldest first: the store's, with what this activation
   * wrote over them (created or resolved, committed or still in the batch).
   */
  async openFlagsOf(messageId: string): Promise<Flag[]> {
    const stored = await this.flagStore().openFlagsOf(this.id, messageId);
    for (const f of stored) if (!this.flags.has(f.id)) this.flags.set(f.id, f);
    return [...this.flags.values()]
      .filter((f) => f.messageId === messageId && f.status === "open")
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Records a flag created or resolved, in memory and in the batch. */
  saveFlag(flag: Flag): void {
    this.flags.set(flag.id, flag);
    this.openBatch.flag(flag);
  }

  /** Appends an audit entry by `actorId` with the batch, from the request's origin. */
  audit(
    actorId: string,
    action: AuditRecord["action"],
    target: string,
    details: Record<string, unknown>,
  ): void {
    this.openBatch.addAudit({
      actorId,
      action,
      target,
      details,
      at: this.deps.now(),
      ip: this.origin?.ip ?? "",
      requestId: this.origin?.requestId ?? "",
    });
  }

  /** Keeps the original of a message a moderator removed (written with the batch). */
  keepOriginal(r: RemovedOriginal): void {
    this.openBatch.keepOriginal(r);
  }

  // ---- live delivery ---------------------------------------------------------------

  /** Frames of every event after `since`, from the window and, for older ones, the store. */
  async replayAfter(since: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    const older: Array<{ seq: number; frame: Uint8Array }> = [];
    let next = since + 1;
    while (next <= this.eventFloor) {
      const stored = await this.deps.log.readEvents(this.id, next - 1, this.eventFloor - next + 1);
      if (stored.length === 0 || stored[0]!.seq !== next)
        throw fail.unavailable("channel log is being rewritten");
      for (const e of stored) {
        if (e.seq !== next) break;
        const frame = this.frameOf(e);
        out.push(frame);
        older.push({ seq: e.seq, frame });
        next++;
      }
    }
    // Keep what was read: after an outage many clients resume from about the same seq,
    // and each would otherwise read the store again while holding up the channel's queue.
    if (older.length > 0 && older.at(-1)!.seq === this.eventFloor) this.extendEventWindow(older);
    for (const e of this.events) {
      if (e.seq < next) continue;
      out.push(e.frame);
      next++;
    }
    return out;
  }

  /**
   * Records that `userId` is typing at `now`; false (absorbed) when they were less than
   * `intervalMs` ago. Once many are recorded, those older than `ttlMs` are forgotten.
   */
  markTyping(userId: string, now: number, intervalMs: number, ttlMs: number): boolean {
    const last = this.typingAt.get(userId) ?? 0;
    if (now - last < intervalMs) return false;
    this.typingAt.set(userId, now);
    if (this.typingAt.size > 1000) {
      for (const [u, t] of this.typingAt) if (now - t > ttlMs) this.typingAt.delete(u);
    }
    return true;
  }

  /**
   * Marks a member online or offline. True when the count of members online changed and
   * no `presence.count` publish was pending: one is then (see `takePresenceCount`).
   */
  setOnline(userId: string, online: boolean): boolean {
    const had = this.online.size;
    if (online) this.online.add(userId);
    else this.online.delete(userId);
    if (this.online.size === had || this.presenceCountPending) return false;
    this.presenceCountPending = true;
    return true;
  }

  /** The counts the pending `presence.count` publishes; it is no longer pending. */
  takePresenceCount(): { online: number; members: number } {
    this.presenceCountPending = false;
    return { online: this.online.size, members: this.members.size };
  }

  // ---- upkeep -------------------------------------------------------------------

  /**
   * Puts older events (read from the store for a replay) in front of the window, which
   * then keeps up to COLINK_REPLAY_LIMIT events for a while.
   */
  private extendEventWindow(older: Array<{ seq: number; frame: Uint8Array }>): void {
    this.events = [...older, ...this.events];
    this.eventFloor = older[0]!.seq - 1;
    this.extendedUntil = this.deps.now() + extendedWindowMs;
  }

  /** Drops the oldest committed entries beyond the window sizes, `trimStep` or more at a time. */
  trimWindows(): void {
    const pendingFrom = this.openBatch.events[0]?.seq ?? Number.POSITIVE_INFINITY;
    const eventCap =
      this.deps.now() < this.extendedUntil
        ? Math.max(eventWindowSize, this.deps.limits.replayLimit)
        : eventWindowSize;
    let dropEvents = trimmable(this.events.length, eventCap);
    while (dropEvents > 0 && this.events[dropEvents - 1]!.seq >= pendingFrom) dropEvents--;
    if (dropEvents > 0) this.eventFloor = this.events.splice(0, dropEvents).at(-1)!.seq;
    let dropMessages = trimmable(this.messages.length, messageWindowSize);
    while (dropMessages > 0 && this.messages[dropMessages - 1]!.seq >= pendingFrom) dropMessages--;
    if (dropMessages > 0) this.messageFloor = this.messages.splice(0, dropMessages).at(-1)!.seq;
    if (this.keys.size > keyCacheSize) {
      const excess = this.keys.size - keyCacheSize;
      let i = 0;
      for (const k of this.keys.keys()) {
        if (i++ >= excess) break;
        this.keys.delete(k);
      }
    }
  }
}
