/** Channel ops about live delivery: subscriptions (with resume), typing, presence counts. */
import type { ArgsOf } from "../../core/ops.js";
import { channelTopic, eventFrame } from "../../core/protocol.js";
import type { Principal } from "../../core/types.js";
import type { Envelope, Outlet } from "../envelope.js";
import type { ChannelState, Handled, Reply } from "./channel-state.js";

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
export async function subscribe(st: ChannelState, p: Principal, a: ArgsOf<"sub">): Promise<Reply<"sub">> {
  st.readable(p);
  const topic = channelTopic(st.id);
  const lastSeq = st.lastSeq;
  const since = a.sinceSeq;
  if (since === undefined || since === lastSeq) {
    return { result: { channelId: st.id, lastSeq }, grant: { topic, replay: [] } };
  }
  if (since > lastSeq || lastSeq - since > st.deps.limits.replayLimit) {
    return { result: { channelId: st.id, lastSeq, resync: true }, grant: { topic, replay: [] } };
  }
  const replay = await st.replayAfter(since);
  return { result: { channelId: st.id, lastSeq: st.lastSeq }, grant: { topic, replay } };
}

/**
 * `typing`: published at once to the channel's subscribers, never logged and never
 * queued behind durable work. Members only; renewals within 2 s are absorbed.
 */
export function typing(st: ChannelState, p: Principal, a: ArgsOf<"typing">, outlet: Outlet): Reply<"typing"> {
  st.postable(p);
  const now = st.deps.now();
  if (!st.markTyping(p.userId, now, typingIntervalMs, typingTtlMs)) return { result: {} };
  const topic = channelTopic(st.id);
  const data: Record<string, unknown> = { userId: p.userId, expiresAt: now + typingTtlMs };
  if (a.threadRootId) data.threadRootId = a.threadRootId;
  outlet.publish(topic, eventFrame(topic, "typing", data));
  return { result: {} };
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
): Handled {
  if (!st.exists || !st.isMember(args.userId)) return { result: {} };
  if (st.setOnline(args.userId, args.online)) {
    schedule(() => {
      const topic = channelTopic(st.id);
      outlet.publish(topic, eventFrame(topic, "presence.count", st.takePresenceCount()));
    }, presenceCountIntervalMs);
  }
  return { result: {} };
}

/** Ops that skip the mailbox when the actor is loaded: they never wait for, or delay, durable work. */
export function isEphemeralOp(op: Envelope["op"]): boolean {
  return op === "typing" || op === "presence.member";
}

/** Handles an ephemeral op at once. */
export function handleEphemeral(st: ChannelState, env: Envelope, outlet: Outlet): Handled {
  if (env.op === "typing") return typing(st, env.principal, env.args as ArgsOf<"typing">, outlet);
  return presenceMember(st, env.args as { userId: string; online: boolean }, outlet, (fn, ms) => {
    setTimeout(fn, ms).unref();
  });
}
