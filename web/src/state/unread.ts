/**
 * Unread and mention counts of the sidebar: set from `unread.summary` and moved by
 * `message.created` on subscribed channels, the personal `mention` event and
 * `read.updated`, so that every tab and device of a user shows the same badges.
 */
import type { Message, ResultOf } from "@colink/client";
import type { UnreadState } from "./app-state.js";

type UnreadSummary = ResultOf<"unread.summary">["channels"][number];

/** The sidebar's counts from `unread.summary`; `latestSeq` is the newest seq known per channel. */
export function unreadFromSummary(
  summary: UnreadSummary[],
  latestSeqs: Record<string, number>,
): Record<string, UnreadState> {
  const out: Record<string, UnreadState> = {};
  for (const s of summary) {
    out[s.channelId] = {
      lastReadSeq: s.lastReadSeq,
      unread: s.unread,
      mentions: s.mentions,
      latestSeq: Math.max(latestSeqs[s.channelId] ?? 0, s.lastReadSeq),
    };
  }
  return out;
}

/** Whether a message mentions this user: by @username or with @channel/@here. */
export function mentionsUser(message: Message, userId: string): boolean {
  return message.broadcast !== null || message.mentions.includes(userId);
}

/**
 * A new message in a subscribed channel. Our own messages and thread replies do not count
 * (replies count only in followed threads, which the personal `mention` covers for mentions).
 */
export function unreadAfterMessage(state: UnreadState, message: Message, myId: string): UnreadState {
  const latestSeq = Math.max(state.latestSeq, message.seq);
  if (message.seq <= state.lastReadSeq || message.authorId === myId || message.threadRootId !== null) {
    return latestSeq === state.latestSeq ? state : { ...state, latestSeq };
  }
  return {
    ...state,
    latestSeq,
    unread: state.unread + 1,
    mentions: state.mentions + (mentionsUser(message, myId) ? 1 : 0),
  };
}

/**
 * The personal `mention` event. Top-level messages were already counted from the channel's
 * own `message.created`. A reply that names the user by @username makes them follow the
 * thread, and they get no `thread.reply` for it, so it counts here; a reply that only says
 * @channel or @here counts through `thread.reply` (followers get both events).
 */
export function unreadAfterMention(state: UnreadState, message: Message, myId: string): UnreadState {
  if (message.threadRootId === null || message.seq <= state.lastReadSeq) return state;
  if (!message.mentions.includes(myId)) return state;
  return {
    ...state,
    latestSeq: Math.max(state.latestSeq, message.seq),
    unread: state.unread + 1,
    mentions: state.mentions + 1,
  };
}

/** The personal `thread.reply` event: a reply in a thread the user follows counts. */
export function unreadAfterThreadReply(state: UnreadState, message: Message, myId: string): UnreadState {
  if (message.seq <= state.lastReadSeq || message.authorId === myId) return state;
  return {
    ...state,
    latestSeq: Math.max(state.latestSeq, message.seq),
    unread: state.unread + 1,
    mentions: state.mentions + (message.broadcast !== null ? 1 : 0),
  };
}

/** Any seq seen in the channel (other events than messages move it too). */
export function unreadAfterSeq(state: UnreadState, seq: number): UnreadState {
  return seq > state.latestSeq ? { ...state, latestSeq: seq } : state;
}

/**
 * `read.updated` (from this or another session). A marker at or past the newest seq known
 * clears the counts; one short of it leaves them unknown: `stale` asks for a fresh summary.
 */
export function unreadAfterRead(
  state: UnreadState,
  lastReadSeq: number,
): { state: UnreadState; stale: boolean } {
  if (lastReadSeq <= state.lastReadSeq) return { state, stale: false };
  if (lastReadSeq >= state.latestSeq) {
    return { state: { ...state, lastReadSeq, unread: 0, mentions: 0 }, stale: false };
  }
  return { state: { ...state, lastReadSeq }, stale: true };
}

/** An entry for a conversation that has none yet (just joined or opened): nothing unread. */
export function freshUnread(latestSeq: number): UnreadState {
  return { lastReadSeq: latestSeq, unread: 0, mentions: 0, latestSeq };
}
