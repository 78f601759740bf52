/**
 * ChannelActor: the one writer of a channel (invariant 1). It owns the channel's
 * `lastSeq`, members and roles, a recent window of events and messages, and the
 * idempotency keys of recent sends. It handles one request at a time; the durable
 * changes of the requests handled while a commit runs form the next batch (group
 * commit), and every reply and event of a batch leaves only after that batch commits.
 */
import * as rules from "../core/channel-rules.js";
import { ColinkError, errorBodyOf, fail } from "../core/errors.js";
import { IdPrefix, newId } from "../core/ids.js";
import type { ArgsOf } from "../core/ops.js";
import {
  type ChannelLog,
  type ChannelRecord,
  type Directory,
  DuplicateSendError,
  SeqConflictError,
} from "../core/ports.js";
import { channelTopic, eventFrame } from "../core/protocol.js";
import type {
  Channel,
  ChannelEvent,
  ChannelEventType,
  ChannelRole,
  Member,
  Message,
  Principal,
} from "../core/types.js";
import { ChannelBatch } from "./channel-batch.js";
import type { Envelope, Grant, Outcome, Outlet } from "./envelope.js";
import type { GroupCommitter } from "./runtime/group-commit.js";

/** Lifecycle of a channel actor. */
export const ChannelActorState = {
  /** Not loaded; the next request loads it. */
  inactive: "inactive",
  /** State loaded; handling requests. */
  active: "active",
  /** A commit failed; the state is being reloaded before anything else is handled. */
  resetting: "resetting",
} as const;
type ChannelActorState = (typeof ChannelActorState)[keyof typeof ChannelActorState];

/** What a channel actor needs from its host. */
export interface ChannelActorDeps {
  log: ChannelLog;
  directory: Directory;
  committer: GroupCommitter;
  outlet: Outlet;
  limits: { maxMessageChars: number; replayLimit: number; mailboxCapacity: number; maxBatchRequests: number };
  now: () => number;
}

/** Events kept in memory for resume; older ones are read from the store. */
const eventWindowSize = 512;
/** Messages kept in memory for history; older ones are read from the store. */
const messageWindowSize = 200;
/** Idempotency keys kept in memory; older keys are still enforced by the store. */
const keyCacheSize = 20_000;

interface WindowEvent {
  seq: number;
  frame: Uint8Array;
}

const sendKey = (authorId: string, clientMsgId: string) => `${authorId}\u0000${clientMsgId}`;

/** One channel's actor. */
export class ChannelActor {
  private state: ChannelActorState = ChannelActorState.inactive;
  private channel: ChannelRecord | null = null;
  private members = new Map<string, Member>();
  /** Every event with seq > eventFloor, oldest first (committed or in a pending batch). */
  private events: WindowEvent[] = [];
  private eventFloor = 0;
  /** Every message with seq > messageFloor, oldest first. */
  private messages: Message[] = [];
  private messageFloor = 0;
  /** Older messages changed during this activation, so store reads can be overlaid. */
  private touched = new Map<string, Message>();
  private keys = new Map<string, string>();
  private readonly queue: Envelope[] = [];
  private processing = false;
  private open = new ChannelBatch();
  private inFlight: ChannelBatch | null = null;
  private failure: unknown = null;
  /** Time of the last request, for passivation. */
  lastActive = 0;

  constructor(
    readonly id: string,
    private readonly deps: ChannelActorDeps,
  ) {}

  /** Queues a request. A full mailbox answers `unavailable` at once. */
  post(env: Envelope): void {
    this.lastActive = this.deps.now();
    if (this.queue.length >= this.deps.limits.mailboxCapacity) {
      this.deps.outlet.reply(env.callId, {
        ok: false,
        error: new ColinkError("unavailable", "channel is overloaded, retry later").toBody(),
      });
      return;
    }
    this.queue.push(env);
    if (!this.processing) void this.drain();
  }

