/**
 * The conversations: channels, then direct messages, each a link with its unread and
 * mention badges; and the buttons that create, browse and start conversations. Below them,
 * for moderators and admins, the administration menu.
 */
import { useMemo, useState } from "react";
import { useChatState } from "../chat-context.js";
import type { AdminPage } from "../routes.js";
import { groupConversations } from "../state/conversation-order.js";
import { AdminNav } from "./AdminNav.js";
import { BrowseChannelsDialog } from "./BrowseChannelsDialog.js";
import { ConversationLink } from "./ConversationLink.js";
import { CreateChannelDialog } from "./CreateChannelDialog.js";
import { IconButton } from "./IconButton.js";
import { NewMessageDialog } from "./NewMessageDialog.js";

type OpenDialog = "create" | "browse" | "direct" | null;

export function Sidebar({
  activeChannelId,
  activeAdminPage,
}: {
  activeChannelId: string | null;
  activeAdminPage: AdminPage | null;
}) {
  const conversations = useChatState((s) => s.conversations);
  const members = useChatState((s) => s.members);
  const users = useChatState((s) => s.users);
  const me = useChatState((s) => s.me);
  const [dialog, setDialog] = useState<OpenDialog>(null);

  const groups = useMemo(
    () =>
      groupConversations({ conversations, members, users, me } as Parameters<typeof groupConversations>[0]),
    [conversations, members, users, me],
  );

  return (
    <div className="sidebar">
      <nav aria-label="Conversations">
        <div className="sidebar-section">
          <div className="sidebar-heading">
            <h2 id="channels-heading">Channels</h2>
            <div className="sidebar-tools">
              <IconButton label="Browse channels" icon="⌕" onClick={() => setDialog("browse")} />
              <IconButton label="Create channel" icon="+" onClick={() => setDialog("create")} />
            </div>
          </div>
          <ul aria-labelledby="channels-heading">
            {groups.channels.map((c) => (
              <li key={c.id}>
                <ConversationLink conversation={c} active={c.id === activeChannelId} />
              </li>
            ))}
          </ul>
        </div>
        <div className="sidebar-section">
          <div className="sidebar-heading">
            <h2 id="direct-heading">Direct messages</h2>
            <div className="sidebar-tools">
              <IconButton label="New message" icon="✎" onClick={() => setDialog("direct")} />
            </div>
          </div>
          <ul aria-labelledby="direct-heading">
            {groups.direct.map((c) => (
              <li key={c.id}>
                <ConversationLink conversation={c} active={c.id === activeChannelId} />
              </li>
            ))}
          </ul>
        </div>
        {dialog === "create" && <CreateChannelDialog onClose={() => setDialog(null)} />}
        {dialog === "browse" && <BrowseChannelsDialog onClose={() => setDialog(null)} />}
        {dialog === "direct" && <NewMessageDialog onClose={() => setDialog(null)} />}
      </nav>
      <AdminNav activePage={activeAdminPage} />
    </div>
  );
}
