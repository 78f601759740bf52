/**
 * The sidebar's order: channels (public and private) by name, then direct messages by
 * the names shown for them. The first of them is where `/` goes.
 */
import type { AppState, Conversation } from "./app-state.js";
import { conversationName, isDirect } from "./conversation-name.js";

export interface ConversationGroups {
  channels: Conversation[];
  direct: Conversation[];
}

const byName = (state: AppState) => (a: Conversation, b: Conversation) => {
  const me = state.me?.id ?? "";
  const an = conversationName(a, state.members[a.id], state.users, me);
  const bn = conversationName(b, state.members[b.id], state.users, me);
  return an.localeCompare(bn) || a.id.localeCompare(b.id);
};

export function groupConversations(state: AppState): ConversationGroups {
  const all = Object.values(state.conversations).filter((c) => !c.archived);
  return {
    channels: all.filter((c) => !isDirect(c)).sort(byName(state)),
    direct: all.filter(isDirect).sort(byName(state)),
  };
}

/** The ids in sidebar order. */
export function conversationOrder(state: AppState): string[] {
  const { channels, direct } = groupConversations(state);
  return [...channels, ...direct].map((c) => c.id);
}
