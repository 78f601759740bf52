/**
 * ChannelActor: the one writer of a channel (invariant 1). Its state (`ChannelState`)
 * holds the channel's `lastSeq`, members and roles, recent windows of events and
 * messages, and the idempotency keys of recent sends. It handles one request at a time;
 * the durable changes of the requests handled while a commit runs form the next batch
 * (group commit), and every reply and event of a batch leaves only after that batch
 * commits. Typing and presence counts are ephemeral and skip the batch (invariant 8).
 */
import { ColinkError, type ErrorBody, errorBodyLogged, fail } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { OpName } from "../../core/ops.js";
import {
  DuplicateSendError,
  isStaleOwner,
  type SendKey,
  type ShardFence,
  StoreConflict,
} from "../../core/ports.js";
import { channelTopic, packedMessageOf, withPacked } from "../../core/protocol.js";
import type { Message } from "../../core/types.js";
import {
  type Envelope,
  type Grant,
  handlerOf,
  type InternalOp,
  noReply,
  type Outcome,
  type Outlet,
} from "../envelope.js";
import { MailboxActor } from "../mailbox.js";
import type { GroupCommitter } from "../runtime/group-commit.js";
import type { ChannelBatch } from "./channel-batch.js";
import {
  type ChannelDeps,
  type ChannelHandler,
  ChannelState,
  eventWindowSize,
  type Handled,
  keyCacheSize,
  messageWindowSize,
  sendKey,
} from "./channel-state.js";
import * as files from "./file-ops.js";
import * as live from "./live-ops.js";
import * as membership from "./membership-ops.js";
import * as messages from "./message-ops.js";
import * as moderation from "./moderation-ops.js";
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
  /** Internal errors, failed loads and failed commits (with the call ids they fail). */
  logger: Logger;
}

/**
 * One handler per channel op that goes through the mailbox. `typing` and `presence.member`
 * are not here: they skip the mailbox (live-ops.ts).
 */
const channelHandlers = {
  "ch.create": membership.createChannel,
  "dm.open": membership.openDm,
  "ch.get": membership.getChannel,
  "ch.update": membership.updateChannel,
  "ch.archive": membership.archiveChannel,
  "ch.join": membership.joinChannel,
  "ch.invite": membership.inviteMember,
  "ch.leave": membership.leaveChannel,
  "ch.kick": membership.kickMember,
  "ch.members": membership.listMembers,
  sub: live.subscribe,
  "msg.send": messages.sendMessage,
  "msg.edit": messages.editMessage,
  "msg.delete": messages.deleteMessage,
  "msg.history": messages.history,
  "msg.versions": messages.messageVersions,
  "thread.history": messages.threadHistory,
  "thread.follow": (st, p, a) => messages.followThread(st, p, a, true),
  "thread.unfollow": (st, p, a) => messages.followThread(st, p, a, false),
  "react.add": (st, p, a) => marks.react(st, p, a, true),
  "react.remove": (st, p, a) => marks.react(st, p, a, false),
  "pin.add": (st, p, a) => marks.pin(st, p, a, true),
  "pin.remove": (st, p, a) => marks.pin(st, p, a, false),
  "pin.list": marks.listPins,
  "msg.schedule": schedules.scheduleMessage,
  "msg.scheduled.list": schedules.listScheduled,
  "msg.scheduled.cancel": schedules.cancelScheduled,
  "schedule.due": (st) => schedules.deliverDue(st),
  "file.begin": files.beginUpload,
  "file.complete": files.completeUpload,
  "file.get": files.getFile,
  "file.scanned": (st, _p, a) => files.fileScanned(st, a as { fileId: string }),
  "msg.flag": moderation.flagMessage,
  "msg.remove": moderation.removeMessage,
  "flag.resolve": moderation.resolveFlag,
} satisfies { [O in OpName | InternalOp]?: ChannelHandler<O> };

/** The idempotency keys of the sends (and schedules) among `envs`. */
function sendKeysOf(envs: readonly Envelope[]): SendKey[] {
  return envs.flatMap((env) => {
    const clientMsgId = env.args.clientMsgId;
    const sends = env.op === "msg.send" || env.op === "msg.schedule";
    return sends && typeof clientMsgId === "string" ? [{ authorId: env.principal.userId, clientMsgId }] : [];
  });
}

