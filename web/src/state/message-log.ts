/**
 * Pure changes to a log of messages (a conversation's or a thread's): history pages,
 * optimistic sends reconciled by clientMsgId, and the channel events that change a message
 * the app holds. Each returns a new log, or the same one when nothing changed.
 */
import { type Message, newMessage } from "@colink/client";
import type { HeldMessage, MessageLog } from "./app-state.js";

/** The newest messages kept per log: older ones are dropped and reloaded on scroll. */
export const maxHeldMessages = 3000;

function isPending(m: HeldMessage): boolean {
  return m.pending !== undefined;
}

/** Puts acknowledged messages in seq order, pending ones after, and bounds the log. */
function arrange<L extends MessageLog>(log: L, messages: HeldMessage[]): L {
  const confirmed = messages.filter((m) => !isPending(m)).sort((a, b) => a.seq - b.seq);
  const pending = messages.filter(isPending);
  const dropped = Math.max(0, confirmed.length - maxHeldMessages);
  return {
    ...log,
    messages: [...confirmed.slice(dropped), ...pending],
    hasOlder: log.hasOlder || dropped > 0,
  };
}

/**
 * Adds a page of history. A page of the newest messages says whether older ones exist; a
 * page of older ones replaces that answer with its own.
 */
export function addHistory<L extends MessageLog>(log: L, page: Message[], hasOlder: boolean): L {
  const known = new Set(log.messages.map((m) => m.id));
  const fresh = page.filter((m) => !known.has(m.id));
  const oldestHeld = log.messages.find((m) => !isPending(m));
  const reachesOlder = oldestHeld === undefined || page.some((m) => m.seq < oldestHeld.seq);
  const base = { ...log, loaded: true, hasOlder: reachesOlder ? hasOlder : log.hasOlder };
  return arrange(base, [...log.messages, ...fresh]);
}

/** A page of the messages after the newest held (scrolling down a window): says whether more follow. */
export function addNewerHistory<L extends MessageLog>(log: L, page: Message[], hasNewer: boolean): L {
  return { ...addHistory(log, page, log.hasOlder), hasNewer };
}

/**
 * A window around an older message, in place of what the log held: the page up to it and
 * the page after it, each saying whether more lie beyond. Our pending messages stay.
 */
export function historyAround<L extends MessageLog>(
  log: L,
  older: { messages: Message[]; hasMore: boolean },
  newer: { messages: Message[]; hasMore: boolean },
): L {
  const byId = new Map([...older.messages, ...newer.messages].map((m) => [m.id, m]));
  const base = { ...log, loaded: true, hasOlder: older.hasMore, hasNewer: newer.hasMore };
  return arrange(base, [...byId.values(), ...log.messages.filter(isPending)]);
}

/**
 * Whether the log holds the stretch of history where the message `seq` is (if it is
 * top-level). Past the newest held it does not: the log of a channel one does not follow
 * (a public channel opened from a search) is not kept up to date.
 */
export function coversSeq(log: MessageLog, seq: number): boolean {
  const confirmed = log.messages.filter((m) => !isPending(m));
  const oldest = confirmed[0]?.seq;
  const newest = confirmed.at(-1)?.seq;
  if (!log.loaded || oldest === undefined || newest === undefined) return false;
  return (seq >= oldest || !log.hasOlder) && seq <= newest;
}

/** Shows a message of ours at once, before the server has it. */
export function addPending<L extends MessageLog>(log: L, message: HeldMessage): L {
  return { ...log, messages: [...log.messages, { ...message, pending: "sending" }] };
}

/**
 * A message the server has: from the ack of our send or from `message.created`, whichever
 * comes first. It replaces our pending copy (same author and clientMsgId); a message already
 * held is kept as it is, since later events may have changed it since.
 */
