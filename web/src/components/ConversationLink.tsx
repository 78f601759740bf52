/**
 * One conversation in the sidebar: its name (a DM's is the other people's), for a
 * one-to-one DM the other person's avatar (decorative) with a presence dot on its corner,
 * and the unread and mention badges (absent at 0).
 */
import { useChatState } from "../chat-context.js";
import { followLink, routePath } from "../routes.js";
import type { Conversation } from "../state/app-state.js";
import { conversationName, conversationSymbol, otherMembers } from "../state/conversation-name.js";
import { PresenceDot } from "./PresenceDot.js";
import { UserAvatar } from "./UserAvatar.js";

export function ConversationLink({ conversation, active }: { conversation: Conversation; active: boolean }) {
  const me = useChatState((s) => s.me?.id ?? "");
  const members = useChatState((s) => s.members[conversation.id]);
  const users = useChatState((s) => s.users);
  const unread = useChatState((s) => s.unread[conversation.id]);
  const others = otherMembers(members, me);
  const presenceOf = useChatState((s) => s.presence);
  const name = conversationName(conversation, members, users, me);
  const route = { name: "channel" as const, channelId: conversation.id, rootId: null };

  const unreadCount = unread?.unread ?? 0;
  const mentionCount = unread?.mentions ?? 0;
  const dmPartner = conversation.kind === "dm" ? (others[0] ?? me) : null;
  const describedBy = `conversation-about-${conversation.id}`;
  // Read out after the name (aria-describedby), so the link's name is exactly what it shows.
  const about = [
    dmPartner !== null ? (presenceOf[dmPartner] ?? "offline") : "",
    unreadCount > 0 ? `${unreadCount} unread` : "",
    mentionCount > 0 ? `${mentionCount} mentions` : "",
  ]
    .filter(Boolean)
    .join(", ");
  return (
    <>
      <a
        href={routePath(route)}
        onClick={followLink(route)}
        className={`conversation-link${unreadCount > 0 ? " has-unread" : ""}`}
        aria-current={active ? "page" : undefined}
        aria-describedby={about ? describedBy : undefined}
      >
        {dmPartner !== null ? (
          <span className="dm-avatar">
            <UserAvatar userId={dmPartner} size="inline" />
            <PresenceDot status={presenceOf[dmPartner] ?? "offline"} spoken={false} />
          </span>
        ) : (
          <span className="conversation-icon" aria-hidden="true">
            {conversationSymbol(conversation.kind)}
          </span>
        )}
        <span className="conversation-name">{name}</span>
        {mentionCount > 0 && (
          <span className="badge mention" data-testid="mention-count" aria-hidden="true">
            {mentionCount}
          </span>
        )}
        {unreadCount > 0 && (
          <span className="badge" data-testid="unread-count" aria-hidden="true">
            {unreadCount}
          </span>
        )}
      </a>
      {about && (
        <span id={describedBy} className="visually-hidden">
          {about}
        </span>
      )}
    </>
  );
}