/** One channel's actor. */
export class ChannelActor extends MailboxActor {
  private lifecycle: ChannelActorState = ChannelActorState.inactive;
  private readonly st: ChannelState;
  private inFlight: ChannelBatch | null = null;
  private failure: unknown = null;
  /** Time of the last request, for passivation. */
  lastActive = 0;

  constructor(
    readonly id: string,
    private readonly deps: ChannelActorDeps,
  ) {
    super();
    this.st = new ChannelState(id, deps);
  }

  /** Queues a request. A full mailbox answers `unavailable` at once; ephemeral ops skip the queue. */
  post(env: Envelope): void {
    this.lastActive = this.deps.now();
    if (this.lifecycle === ChannelActorState.active && live.isEphemeralOp(env.op)) {
      this.answerNow(env, () => live.handleEphemeral(this.st, env, this.deps.outlet));
      return;
    }
    if (!this.enqueue(env, this.deps.limits.mailboxCapacity)) {
      this.answerNow(env, () => {
        throw new ColinkError("unavailable", "channel is overloaded, retry later");
      });
    }
  }

  /** True when nothing is queued, pending or committing: the actor may be dropped. */
  get isIdle(): boolean {
    return !this.busy && this.queued === 0 && this.inFlight === null && this.st.batch.isEmpty;
  }

  /** True when the channel has scheduled messages waiting (the host keeps it polled). */
  get hasSchedules(): boolean {
    return this.st.hasSchedules;
  }

  private answerNow(env: Envelope, run: () => Handled): void {
    let outcome: Outcome;
    try {
      outcome = { ok: true, result: run().result };
    } catch (err) {
      outcome = { ok: false, error: this.errorBody(err, env) };
    }
    if (env.callId !== noReply) this.deps.outlet.reply(env.callId, outcome);
  }

  /** Before a request: recovers from a failed commit, and loads the state if it is not. */
  protected override ready(): Promise<boolean> | boolean {
    if (this.failure === null && this.lifecycle === ChannelActorState.active) return true;
    return this.recover();
  }

  private async recover(): Promise<boolean> {
    if (this.failure !== null) await this.reset();
    return this.lifecycle === ChannelActorState.active || this.activate();
  }

  /** A failed commit needs a turn even with nothing queued. */
  protected override hasWork(): boolean {
    return this.failure !== null;
  }

  protected override handled(): void {
    // Between requests only: a request that awaits a read must find its batch still open.
    if (this.queued === 0 || this.st.batch.envelopes.length >= this.deps.limits.maxBatchRequests) {
      this.flush();
    }
  }

