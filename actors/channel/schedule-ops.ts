/**
 * Scheduled messages. They are stored with the channel's other writes; the actor host
 * polls the store for due ones and sends `schedule.due` to the channel, which posts them
 * as normal messages, once (the schedule's status changes in the same transaction).
 */
import * as rules from "../../core/channel-rules.js";
import { fail } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { ArgsOf } from "../../core/ops.js";
import type { Principal, Scheduled } from "../../core/types.js";
import type { ChannelState, Handled, Reply } from "./channel-state.js";
import { postMessage } from "./message-ops.js";

/** Prefix of scheduled message ids. */
const schedulePrefix = "S";

/** `msg.schedule`: a past `sendAt` posts at once. */
export async function scheduleMessage(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"msg.schedule">,
): Promise<Reply<"msg.schedule">> {
  st.postable(p);
  st.checkText(a.text);
  for (const s of st.pendingSchedules()) {
    if (s.authorId === p.userId && s.clientMsgId === a.clientMsgId) return { result: { scheduled: s } };
  }
  const scheduled: Scheduled = {
    id: newId(schedulePrefix, st.deps.now()),
    channelId: st.id,
    authorId: p.userId,
    text: a.text,
    clientMsgId: a.clientMsgId,
    threadRootId: a.threadRootId ?? null,
    sendAt: a.sendAt,
    status: "pending",
    messageId: null,
  };
  // A retry after the message went out (at once, or when due) answers with it, sent.
  const sent = st.sentMessageId(p.userId, a.clientMsgId);
  if (sent !== undefined) return { result: { scheduled: { ...scheduled, status: "sent", messageId: sent } } };
  if (a.threadRootId) await st.liveMessage(a.threadRootId);
  if (a.sendAt <= st.deps.now()) return { result: { scheduled: await deliver(st, scheduled) } };
  st.addSchedule(scheduled);
  return { result: { scheduled } };
}

/** `msg.scheduled.list`: the caller's pending ones, soonest first. */
export function listScheduled(st: ChannelState, p: Principal): Reply<"msg.scheduled.list"> {
  st.readable(p);
  const mine = [...st.pendingSchedules()].filter((s) => s.authorId === p.userId);
  return { result: { scheduled: mine.sort((x, y) => x.sendAt - y.sendAt) } };
}

/** `msg.scheduled.cancel` */
export function cancelScheduled(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"msg.scheduled.cancel">,
): Reply<"msg.scheduled.cancel"> {
  st.readable(p);
  const s = st.findSchedule(a.scheduleId);
  if (!s || s.authorId !== p.userId) throw fail.notFound("scheduled message");
  const cancelled: Scheduled = { ...s, status: "cancelled" };
  st.dropSchedule(s.id);
  st.recordSchedule(cancelled);
  return { result: { scheduled: cancelled } };
}

/** `schedule.due` (internal): posts every pending message whose time has come. */
export async function deliverDue(st: ChannelState): Promise<Handled<{ delivered?: number }>> {
  if (!st.exists) return { result: {} };
  const now = st.deps.now();
  const due = [...st.pendingSchedules()].filter((s) => s.sendAt <= now).sort((x, y) => x.sendAt - y.sendAt);
  for (const s of due) await deliver(st, s);
  return { result: { delivered: due.length } };
}

/**
 * Posts a scheduled message as its author, if the author may still post; otherwise it
 * is cancelled. Either way it leaves the pending set in this batch.
 */
async function deliver(st: ChannelState, s: Scheduled): Promise<Scheduled> {
  st.dropSchedule(s.id);
  // One who is no longer a member has no role, and may not post.
  const standing = st.standing(authorOf(s));
  let done: Scheduled;
  const existing = st.sentMessageId(s.authorId, s.clientMsgId);
  if (existing) {
    done = { ...s, status: "sent", messageId: existing };
  } else if (rules.canPost(standing)) {
    try {
      const message = await postMessage(st, s.authorId, s.text, s.clientMsgId, s.threadRootId);
      done = { ...s, status: "sent", messageId: message.id };
    } catch {
      done = { ...s, status: "cancelled" }; // e.g. the thread's root was deleted meanwhile
    }
  } else {
    done = { ...s, status: "cancelled" };
  }
  st.recordSchedule(done);
  return done;
}

/** The author as a principal, for the posting rules (site role does not matter there). */
function authorOf(s: Scheduled): Principal {
  return { userId: s.authorId, username: "", displayName: "", role: "member" };
}
