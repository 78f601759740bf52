/**
 * A conversation: its heading and tools (pins, scheduled messages), the message log, who
 * is typing and the composer (files dropped on the conversation are attached to it); beside
 * it the open thread, or the pins or scheduled panel.
 * A message opened by link (`focusSeq`: the thread's reply when a thread is open) is shown.
 */
import { useEffect, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { useFileDrop } from "../hooks/use-file-drop.js";
import { navigate } from "../routes.js";
import { draftKey } from "../state/chat-actions.js";
import { conversationName } from "../state/conversation-name.js";
import { Composer } from "./Composer.js";
import { DropHint } from "./DropHint.js";
import { MessageList } from "./MessageList.js";
import { PaneHeader } from "./PaneHeader.js";
import { PinnedPanel } from "./PinnedPanel.js";
import { ScheduledPanel } from "./ScheduledPanel.js";
import { ThreadPane } from "./ThreadPane.js";
import { TypingIndicator } from "./TypingIndicator.js";

type Panel = "pins" | "scheduled" | null;

/** The side panels a channel's header opens and closes. */
const sidePanels: ReadonlyArray<{ panel: Exclude<Panel, null>; label: string }> = [
  { panel: "pins", label: "Pinned messages" },
  { panel: "scheduled", label: "Scheduled messages" },
];

export function ChannelView({
  channelId,
  rootId,
  focusSeq,
}: {
  channelId: string;
  rootId: string | null;
  focusSeq?: number;
}) {
  const { actions, uploads } = useChat();
  const drop = useFileDrop((files) => uploads.attach(draftKey(channelId, null), channelId, files));
  const conversation = useChatState((s) => s.conversations[channelId]);
  const members = useChatState((s) => s.members[channelId]);
  const users = useChatState((s) => s.users);
  const me = useChatState((s) => s.me?.id ?? "");
  const loaded = useChatState((s) => s.logs[channelId]?.loaded ?? false);
  const [panel, setPanel] = useState<Panel>(null);
  const [scheduledVersion, setScheduledVersion] = useState(0);

  // Each visit places "New messages" anew; the history loads once (again after a resync):
  // the newest messages, or those around a message opened by link.
  const messageSeq = rootId === null ? focusSeq : undefined;
  useEffect(() => {
    void actions.openConversation(channelId);
  }, [actions, channelId]);
  useEffect(() => {
    if (messageSeq !== undefined) void actions.showMessage(channelId, messageSeq);
    else if (!loaded) void actions.loadLatest(channelId);
  }, [actions, channelId, loaded, messageSeq]);

  // A thread takes the side pane: opening one closes the pins or scheduled panel.
  useEffect(() => {
    if (rootId !== null) setPanel(null);
  }, [rootId]);

  const togglePanel = (which: Exclude<Panel, null>) => {
    if (rootId !== null) navigate({ name: "channel", channelId, rootId: null });
    setPanel((p) => (p === which ? null : which));
  };

  const name = conversation ? conversationName(conversation, members, users, me) : "Conversation";

  return (
    <div className={`conversation-area${rootId !== null || panel !== null ? " with-side" : ""}`}>
      <main
        className={`channel${drop.dragging ? " dragging" : ""}`}
        aria-labelledby="channel-heading"
        {...drop.handlers}
      >
        {drop.dragging && <DropHint />}
        <PaneHeader headingId="channel-heading" title={name} subtitle={conversation?.topic}>
          <div className="channel-tools">
            {sidePanels.map((option) => (
              <button
                key={option.panel}
                type="button"
                className="button subtle small"
                aria-pressed={panel === option.panel}
                onClick={() => togglePanel(option.panel)}
              >
                {option.label}
              </button>
            ))}
          </div>
        </PaneHeader>
        <MessageList channelId={channelId} focusSeq={messageSeq} />
        <TypingIndicator channelId={channelId} threadRootId={null} />
        <Composer
          channelId={channelId}
          threadRootId={null}
          label={`Message ${name}`}
          onScheduled={() => setScheduledVersion((v) => v + 1)}
        />
      </main>
      {rootId !== null ? (
        <ThreadPane key={rootId} channelId={channelId} rootId={rootId} focusSeq={focusSeq} />
      ) : panel === "pins" ? (
        <PinnedPanel channelId={channelId} onClose={() => setPanel(null)} />
      ) : panel === "scheduled" ? (
        <ScheduledPanel channelId={channelId} version={scheduledVersion} onClose={() => setPanel(null)} />
      ) : null}
    </div>
  );
}
