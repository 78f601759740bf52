/**
 * ChannelActor: the one writer of a channel (invariant 1). Its state (`ChannelState`)
 * holds the channel's `lastSeq`, members and roles, recent windows of events and
 * messages, and the idempotency keys of recent sends. It handles one request at a time;
 * the durable changes of the requests handled while a commit runs form the next batch
 * (group commit), and every reply and event of a batch leaves only after that batch
 * commits. Typing and presence counts are ephemeral and skip the batch (invariant 8).
 */
import { ColinkError, errorBodyOf, fail } from "../../core/errors.js";
import type { ArgsOf } from "../../core/ops.js";
import { DuplicateSendError, isStaleOwner, type ShardFence, StoreConflict } from "../../core/ports.js";
import { channelTopic } from "../../core/protocol.js";
import { type Envelope, type Grant, noReply, type Outcome, type Outlet } from "../envelope.js";
import type { GroupCommitter } from "../runtime/group-commit.js";
import { ChannelBatch } from "./channel-batch.js";
import {
  type ChannelDeps,
  ChannelState,
  eventWindowSize,
  keyCacheSize,
  messageWindowSize,
  type OpResult,
  sendKey,
} from "./channel-state.js";
import * as live from "./live-ops.js";
import * as membership from "./membership-ops.js";
import * as messages from "./message-ops.js";
import * as marks from "./reaction-ops.js";
import * as schedules from "./schedule-ops.js";

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
export interface ChannelActorDeps extends ChannelDeps {
  committer: GroupCommitter;
  outlet: Outlet;
  /**
   * In a cluster: the fence under which this node owns the channel's shard, or null when
   * it does not own it (any more). Absent on a single node.
   */
  fence?: () => ShardFence | null;
  /** In a cluster: a commit failed because another node took the channel's shard. */
  onStaleOwner?: () => void;
}

/** One channel's actor. */
export class ChannelActor {
  private lifecycle: ChannelActorState = ChannelActorState.inactive;
  private readonly st: ChannelState;
  private readonly queue: Envelope[] = [];
  private processing = false;
  private inFlight: ChannelBatch | null = null;
  private failure: unknown = null;
  /** Time of the last request, for passivation. */
  lastActive = 0;

  constructor(
    readonly id: string,
    private readonly deps: ChannelActorDeps,
  ) {
    this.st = new ChannelState(id, deps);
  }

  /** Queues a request. A full mailbox answers `unavailable` at once; ephemeral ops skip the queue. */
  post(env: Envelope): void {
    this.lastActive = this.deps.now();
    if (this.lifecycle === ChannelActorState.active && live.isEphemeralOp(env.op)) {
      this.answerNow(env, () => live.handleEphemeral(this.st, env, this.deps.outlet));
      return;
    }
    if (this.queue.length >= this.deps.limits.mailboxCapacity) {
      this.answerNow(env, () => {
        throw new ColinkError("unavailable", "channel is overloaded, retry later");
      });
      return;
    }
    this.queue.push(env);
    if (!this.processing) void this.drain();
  }

  /** True when nothing is queued, pending or committing: the actor may be dropped. */
  get isIdle(): boolean {
    return !this.processing && this.queue.length === 0 && this.inFlight === null && this.st.batch.isEmpty;
  }

  /** True when the channel has scheduled messages waiting (the host keeps it polled). */
  get hasSchedules(): boolean {
    return this.st.schedules.size > 0;
  }

  private answerNow(env: Envelope, run: () => OpResult): void {
    let outcome: Outcome;
    try {
      outcome = { ok: true, result: run() };
    } catch (err) {
      outcome = { ok: false, error: errorBodyOf(err) };
    }
    if (env.callId !== noReply) this.deps.outlet.reply(env.callId, outcome);
  }

