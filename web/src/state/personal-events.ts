/**
 * Applies one event of the user's personal topic (`u:<userId>`): new DMs, mentions, thread
 * replies, read markers moved by any session, presence and profile changes. These events are
 * not replayed after a reconnect, which is why the app refreshes its lists then.
 */
import type { Channel, Message, User } from "@colink/client";
import type { AppState, PresenceStatus } from "./app-state.js";
import { freshUnread, unreadAfterMention, unreadAfterRead, unreadAfterThreadReply } from "./unread.js";

/** The new state, and whether the unread counts must be asked again (`unread.summary`). */
export interface PersonalEventOutcome {
  state: AppState;
  refreshUnread: boolean;
}

function withUnread(
  state: AppState,
  channelId: string,
  change: (u: NonNullable<AppState["unread"][string]>) => AppState["unread"][string],
): AppState {
  const held = state.unread[channelId];
  if (!held) return state;
  const next = change(held);
  return next === held ? state : { ...state, unread: { ...state.unread, [channelId]: next! } };
}

/** Applies one personal event. */
export function applyPersonalEvent(
  state: AppState,
  type: string,
  data: Record<string, unknown>,
): PersonalEventOutcome {
  const me = state.me?.id ?? "";
  switch (type) {
    case "dm.opened": {
      const channel = data.channel as Channel;
      if (state.conversations[channel.id]) return { state, refreshUnread: false };
      return {
        state: {
          ...state,
          conversations: { ...state.conversations, [channel.id]: { ...channel, myRole: "member" } },
          unread: { ...state.unread, [channel.id]: state.unread[channel.id] ?? freshUnread(0) },
        },
        refreshUnread: false,
      };
    }
    case "mention": {
      const message = data.message as Message;
      return {
        state: withUnread(state, message.channelId, (u) => unreadAfterMention(u, message, me)),
        refreshUnread: false,
      };
    }
    case "thread.reply": {
      const message = data.message as Message;
      return {
        state: withUnread(state, message.channelId, (u) => unreadAfterThreadReply(u, message, me)),
        refreshUnread: false,
      };
    }
    case "read.updated": {
      if (typeof data.threadRootId === "string") return { state, refreshUnread: false };
      const channelId = String(data.channelId);
      const held = state.unread[channelId];
      if (!held) return { state, refreshUnread: true };
      const moved = unreadAfterRead(held, Number(data.lastReadSeq));
      return {
        state: { ...state, unread: { ...state.unread, [channelId]: moved.state } },
        refreshUnread: moved.stale,
      };
    }
    case "presence.updated": {
      const userId = String(data.userId);
      return {
        state: { ...state, presence: { ...state.presence, [userId]: data.status as PresenceStatus } },
        refreshUnread: false,
      };
    }
    case "user.updated": {
      const user = data.user as User;
      return {
        state: { ...state, me: user, users: { ...state.users, [user.id]: user } },
        refreshUnread: false,
      };
    }
    default:
      return { state, refreshUnread: false };
  }
}