  protected override drained(): void {
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
    } catch (err) {
      this.deps.logger.warn({ err, channelId: this.id }, "channel could not be loaded");
      this.lifecycle = ChannelActorState.inactive;
      const error = fail.unavailable("channel could not be loaded, retry later").toBody();
      for (const env of this.takeQueued()) this.replyTo(env, { ok: false, error });
      return false;
    }
  }

  /** The error body of a failed request; an internal one is logged with the request. */
  private errorBody(err: unknown, env: Envelope): ErrorBody {
    return errorBodyLogged(err, this.deps.logger, { callId: env.callId, op: env.op, channelId: this.id });
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
    const affected = [...(this.inFlight?.envelopes ?? []), ...this.st.takeBatch().envelopes];
    this.inFlight = null;
    this.lifecycle = ChannelActorState.resetting;
    if (err instanceof DuplicateSendError && (await this.activate())) {
      try {
        // Every send of the affected requests, not only the keys the store named: the
        // store names those of the batch in flight, and a send of the open batch with
        // another forgotten key would collide next, while the reload above forgets what
        // this round learns: the two would take turns failing for ever.
        const originals = await this.deps.log.findSends(this.id, [...err.keys, ...sendKeysOf(affected)]);
        const found = new Set(originals.map((m) => sendKey(m.authorId, m.clientMsgId)));
        // A key the store knows but that names no message (a scheduled message's key):
        // handling the batch again would collide again, so answer it as unavailable.
        if (!err.keys.every((k) => found.has(sendKey(k.authorId, k.clientMsgId)))) throw err;
        this.st.knowSends(originals);
        this.requeue(affected);
        return;
      } catch (findErr) {
        // fall through: answer them as unavailable
        this.deps.logger.warn({ err: findErr, channelId: this.id }, "repeated sends could not be looked up");
      }
    }
    this.lifecycle = ChannelActorState.inactive;
    const moved = err instanceof StoreConflict;
    // A conflict is the cluster at work (ownership moved); anything else is the store failing.
    this.deps.logger[moved ? "info" : "warn"](
      { err, channelId: this.id, callIds: affected.map((e) => e.callId) },
      "commit failed; its requests are answered unavailable (retryable)",
    );
    const message = moved ? "channel moved to another writer, retry" : "storage unavailable, retry";
    const body = fail.unavailable(message).toBody();
    for (const env of affected) this.replyTo(env, { ok: false, error: body });
  }

  /** Sends the open batch to the group committer, unless one is already committing. */
  private flush(): void {
    if (this.inFlight !== null || this.failure !== null || this.st.batch.isEmpty) return;
    const batch = this.st.takeBatch();
    if (batch.isReadOnly) {
      this.release(batch);
      return;
    }
    this.inFlight = batch;
    const write = this.st.writeOf(batch);
    if (this.deps.fence) {
      const fence = this.deps.fence();
      // A node that lost the shard (or cannot renew its lease) must not write as its owner.
      if (fence === null) {
        this.failure = new StoreConflict("staleOwner", [this.id]);
        this.wake();
        return;
      }
      write.fence = fence;
    }
    const { committer } = this.deps;
    committer.submit(write, committer.debug ? batch.envelopes.map((e) => e.callId) : undefined).then(
      () => {
        this.inFlight = null;
        this.release(batch);
        this.st.trimWindows();
        // While a request is being handled (it may be awaiting a read) the open batch is
        // its batch: the drain loop flushes it once the request is done.
        if (!this.busy) this.flush();
      },
      (err: unknown) => {
        this.failure = err;
        this.wake();
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

  /** Runs one request and records its reply in the open batch, to leave after commit. */
  protected async handle(env: Envelope): Promise<void> {
    let outcome: Outcome;
    let grant: Grant | undefined;
    // The open batch is swapped only between requests (flush and reset run from the drain
    // loop, or when it is idle), so this request's writes and its reply share one batch.
    const batch = this.st.batch;
    const firstEvent = batch.events.length;
    try {
      const handled = await this.dispatch(env);
      outcome = { ok: true, result: this.withReplyBytes(handled.result, batch, firstEvent) };
      grant = handled.grant;
    } catch (err) {
      outcome = { ok: false, error: this.errorBody(err, env) };
    }
    batch.envelopes.push(env);
    batch.outputs.push(
      grant
        ? { kind: "reply", callId: env.callId, outcome, grant }
        : { kind: "reply", callId: env.callId, outcome },
    );
  }

  /**
   * The result, with its encoded bytes attached (`withPacked`) when they already exist: a
   * new message's reply `{message}` is what the `message.created` event logged for it in
   * the same request carries (a new message has no reactions yet, so the sender sees it as
   * the event shows it), so the reply reuses the event's encoding instead of encoding the
   * message again. Every send takes this path; the ops return plain results and this is
   * the one place that decides. Any other result is encoded where it leaves (the outlet).
   */
  private withReplyBytes(
    result: Record<string, unknown>,
    batch: ChannelBatch,
    firstEvent: number,
  ): Record<string, unknown> {
    const message = result.message as Message | undefined;
    if (message === undefined) return result;
    for (const key in result) if (key !== "message") return result;
    const frame = batch.frameOfEvent("message.created", message.seq, firstEvent);
    if (frame === null) return result;
    const packed = packedMessageOf(frame, channelTopic(this.id), "message.created", message.seq);
    return packed ? withPacked(result, packed) : result;
  }

  private dispatch(env: Envelope): Promise<Handled> | Handled {
    const { op } = env;
    // Ephemeral ops that arrived while the actor was loading.
    if (live.isEphemeralOp(op)) return live.handleEphemeral(this.st, env, this.deps.outlet);
    const handler = handlerOf<ChannelState, Handled>(channelHandlers, op);
    if (!handler) throw fail.badRequest(`op ${op} is not a channel op`);
    // One request at a time: the origin of the one being handled, for its audit entries.
    this.st.origin = env.origin;
    return handler(this.st, env.principal, env.args);
  }
}