  private async drain(): Promise<void> {
    this.processing = true;
    try {
      while (this.queue.length > 0 || this.failure !== null) {
        if (this.failure !== null) await this.reset();
        if (this.lifecycle !== ChannelActorState.active && !(await this.activate())) continue;
        const env = this.queue.shift();
        if (!env) break;
        await this.handle(env);
        // Between requests only: a request that awaits a read must find its batch still open.
        if (this.queue.length === 0 || this.st.batch.envelopes.length >= this.deps.limits.maxBatchRequests) {
          this.flush();
        }
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
        recentKeys: keyCacheSize,
      });
      const recent = snap
        ? await this.deps.history.readMessages(this.id, { limit: messageWindowSize, allThreads: true })
        : [];
      this.st.load(snap, recent);
      this.lifecycle = ChannelActorState.active;
      return true;
    } catch {
      this.lifecycle = ChannelActorState.inactive;
      const err = fail.unavailable("channel could not be loaded, retry later").toBody();
      for (const env of this.queue.splice(0)) this.replyTo(env, { ok: false, error: err });
      return false;
    }
  }

  private replyTo(env: Envelope, outcome: Outcome): void {
    if (env.callId !== noReply) this.deps.outlet.reply(env.callId, outcome);
  }

  /**
   * After a failed commit, the in-memory state is ahead of the store: reload it. A
   * duplicate send is handled again with the stored original known; any other failure
   * answers the affected requests with `unavailable` (retryable).
   */
  private async reset(): Promise<void> {
    const err = this.failure;
    this.failure = null;
    if (isStaleOwner(err)) this.deps.onStaleOwner?.();
    const affected = [...(this.inFlight?.envelopes ?? []), ...this.st.batch.envelopes];
    this.inFlight = null;
    this.st.batch = new ChannelBatch();
    this.lifecycle = ChannelActorState.resetting;
    if (err instanceof DuplicateSendError && (await this.activate())) {
      try {
        const originals = await this.deps.log.findSends(this.id, err.keys);
        // A key the store knows but that names no message (a scheduled message's key):
        // handling the batch again would collide again, so answer it as unavailable.
        if (originals.length < err.keys.length) throw err;
        for (const m of originals) this.st.keys.set(sendKey(m.authorId, m.clientMsgId), m.id);
        for (const m of originals) if (m.seq <= this.st.messageFloor) this.st.touched.set(m.id, m);
        this.queue.unshift(...affected);
        return;
      } catch {
        // fall through: answer them as unavailable
      }
    }
    this.lifecycle = ChannelActorState.inactive;
    const message =
      err instanceof StoreConflict ? "channel moved to another writer, retry" : "storage unavailable, retry";
    const body = fail.unavailable(message).toBody();
    for (const env of affected) this.replyTo(env, { ok: false, error: body });
  }

  /** Sends the open batch to the group committer, unless one is already committing. */
  private flush(): void {
    if (this.inFlight !== null || this.failure !== null || this.st.batch.isEmpty) return;
    const batch = this.st.batch;
    this.st.batch = new ChannelBatch();
    if (batch.isReadOnly) {
      this.release(batch);
      return;
    }
    this.inFlight = batch;
    const write = batch.toWrite(this.st.channel!);
    if (this.deps.fence) {
      const fence = this.deps.fence();
      // A node that lost the shard (or cannot renew its lease) must not write as its owner.
      if (fence === null) {
        this.failure = new StoreConflict("staleOwner", [this.id]);
        if (!this.processing) void this.drain();
        return;
      }
      write.fence = fence;
    }
    this.deps.committer.submit(write).then(
      () => {
        this.inFlight = null;
        this.release(batch);
        this.st.trimWindows();
        // While a request is being handled (it may be awaiting a read) the open batch is
        // its batch: the drain loop flushes it once the request is done.
        if (!this.processing) this.flush();
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
      if (out.kind === "reply") {
        if (out.callId !== noReply) outlet.reply(out.callId, out.outcome, out.grant);
      } else if (out.kind === "publish") outlet.publish(out.topic ?? topic, out.frame);
      else outlet.revoke(out.userId, topic);
    }
  }

  private async handle(env: Envelope): Promise<void> {
    let outcome: Outcome;
    let grant: Grant | undefined;
    try {
      const result = await this.dispatch(env);
      if ("grant" in result) {
        const { grant: g, ...rest } = result;
        grant = g as Grant | undefined;
        outcome = { ok: true, result: rest };
      } else {
        // Kept as it is, not copied: a result may carry its packed bytes (`withPacked`),
        // which a copy would leave behind.
        outcome = { ok: true, result };
      }
    } catch (err) {
      outcome = { ok: false, error: errorBodyOf(err) };
    }
    // The open batch is swapped only between requests (flush and reset run from the drain
    // loop, or when it is idle), so this request's writes and its reply share one batch.
    const batch = this.st.batch;
    batch.envelopes.push(env);
    batch.outputs.push(
      grant
        ? { kind: "reply", callId: env.callId, outcome, grant }
        : { kind: "reply", callId: env.callId, outcome },
    );
  }

  private dispatch(env: Envelope): Promise<OpResult> | OpResult {
    const { principal: p, args: a, op } = env;
    const st = this.st;
    switch (op) {
      case "ch.create":
        return membership.createChannel(st, p, a as ArgsOf<"ch.create">);
      case "dm.open":
        return membership.openDm(st, p, a as ArgsOf<"dm.open">);
      case "ch.get":
        st.readable(p);
        return { channel: st.view() };
      case "ch.update":
        return membership.updateChannel(st, p, a as ArgsOf<"ch.update">);
      case "ch.archive":
        return membership.archiveChannel(st, p);
      case "ch.join":
        return membership.joinChannel(st, p);
      case "ch.invite":
        return membership.inviteMember(st, p, a as ArgsOf<"ch.invite">);
      case "ch.leave":
        return membership.leaveChannel(st, p);
      case "ch.kick":
        return membership.kickMember(st, p, a as ArgsOf<"ch.kick">);
      case "ch.members":
        return membership.listMembers(st, p);
      case "sub":
        return live.subscribe(st, p, a as ArgsOf<"sub">);
      case "msg.send":
        return messages.sendMessage(st, p, a as ArgsOf<"msg.send">);
      case "msg.edit":
        return messages.editMessage(st, p, a as ArgsOf<"msg.edit">);
      case "msg.delete":
        return messages.deleteMessage(st, p, a as ArgsOf<"msg.delete">);
      case "msg.history":
        return messages.history(st, p, a as ArgsOf<"msg.history">);
      case "msg.versions":
        return messages.messageVersions(st, p, a as ArgsOf<"msg.versions">);
      case "thread.history":
        return messages.threadHistory(st, p, a as ArgsOf<"thread.history">);
      case "thread.follow":
        return messages.followThread(st, p, a as ArgsOf<"thread.follow">, true);
      case "thread.unfollow":
        return messages.followThread(st, p, a as ArgsOf<"thread.unfollow">, false);
      case "react.add":
        return marks.react(st, p, a as ArgsOf<"react.add">, true);
      case "react.remove":
        return marks.react(st, p, a as ArgsOf<"react.remove">, false);
      case "pin.add":
        return marks.pin(st, p, a as ArgsOf<"pin.add">, true);
      case "pin.remove":
        return marks.pin(st, p, a as ArgsOf<"pin.remove">, false);
      case "pin.list":
        return marks.listPins(st, p);
      case "msg.schedule":
        return schedules.scheduleMessage(st, p, a as ArgsOf<"msg.schedule">);
      case "msg.scheduled.list":
        return schedules.listScheduled(st, p);
      case "msg.scheduled.cancel":
        return schedules.cancelScheduled(st, p, a as ArgsOf<"msg.scheduled.cancel">);
      case "schedule.due":
        return schedules.deliverDue(st);
      case "typing":
      case "presence.member":
        // Ephemeral ops that arrived while the actor was loading.
        return live.handleEphemeral(st, env, this.deps.outlet);
      default:
        throw fail.badRequest(`op ${op} is not a channel op`);
    }
  }
}
