/** Channel ops about live delivery: subscriptions (with resume), typing, presence counts. */
import { fail } from "../../core/errors.js";
import type { ArgsOf } from "../../core/ops.js";
import { channelTopic, eventFrame } from "../../core/protocol.js";
import type { Principal } from "../../core/types.js";
import type { Envelope, Outlet } from "../envelope.js";
import type { ChannelState, OpResult } from "./channel-state.js";

/** How long a typing indicator lasts without renewal. */
export const typingTtlMs = 5000;
/** One typing event per user and channel at most this often. */
const typingIntervalMs = 2000;
/** Presence counts are published at most this often per channel. */
const presenceCountIntervalMs = 1000;

/**
 * `sub`: with `sinceSeq`, the events after it are replayed (from memory, older ones from
 * the store) before the reply; beyond the replay limit the reply says `resync`.
 */
export async function subscribe(st: ChannelState, p: Principal, a: ArgsOf<"sub">): Promise<OpResult> {
  st.readable(p);
  const topic = channelTopic(st.id);
  const lastSeq = st.channel!.lastSeq;
  const since = a.sinceSeq;
  if (since === undefined || since === lastSeq) {
    return { channelId: st.id, lastSeq, grant: { topic, replay: [] } };
  }
  if (since > lastSeq || lastSeq - since > st.deps.limits.replayLimit) {
    return { channelId: st.id, lastSeq, resync: true, grant: { topic, replay: [] } };
  }
  const replay = await replayAfter(st, since);
  return { channelId: st.id, lastSeq: st.channel!.lastSeq, grant: { topic, replay } };
}

/** Frames of every event after `since`, from the window and, for older ones, the store. */
async function replayAfter(st: ChannelState, since: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const older: Array<{ seq: number; frame: Uint8Array }> = [];
  let next = since + 1;
  while (next <= st.eventFloor) {
    const stored = await st.deps.log.readEvents(st.id, next - 1, st.eventFloor - next + 1);
    if (stored.length === 0 || stored[0]!.seq !== next)
      throw fail.unavailable("channel log is being rewritten");
    for (const e of stored) {
      if (e.seq !== next) break;
      const frame = st.frameOf(e);
      out.push(frame);
      older.push({ seq: e.seq, frame });
      next++;
    }
  }
  // Keep what was read: after an outage many clients resume from about the same seq,
  // and each would otherwise read the store again while holding up the channel's queue.
  if (older.length > 0 && older.at(-1)!.seq === st.eventFloor) st.extendEventWindow(older);
  for (const e of st.events) {
    if (e.seq < next) continue;
    out.push(e.frame);
    next++;
  }
  return out;
}

/**
 * `typing`: published at once to the channel's subscribers, never logged and never
 * queued behind durable work. Members only; renewals within 2 s are absorbed.
 */
export function typing(st: ChannelState, p: Principal, a: ArgsOf<"typing">, outlet: Outlet): OpResult {
  st.postable(p);
  const now = st.deps.now();
  const last = st.typingAt.get(p.userId) ?? 0;
  if (now - last < typingIntervalMs) return {};
  st.typingAt.set(p.userId, now);
  if (st.typingAt.size > 1000) {
    for (const [u, t] of st.typingAt) if (now - t > typingTtlMs) st.typingAt.delete(u);
  }
  const topic = channelTopic(st.id);
  const data: Record<string, unknown> = { userId: p.userId, expiresAt: now + typingTtlMs };
  if (a.threadRootId) data.threadRootId = a.threadRootId;
  outlet.publish(topic, eventFrame(topic, "typing", data));
  return {};
}

/**
 * `presence.member` (internal, from a member's user actor): keeps the count of members
 * online, published as `presence.count` at most once a second. Large channels get this
 * instead of one presence event per member.
 */
export function presenceMember(
  st: ChannelState,
  args: { userId: string; online: boolean },
  outlet: Outlet,
  schedule: (fn: () => void, ms: number) => void,
): OpResult {
  if (!st.channel || !st.members.has(args.userId)) return {};
  const had = st.online.size;
  if (args.online) st.online.add(args.userId);
  else st.online.delete(args.userId);
  if (st.online.size !== had && !st.presenceCountPending) {
    st.presenceCountPending = true;
    schedule(() => {
      st.presenceCountPending = false;
      const topic = channelTopic(st.id);
      outlet.publish(
        topic,
        eventFrame(topic, "presence.count", { online: st.online.size, members: st.members.size }),
      );
    }, presenceCountIntervalMs);
  }
  return {};
}

/** Ops that skip the mailbox when the actor is loaded: they never wait for, or delay, durable work. */
export function isEphemeralOp(op: Envelope["op"]): boolean {
  return op === "typing" || op === "presence.member";
}

/** Handles an ephemeral op at once. */
export function handleEphemeral(st: ChannelState, env: Envelope, outlet: Outlet): OpResult {
  if (env.op === "typing") return typing(st, env.principal, env.args as ArgsOf<"typing">, outlet);
  return presenceMember(st, env.args as { userId: string; online: boolean }, outlet, (fn, ms) => {
    setTimeout(fn, ms).unref();
  });
}
