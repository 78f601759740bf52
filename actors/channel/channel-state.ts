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
import type {
  ChannelLog,
  ChannelRecord,
  ChannelSnapshot,
  Directory,
  MessageHistory,
  StoredMessage,
  ThreadFollow,
} from "../../core/ports.js";
import { channelTopic, eventFrame, userTopic } from "../../core/protocol.js";
import type {
  Channel,
  ChannelEvent,
  ChannelEventType,
  ChannelRole,
  Member,
  Message,
  MessageVersion,
  Principal,
  Scheduled,
} from "../../core/types.js";
import type { Envelope } from "../envelope.js";
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

/** An op's result; `grant` (for `sub`) is taken out by the actor before replying. */
export type OpResult = Record<string, unknown>;

/** One channel's state. */
export class ChannelState {
  channel: ChannelRecord | null = null;
  members = new Map<string, Member>();
  /** Every event with seq > eventFloor, oldest first (committed or pending). */
  events: WindowEvent[] = [];
  eventFloor = 0;
  /** Every message (top-level and replies) with seq > messageFloor, oldest first. */
  messages: StoredMessage[] = [];
  messageFloor = 0;
  /** Older messages changed during this activation, so store reads can be overlaid. */
  touched = new Map<string, StoredMessage>();
  keys = new Map<string, string>();
  /** Explicit thread follows loaded so far, by root id. */
  follows = new Map<string, Map<string, boolean>>();
  /** Previous versions loaded so far (and added since), by message id. */
  versions = new Map<string, MessageVersion[]>();
  /** Pending scheduled messages, by id. */
  schedules = new Map<string, Scheduled>();
  /** Last typing event per user, for the rate limit. */
  typingAt = new Map<string, number>();
  /** Members known to be online (large channels show a count instead of per-user presence). */
  online = new Set<string>();
  /** A `presence.count` publish is scheduled. */
  presenceCountPending = false;
  /** Until then the event window may hold up to the replay limit (see extendEventWindow). */
  extendedUntil = 0;
  /** The batch the running op writes into; the actor swaps it at each flush. */
  batch = new ChannelBatch();

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

  /** May `userId` (who is not the caller) still read this channel? For notifications. */
  canUserRead(userId: string): boolean {
    return this.members.has(userId) || this.channel?.kind === "public";
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
    this.batch.appendEvent(event, frame);
    this.events.push({ seq: event.seq, frame });
    return frame;
  }

  /** Publishes an event on a user's personal topic after the batch commits. */
  notifyUser(userId: string, type: string, data: Record<string, unknown>): void {
    this.batch.notify(userTopic(userId), eventFrame(userTopic(userId), type, data));
  }

  /** Adds or changes a member, with a `member.joined` event. */
  setMember(userId: string, role: ChannelRole, by: string | null): Member {
    // Messages from before joining are not unread for the newcomer.
    const member: Member = { userId, role, joinedAt: this.deps.now() };
    this.members.set(userId, member);
    if (this.deps.isOnline?.(userId)) this.online.add(userId);
    this.batch.upsertMember({ ...member, lastReadSeq: this.channel!.lastSeq });
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
    this.batch.removeMember(userId);
    this.append("member.left", by ? { userId, reason, by } : { userId, reason });
    if (this.channel!.kind !== "public" || revokeAnyway) this.batch.outputs.push({ kind: "revoke", userId });
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
    this.batch.createMessage(message);
    this.messages.push(message);
    this.keys.set(sendKey(message.authorId, message.clientMsgId), message.id);
  }

  /** Replaces a message's state in memory and in the batch. */
  replaceMessage(message: StoredMessage): void {
    const i = this.messages.findIndex((m) => m.id === message.id);
    if (i >= 0) this.messages[i] = message;
    else this.touched.set(message.id, message);
    this.batch.changeMessage(message);
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
    this.batch.follow({ rootId, userId, following });
  }

  // ---- upkeep -------------------------------------------------------------------

  /**
   * Puts older events (read from the store for a replay) in front of the window, which
   * then keeps up to COLINK_REPLAY_LIMIT events for a while.
   */
  extendEventWindow(older: Array<{ seq: number; frame: Uint8Array }>): void {
    this.events = [...older, ...this.events];
    this.eventFloor = older[0]!.seq - 1;
    this.extendedUntil = this.deps.now() + extendedWindowMs;
  }

  /** Drops the oldest committed entries beyond the window sizes, `trimStep` or more at a time. */
  trimWindows(): void {
    const pendingFrom = this.batch.events[0]?.seq ?? Number.POSITIVE_INFINITY;
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