export function addConfirmed<L extends MessageLog>(log: L, message: Message): L {
  const withoutPending = log.messages.filter(
    (m) => !(isPending(m) && m.clientMsgId === message.clientMsgId && m.authorId === message.authorId),
  );
  if (withoutPending.some((m) => m.id === message.id) || beyondWindow(log, message)) {
    return withoutPending.length === log.messages.length ? log : { ...log, messages: withoutPending };
  }
  return arrange(log, [...withoutPending, message]);
}

/** A message past the end of a window: it comes with the newer pages, so no gap opens before it. */
function beyondWindow(log: MessageLog, message: Message): boolean {
  if (!log.hasNewer) return false;
  const newest = log.messages.filter((m) => !isPending(m)).at(-1);
  return newest === undefined || message.seq > newest.seq;
}

/** Marks our pending message as failed for good (it gets a Retry button) or as sending again. */
export function setPendingState<L extends MessageLog>(
  log: L,
  clientMsgId: string,
  state: "sending" | "failed",
): L {
  return mapMessages(log, (m) =>
    isPending(m) && m.clientMsgId === clientMsgId ? { ...m, pending: state } : m,
  );
}

/** Applies `fn` to every held message; keeps the same log when nothing changed. */
function mapMessages<L extends MessageLog>(log: L, fn: (m: HeldMessage) => HeldMessage): L {
  let changed = false;
  const messages = log.messages.map((m) => {
    const next = fn(m);
    if (next !== m) changed = true;
    return next;
  });
  return changed ? { ...log, messages } : log;
}

/** Changes the message with this id, if held. */
export function changeMessage<L extends MessageLog>(
  log: L,
  id: string,
  fn: (m: HeldMessage) => HeldMessage,
): L {
  return mapMessages(log, (m) => (m.id === id ? fn(m) : m));
}

/**
 * `message.updated` carries the full message, but its reactions say `me: false` for
 * everyone: keep which reactions are ours from the copy held.
 */
export function withEdit(held: HeldMessage, edited: Message): HeldMessage {
  const mine = new Set(held.reactions.filter((r) => r.me).map((r) => r.emoji));
  return { ...edited, reactions: edited.reactions.map((r) => ({ ...r, me: mine.has(r.emoji) })) };
}

/** `message.deleted`: the text, mentions, reactions and pin go (as the server does). */
export function withDeletion(held: HeldMessage, deletedAt: number): HeldMessage {
  return {
    ...held,
    text: "",
    deletedAt,
    mentions: [],
    broadcast: null,
    reactions: [],
    pinnedAt: null,
    pinnedBy: null,
  };
}

/** `reaction.added` (delta 1) or `reaction.removed` (delta -1) by `userId`. */
export function withReaction(held: HeldMessage, emoji: string, delta: 1 | -1, byMe: boolean): HeldMessage {
  const existing = held.reactions.find((r) => r.emoji === emoji);
  if (!existing) {
    if (delta < 0) return held;
    return { ...held, reactions: [...held.reactions, { emoji, count: 1, me: byMe }] };
  }
  const reactions = held.reactions
    .map((r) => (r.emoji === emoji ? { ...r, count: r.count + delta, me: byMe ? delta > 0 : r.me } : r))
    .filter((r) => r.count > 0);
  return { ...held, reactions };
}

/** The thread fields of a root, as `thread.updated` carries them. */
export interface ThreadSummary {
  replyCount: number;
  lastReplyAt: number | null;
  threadParticipants: string[];
}

/** `thread.updated`: the root's new reply count, last reply time and participants. */
export function withThreadSummary(held: HeldMessage, summary: ThreadSummary): HeldMessage {
  return { ...held, ...summary };
}

/** Our message as shown before the server has it: no id or seq yet, keyed by clientMsgId. */
export function pendingMessage(
  authorId: string,
  channelId: string,
  text: string,
  clientMsgId: string,
  threadRootId: string | null,
  now: number,
): HeldMessage {
  const id = `pending-${clientMsgId}`;
  const fields = { id, channelId, seq: 0, authorId, text, clientMsgId, createdAt: now, threadRootId };
  return { ...newMessage(fields), pending: "sending" };
}