  /** True when nothing is queued, pending or committing: the actor may be dropped. */
  get isIdle(): boolean {
    return !this.processing && this.queue.length === 0 && this.inFlight === null && this.open.isEmpty;
  }

  private async drain(): Promise<void> {
    this.processing = true;
    try {
      while (this.queue.length > 0 || this.failure !== null) {
        if (this.failure !== null) await this.reset();
        if (this.state !== ChannelActorState.active && !(await this.activate())) continue;
        const env = this.queue.shift();
        if (!env) break;
        await this.handle(env);
        if (this.open.envelopes.length >= this.deps.limits.maxBatchRequests) this.flush();
      }
    } finally {
      this.processing = false;
    }
    this.flush();
  }

  /** Loads the channel's state. On failure answers everything queued with `unavailable`. */
  private async activate(): Promise<boolean> {
    try {
      const snap = await this.deps.log.loadChannel(this.id, {
        recentEvents: eventWindowSize,
        recentKeys: 1000,
      });
      this.channel = snap?.channel ?? null;
      this.members = new Map((snap?.members ?? []).map((m) => [m.userId, m]));
      this.events = (snap?.recentEvents ?? []).map((e) => ({ seq: e.seq, frame: this.frameOf(e) }));
      this.eventFloor = this.events.length > 0 ? this.events[0]!.seq - 1 : (snap?.channel.lastSeq ?? 0);
      this.keys = new Map(
        (snap?.recentKeys ?? []).map((k) => [sendKey(k.authorId, k.clientMsgId), k.messageId]),
      );
      const recent = snap ? await this.deps.log.readMessages(this.id, { limit: messageWindowSize }) : [];
      this.messages = recent;
      this.messageFloor = recent.length < messageWindowSize ? 0 : recent[0]!.seq - 1;
      this.touched.clear();
      this.state = ChannelActorState.active;
      return true;
    } catch {
      this.state = ChannelActorState.inactive;
      const err = fail.unavailable("channel could not be loaded, retry later").toBody();
      for (const env of this.queue.splice(0)) this.deps.outlet.reply(env.callId, { ok: false, error: err });
      return false;
    }
  }

  /**
   * After a failed commit, the in-memory state is ahead of the store: reload it. A
   * duplicate send is handled again with the stored original known; any other failure
   * answers the affected requests with `unavailable` (retryable).
   */
  private async reset(): Promise<void> {
    const err = this.failure;
    this.failure = null;
    const affected = [...(this.inFlight?.envelopes ?? []), ...this.open.envelopes];
    this.inFlight = null;
    this.open = new ChannelBatch();
    this.state = ChannelActorState.resetting;
    if (err instanceof DuplicateSendError && (await this.activate())) {
      try {
        const originals = await this.deps.log.findSends(this.id, err.keys);
        for (const m of originals) this.keys.set(sendKey(m.authorId, m.clientMsgId), m.id);
        for (const m of originals) if (m.seq <= this.messageFloor) this.touched.set(m.id, m);
        this.queue.unshift(...affected);
        return;
      } catch {
        // fall through: answer them as unavailable
      }
    }
    this.state = ChannelActorState.inactive;
    const message =
      err instanceof SeqConflictError
        ? "channel moved to another writer, retry"
        : "storage unavailable, retry";
    const body = fail.unavailable(message).toBody();
    for (const env of affected) this.deps.outlet.reply(env.callId, { ok: false, error: body });
  }

  /** Sends the open batch to the group committer, unless one is already committing. */
  private flush(): void {
    if (this.inFlight !== null || this.failure !== null || this.open.isEmpty) return;
    const batch = this.open;
    this.open = new ChannelBatch();
    if (batch.isReadOnly) {
      this.release(batch);
      return;
    }
    this.inFlight = batch;
    this.deps.committer.submit(batch.toWrite(this.channel!)).then(
      () => {
        this.inFlight = null;
        this.release(batch);
        this.trimWindows();
        this.flush();
      },
      (err: unknown) => {
        this.failure = err;
        if (!this.processing) void this.drain();
      },
    );
  }

