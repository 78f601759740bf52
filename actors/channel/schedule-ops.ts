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
import { type ChannelState, type OpResult, sendKey } from "./channel-state.js";
import { postMessage } from "./message-ops.js";

/** Prefix of scheduled message ids. */
const schedulePrefix = "S";

/** `msg.schedule`: a past `sendAt` posts at once. */
export async function scheduleMessage(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"msg.schedule">,
): Promise<OpResult> {
  st.postable(p);
  st.checkText(a.text);
  for (const s of st.schedules.values()) {
    if (s.authorId === p.userId && s.clientMsgId === a.clientMsgId) return { scheduled: s };
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
  const sent = st.keys.get(sendKey(p.userId, a.clientMsgId));
  if (sent !== undefined) return { scheduled: { ...scheduled, status: "sent", messageId: sent } };
  if (a.threadRootId) await st.liveMessage(a.threadRootId);
  if (a.sendAt <= st.deps.now()) return { scheduled: await deliver(st, scheduled) };
  st.schedules.set(scheduled.id, scheduled);
  st.batch.schedule(scheduled);
  return { scheduled };
}

/** `msg.scheduled.list`: the caller's pending ones, soonest first. */
export function listScheduled(st: ChannelState, p: Principal): OpResult {
  st.readable(p);
  const mine = [...st.schedules.values()].filter((s) => s.authorId === p.userId);
  return { scheduled: mine.sort((x, y) => x.sendAt - y.sendAt) };
}

/** `msg.scheduled.cancel` */
export function cancelScheduled(st: ChannelState, p: Principal, a: ArgsOf<"msg.scheduled.cancel">): OpResult {
  st.readable(p);
  const s = st.schedules.get(a.scheduleId);
  if (!s || s.authorId !== p.userId) throw fail.notFound("scheduled message");
  const cancelled: Scheduled = { ...s, status: "cancelled" };
  st.schedules.delete(s.id);
  st.batch.schedule(cancelled);
  return { scheduled: cancelled };
}

/** `schedule.due` (internal): posts every pending message whose time has come. */
export async function deliverDue(st: ChannelState): Promise<OpResult> {
  if (!st.channel) return {};
  const now = st.deps.now();
  const due = [...st.schedules.values()].filter((s) => s.sendAt <= now).sort((x, y) => x.sendAt - y.sendAt);
  for (const s of due) await deliver(st, s);
  return { delivered: due.length };
}

/**
 * Posts a scheduled message as its author, if the author may still post; otherwise it
 * is cancelled. Either way it leaves the pending set in this batch.
 */
async function deliver(st: ChannelState, s: Scheduled): Promise<Scheduled> {
  st.schedules.delete(s.id);
  const author = st.members.get(s.authorId);
  const standing = author ? { channel: st.channel!, role: author.role, principal: authorOf(s) } : null;
  let done: Scheduled;
  const existing = st.keys.get(sendKey(s.authorId, s.clientMsgId));
  if (existing) {
    done = { ...s, status: "sent", messageId: existing };
  } else if (standing && rules.canPost(standing)) {
    try {
      const { message } = await postMessage(st, s.authorId, s.text, s.clientMsgId, s.threadRootId);
      done = { ...s, status: "sent", messageId: message.id };
    } catch {
      done = { ...s, status: "cancelled" }; // e.g. the thread's root was deleted meanwhile
    }
  } else {
    done = { ...s, status: "cancelled" };
  }
  st.batch.schedule(done);
  return done;
}

/** The author as a principal, for the posting rules (site role does not matter there). */
function authorOf(s: Scheduled): Principal {
  return { userId: s.authorId, username: "", displayName: "", role: "member" };
}
