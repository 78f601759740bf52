/**
 * Applies one event of a subscribed channel (`ch:<id>`, delivered in seq order by the SDK)
 * to the app's state: the conversation's log, its open threads, unread counts and typing.
 */
import type { Channel, Message } from "@colink/client";
import type { AppState, HeldMessage, ThreadLog } from "./app-state.js";
import {
  addConfirmed,
  changeMessage,
  type ThreadSummary,
  withDeletion,
  withEdit,
  withReaction,
  withThreadSummary,
} from "./message-log.js";
import { withoutTypist, withTyping } from "./typing.js";
import { freshUnread, unreadAfterMessage, unreadAfterSeq } from "./unread.js";

/** Changes a message wherever it is held: the conversation's log, a thread, a thread's root. */
function changeEverywhere(
  state: AppState,
  channelId: string,
  messageId: string,
  fn: (m: HeldMessage) => HeldMessage,
): AppState {
  const log = state.logs[channelId];
  const logs = log ? { ...state.logs, [channelId]: changeMessage(log, messageId, fn) } : state.logs;
  let threads = state.threads;
  for (const [rootId, thread] of Object.entries(state.threads)) {
    if (thread.root?.channelId !== channelId) continue;
    const changed: ThreadLog = changeMessage(thread, messageId, fn);
    const root = thread.root.id === messageId ? fn(thread.root) : thread.root;
    if (changed.messages !== thread.messages || root !== thread.root) {
      threads = { ...threads, [rootId]: { ...changed, root } };
    }
  }
  return { ...state, logs, threads };
}

/** A new message: into its conversation's log, or into its open thread. */
function withCreated(state: AppState, channelId: string, message: Message): AppState {
  const me = state.me?.id ?? "";
  let next = state;
  if (message.threadRootId === null) {
    const log = state.logs[channelId];
    if (log?.loaded) next = { ...next, logs: { ...next.logs, [channelId]: addConfirmed(log, message) } };
  } else {
    const thread = state.threads[message.threadRootId];
    if (thread?.loaded) {
      next = { ...next, threads: { ...next.threads, [message.threadRootId]: addConfirmed(thread, message) } };
    }
  }
  const unread = state.unread[channelId];
  if (unread)
    next = { ...next, unread: { ...next.unread, [channelId]: unreadAfterMessage(unread, message, me) } };
  const typing = state.typing[channelId];
  if (typing)
    next = { ...next, typing: { ...next.typing, [channelId]: withoutTypist(typing, message.authorId) } };
  return next;
}

function withSeq(state: AppState, channelId: string, seq: number): AppState {
  const unread = state.unread[channelId];
  if (!unread) return state;
  const moved = unreadAfterSeq(unread, seq);
  return moved === unread ? state : { ...state, unread: { ...state.unread, [channelId]: moved } };
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number => (typeof v === "number" ? v : 0);

/** Applies one channel event. Unknown types change nothing but the newest seq. */
export function applyChannelEvent(
  state: AppState,
  channelId: string,
  type: string,
  data: Record<string, unknown>,
): AppState {
  const seq = num(data.seq);
  const me = state.me?.id ?? "";
  let next = seq > 0 ? withSeq(state, channelId, seq) : state;
  switch (type) {
    case "message.created":
      return withCreated(next, channelId, data.message as Message);
    case "message.updated": {
      const edited = data.message as Message;
      return changeEverywhere(next, channelId, edited.id, (m) => withEdit(m, edited));
    }
    case "message.deleted":
      return changeEverywhere(next, channelId, str(data.messageId), (m) =>
        withDeletion(m, num(data.deletedAt)),
      );
    case "reaction.added":
    case "reaction.removed": {
      const delta = type === "reaction.added" ? 1 : -1;
      const byMe = data.userId === me;
      return changeEverywhere(next, channelId, str(data.messageId), (m) =>
        withReaction(m, str(data.emoji), delta, byMe),
      );
    }
    case "thread.updated": {
      const summary: ThreadSummary = {
        replyCount: num(data.replyCount),
        lastReplyAt: typeof data.lastReplyAt === "number" ? data.lastReplyAt : null,
        threadParticipants: Array.isArray(data.threadParticipants)
          ? (data.threadParticipants as string[])
          : [],
      };
      return changeEverywhere(next, channelId, str(data.rootId), (m) => withThreadSummary(m, summary));
    }
    case "pin.added":
      return changeEverywhere(next, channelId, str(data.messageId), (m) => ({
        ...m,
        pinnedAt: m.pinnedAt ?? Date.now(),
        pinnedBy: m.pinnedBy ?? str(data.by),
      }));
    case "pin.removed":
      return changeEverywhere(next, channelId, str(data.messageId), (m) => ({
        ...m,
        pinnedAt: null,
        pinnedBy: null,
      }));
    case "channel.updated": {
      const channel = data.channel as Channel;
      const held = next.conversations[channelId];
      if (!held) return next;
      return { ...next, conversations: { ...next.conversations, [channelId]: { ...held, ...channel } } };
    }
    case "member.joined":
      if (data.userId === me && !next.unread[channelId]) {
        next = { ...next, unread: { ...next.unread, [channelId]: freshUnread(seq) } };
      }
      return next;
    case "typing": {
      const userId = str(data.userId);
      const entry = {
        userId,
        expiresAt: num(data.expiresAt),
        threadRootId: typeof data.threadRootId === "string" ? data.threadRootId : null,
      };
      return {
        ...next,
        typing: { ...next.typing, [channelId]: withTyping(next.typing[channelId] ?? [], entry) },
      };
    }
    default:
      return next;
  }
}