  private release(batch: ChannelBatch): void {
    const { outlet } = this.deps;
    const topic = channelTopic(this.id);
    for (const out of batch.outputs) {
      if (out.kind === "reply") outlet.reply(out.callId, out.outcome, out.grant);
      else if (out.kind === "publish") outlet.publish(topic, out.frame);
      else outlet.revoke(out.userId, topic);
    }
  }

  /** Drops the oldest committed entries beyond the window sizes. */
  private trimWindows(): void {
    const pendingFrom = this.open.events[0]?.seq ?? Number.POSITIVE_INFINITY;
    let dropEvents = Math.max(0, this.events.length - eventWindowSize);
    while (dropEvents > 0 && this.events[dropEvents - 1]!.seq >= pendingFrom) dropEvents--;
    if (dropEvents > 0) this.eventFloor = this.events.splice(0, dropEvents).at(-1)!.seq;
    let dropMessages = Math.max(0, this.messages.length - messageWindowSize);
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

  private async handle(env: Envelope): Promise<void> {
    const batch = this.open;
    let outcome: Outcome;
    let grant: Grant | undefined;
    try {
      const result = await this.dispatch(env);
      if (result && "grant" in result && result.grant) {
        grant = result.grant as Grant;
        const { grant: _g, ...rest } = result;
        outcome = { ok: true, result: rest };
      } else {
        outcome = { ok: true, result: result ?? {} };
      }
    } catch (err) {
      outcome = { ok: false, error: errorBodyOf(err) };
    }
    // A reset may have replaced the open batch while this request awaited a read; the
    // request is then handled again from the queue, so this outcome is dropped.
    if (batch !== this.open) return;
    batch.envelopes.push(env);
    batch.outputs.push(
      grant
        ? { kind: "reply", callId: env.callId, outcome, grant }
        : { kind: "reply", callId: env.callId, outcome },
    );
  }

  private dispatch(env: Envelope): Promise<Record<string, unknown>> | Record<string, unknown> {
    const p = env.principal;
    const a = env.args;
    switch (env.op) {
      case "ch.create":
        return this.create(p, a as ArgsOf<"ch.create">);
      case "ch.get":
        return { channel: this.view(this.readable(p)) };
      case "ch.update":
        return this.update(p, a as ArgsOf<"ch.update">);
      case "ch.archive":
        return this.archive(p);
      case "ch.join":
        return this.join(p);
      case "ch.invite":
        return this.invite(p, a as ArgsOf<"ch.invite">);
      case "ch.leave":
        return this.leave(p);
      case "ch.kick":
        return this.kick(p, a as ArgsOf<"ch.kick">);
      case "ch.members":
        this.readable(p);
        return { members: [...this.members.values()] };
      case "sub":
        return this.subscribe(p, a as ArgsOf<"sub">);
      case "msg.send":
        return this.send(p, a as ArgsOf<"msg.send">);
      case "msg.edit":
        return this.edit(p, a as ArgsOf<"msg.edit">);
      case "msg.delete":
        return this.remove(p, a as ArgsOf<"msg.delete">);
      case "msg.history":
        return this.history(p, a as ArgsOf<"msg.history">);
      default:
        throw fail.badRequest(`op ${env.op} is not a channel op`);
    }
  }

  // ---- access ----------------------------------------------------------------

  private standing(p: Principal): rules.Standing {
    if (!this.channel) throw fail.notFound("channel");
    return { channel: this.channel, role: this.members.get(p.userId)?.role ?? null, principal: p };
  }

  /** The caller's standing if they may read; a private channel is `not_found` to outsiders. */
  private readable(p: Principal): rules.Standing {
    const s = this.standing(p);
    if (!rules.canRead(s)) throw fail.notFound("channel");
    return s;
  }

  private postable(p: Principal): rules.Standing {
    const s = this.readable(p);
    if (s.channel.archived) throw fail.forbidden("channel is archived");
    if (!rules.canPost(s)) throw fail.forbidden("join the channel to post");
    return s;
  }

  private view(_s?: rules.Standing): Channel {
    return { ...this.channel!, memberCount: this.members.size };
  }

  // ---- log -------------------------------------------------------------------

  private frameOf(e: ChannelEvent): Uint8Array {
    return eventFrame(channelTopic(this.id), e.type, { seq: e.seq, ...e.data });
  }

  /** Appends an event with the next seq to the open batch and the window. */
  private append(type: ChannelEventType, data: Record<string, unknown>): ChannelEvent {
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
    this.open.appendEvent(event, frame);
    this.events.push({ seq: event.seq, frame });
    return event;
  }

  private setMember(userId: string, role: ChannelRole, by: string | null): Member {
    const member: Member = { userId, role, joinedAt: this.deps.now(), lastReadSeq: this.channel!.lastSeq };
    this.members.set(userId, member);
    this.open.upsertMember(member);
    this.append("member.joined", by ? { userId, role, by } : { userId, role });
    return member;
  }

  /**
   * Removes a member. Losing membership of a non-public channel loses the live stream;
   * so does a guest's (guests read only their own channels) and a kicked member's.
   */
  private dropMember(
    userId: string,
    reason: "left" | "kicked",
    by: string | null,
    revokeAnyway: boolean,
  ): void {
    this.members.delete(userId);
    this.open.removeMember(userId);
    this.append("member.left", by ? { userId, reason, by } : { userId, reason });
    if (this.channel!.kind !== "public" || revokeAnyway) this.open.outputs.push({ kind: "revoke", userId });
  }

  // ---- channel ops -------------------------------------------------------------

  private create(p: Principal, a: ArgsOf<"ch.create">): Record<string, unknown> {
    if (this.channel) throw fail.conflict("channel id already in use");
    if (!rules.canCreateChannel(p)) throw fail.forbidden("guests cannot create channels");
    this.channel = {
      id: this.id,
      name: a.name,
      kind: a.kind,
      topic: a.topic ?? "",
      createdBy: p.userId,
      createdAt: this.deps.now(),
      archived: false,
      lastSeq: 0,
    };
    this.append("channel.created", { channel: { ...this.channel, lastSeq: 1, memberCount: 0 } });
    this.setMember(p.userId, "owner", null);
    return { channel: this.view() };
  }

  private update(p: Principal, a: ArgsOf<"ch.update">): Record<string, unknown> {
    const s = this.readable(p);
    if (!rules.canManage(s))
      throw fail.forbidden("only channel owners and moderators can change the channel");
    if (s.channel.archived) throw fail.forbidden("channel is archived");
    const name = a.name ?? s.channel.name;
    const topic = a.topic ?? s.channel.topic;
    if (name !== s.channel.name || topic !== s.channel.topic) {
      s.channel.name = name;
      s.channel.topic = topic;
      this.channelChanged();
    }
    return { channel: this.view() };
  }

  private archive(p: Principal): Record<string, unknown> {
    const s = this.readable(p);
    if (!rules.canArchive(s)) throw fail.forbidden("only the channel owner or an admin can archive it");
    if (!s.channel.archived) {
      s.channel.archived = true;
      this.channelChanged();
    }
    return { channel: this.view() };
  }

  private channelChanged(): void {
    const seq = this.channel!.lastSeq + 1;
    this.append("channel.updated", { channel: { ...this.view(), lastSeq: seq } });
  }

  private join(p: Principal): Record<string, unknown> {
    const s = this.readable(p);
    if (s.role === null) {
      if (!rules.canJoin(s))
        throw fail.forbidden(s.channel.archived ? "channel is archived" : "cannot join this channel");
      this.setMember(p.userId, "member", null);
    }
    return { channel: this.view() };
  }

  private async invite(p: Principal, a: ArgsOf<"ch.invite">): Promise<Record<string, unknown>> {
    const s = this.readable(p);
    if (!rules.canInvite(s)) throw fail.forbidden("cannot invite to this channel");
    const existing = this.members.get(a.userId);
    if (existing) return { member: existing };
    const user = await this.deps.directory.getUser(a.userId);
    if (!user) throw fail.notFound("user");
    // The read above yielded; membership may have changed meanwhile, so look again.
    const again = this.members.get(a.userId);
    if (again) return { member: again };
    return { member: this.setMember(a.userId, "member", p.userId) };
  }

  private leave(p: Principal): Record<string, unknown> {
    const s = this.readable(p);
    if (s.role !== null) this.dropMember(p.userId, "left", null, p.role === "guest");
    return {};
  }

  private kick(p: Principal, a: ArgsOf<"ch.kick">): Record<string, unknown> {
    const s = this.readable(p);
    if (s.channel.archived) throw fail.forbidden("channel is archived");
    const target = this.members.get(a.userId);
    if (!target) throw fail.notFound("member");
    if (a.userId === p.userId) throw fail.badRequest("use ch.leave to leave a channel");
    if (!rules.canKick(s, target.role)) throw fail.forbidden("cannot remove this member");
    this.dropMember(a.userId, "kicked", p.userId, true);
    return {};
  }

  // ---- subscriptions ---------------------------------------------------------------

  private async subscribe(p: Principal, a: ArgsOf<"sub">): Promise<Record<string, unknown>> {
    this.readable(p);
    const topic = channelTopic(this.id);
    const lastSeq = this.channel!.lastSeq;
    const since = a.sinceSeq;
    if (since === undefined || since === lastSeq) {
      return { channelId: this.id, lastSeq, grant: { topic, replay: [] } };
    }
    if (since > lastSeq || lastSeq - since > this.deps.limits.replayLimit) {
      return { channelId: this.id, lastSeq, resync: true, grant: { topic, replay: [] } };
    }
    const replay = await this.replayAfter(since);
    // Events appended while reading from the store are part of the replay too.
    return { channelId: this.id, lastSeq: this.channel!.lastSeq, grant: { topic, replay } };
  }

  /** Frames of every event after `since`, from the window and, for older ones, the store. */
  private async replayAfter(since: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    let next = since + 1;
    while (next <= this.eventFloor) {
      const stored = await this.deps.log.readEvents(this.id, next - 1, this.eventFloor - next + 1);
      if (stored.length === 0 || stored[0]!.seq !== next)
        throw fail.unavailable("channel log is being rewritten");
      for (const e of stored) {
        if (e.seq !== next) break;
        out.push(this.frameOf(e));
        next++;
      }
    }
    for (const e of this.events) {
      if (e.seq < next) continue;
      out.push(e.frame);
      next++;
    }
    return out;
  }

  // ---- messages ----------------------------------------------------------------

  private async send(p: Principal, a: ArgsOf<"msg.send">): Promise<Record<string, unknown>> {
    // A retry returns the original even if the sender may no longer post (invariant 4).
    this.readable(p);
    const key = sendKey(p.userId, a.clientMsgId);
    const knownId = this.keys.get(key);
    if (knownId !== undefined) {
      const original = await this.findMessage(knownId);
      if (original) return { message: original };
    }
    this.postable(p);
    this.checkText(a.text);
    const now = this.deps.now();
    const message: Message = {
      id: newId(IdPrefix.message, now),
      channelId: this.id,
      seq: this.channel!.lastSeq + 1,
      authorId: p.userId,
      text: a.text,
      clientMsgId: a.clientMsgId,
      createdAt: now,
      editedAt: null,
      deletedAt: null,
      threadRootId: null,
      replyCount: 0,
      lastReplyAt: null,
      mentions: [],
      files: [],
    };
    this.append("message.created", { message });
    this.open.createMessage(message);
    this.messages.push(message);
    this.keys.set(key, message.id);
    return { message };
  }

  private checkText(text: string): void {
    const limit = this.deps.limits.maxMessageChars;
    if (text.length > limit && [...text].length > limit) {
      throw fail.tooLarge(`message text is longer than ${limit} characters`);
    }
    if (text.trim().length === 0) throw fail.badRequest("message text is empty");
  }

  private async edit(p: Principal, a: ArgsOf<"msg.edit">): Promise<Record<string, unknown>> {
    this.postable(p);
    const found = await this.findMessage(a.messageId);
    if (!found || found.deletedAt !== null) throw fail.notFound("message");
    if (found.authorId !== p.userId) throw fail.forbidden("only the author can edit a message");
    if (found.text === a.text) return { message: found };
    this.checkText(a.text);
    const message: Message = { ...found, text: a.text, editedAt: this.deps.now() };
    this.replaceMessage(message);
    this.append("message.updated", { message });
    return { message };
  }

  private async remove(p: Principal, a: ArgsOf<"msg.delete">): Promise<Record<string, unknown>> {
    const s = this.readable(p);
    if (s.channel.archived) throw fail.forbidden("channel is archived");
    const found = await this.findMessage(a.messageId);
    if (!found) throw fail.notFound("message");
    if (!rules.canDeleteMessage(s, found.authorId)) throw fail.forbidden("cannot delete this message");
    if (found.deletedAt !== null) return {};
    const message: Message = { ...found, text: "", deletedAt: this.deps.now() };
    this.replaceMessage(message);
    this.append("message.deleted", { messageId: message.id, deletedAt: message.deletedAt, by: p.userId });
    return {};
  }

  /** A message of this channel, from memory or the store. */
  private async findMessage(id: string): Promise<Message | null> {
    const inWindow = this.messages.find((m) => m.id === id) ?? this.touched.get(id);
    if (inWindow) return inWindow;
    const stored = await this.deps.log.getMessage(this.id, id);
    // A change made while the read was running wins over what was read.
    return this.messages.find((m) => m.id === id) ?? this.touched.get(id) ?? stored;
  }

  private replaceMessage(message: Message): void {
    const i = this.messages.findIndex((m) => m.id === message.id);
    if (i >= 0) this.messages[i] = message;
    else this.touched.set(message.id, message);
    this.open.changeMessage(message);
  }

  private async history(p: Principal, a: ArgsOf<"msg.history">): Promise<Record<string, unknown>> {
    this.readable(p);
    const limit = a.limit ?? 50;
    const after = a.afterSeq ?? 0;
    const before = a.beforeSeq ?? Number.POSITIVE_INFINITY;
    const oldestFirst = a.afterSeq !== undefined && a.beforeSeq === undefined;
    const inRange = (m: Message) => m.seq > after && m.seq < before;
    const fromWindow = this.messages.filter(inRange);
    let merged: Message[];
    if (after >= this.messageFloor || (!oldestFirst && fromWindow.length > limit)) {
      merged = fromWindow;
    } else {
      // Older messages are committed: read them, then overlay changes made in memory.
      const upper = Math.min(before, this.messageFloor + 1);
      const stored = oldestFirst
        ? await this.deps.log.readMessages(this.id, { afterSeq: after, beforeSeq: upper, limit: limit + 1 })
        : (
            await this.deps.log.readMessages(this.id, {
              beforeSeq: upper,
              limit: limit + 1 - fromWindow.length,
            })
          ).filter((m) => m.seq > after);
      merged = [...stored.map((m) => this.touched.get(m.id) ?? m), ...this.messages.filter(inRange)];
    }
    if (oldestFirst) return { messages: merged.slice(0, limit), hasMore: merged.length > limit };
    return { messages: merged.slice(-limit), hasMore: merged.length > limit };
  }
}
