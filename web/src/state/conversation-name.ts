/**
 * What a conversation is called in the sidebar and its heading: a channel's name, or for a
 * DM the other people's names (the user's own name for a DM with themselves).
 */
import type { User } from "@colink/client";
import type { Conversation } from "./app-state.js";

/** The name shown for a user: their display name, else their username, else their id. */
export function userName(users: Record<string, User>, userId: string): string {
  const user = users[userId];
  return user?.displayName || user?.username || userId;
}

export function isDirect(conversation: Pick<Conversation, "kind">): boolean {
  return conversation.kind === "dm" || conversation.kind === "group_dm";
}

export function conversationName(
  conversation: Conversation,
  members: readonly string[] | undefined,
  users: Record<string, User>,
  myId: string,
): string {
  if (!isDirect(conversation)) return conversation.name;
  if (!members || members.length === 0) return "Direct message";
  const others = members.filter((id) => id !== myId);
  return (others.length > 0 ? others : [myId])
    .map((id) => userName(users, id))
    .sort((a, b) => a.localeCompare(b))
    .join(", ");
}

/** The people of a DM other than the user (for presence dots). */
export function otherMembers(members: readonly string[] | undefined, myId: string): string[] {
  return (members ?? []).filter((id) => id !== myId);
}

/** The symbol shown before a conversation's name: # for a public channel, a lock for a private one. */
export function conversationSymbol(kind: Conversation["kind"]): string {
  return kind === "private" ? "🔒" : kind === "group_dm" ? "👥" : kind === "dm" ? "@" : "#";
}
