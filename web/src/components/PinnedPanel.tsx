/** The conversation's pinned messages (pin.list), read again whenever a pin changes. */
import type { Message } from "@colink/client";
import { useEffect, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { userName } from "../state/conversation-name.js";
import { MessageText } from "./MessageText.js";
import { SidePanel } from "./SidePanel.js";

export function PinnedPanel({ channelId, onClose }: { channelId: string; onClose: () => void }) {
  const { actions } = useChat();
  const users = useChatState((s) => s.users);
  // The pins among the messages held: when one changes, the list is read again.
  const pinKey = useChatState((s) =>
    (s.logs[channelId]?.messages ?? [])
      .filter((m) => m.pinnedAt !== null)
      .map((m) => m.id)
      .join(","),
  );
  const [pins, setPins] = useState<Message[] | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: pinKey is the trigger to read the list again
  useEffect(() => {
    let live = true;
    void actions.pinned(channelId).then((found) => live && setPins(found));
    return () => {
      live = false;
    };
  }, [actions, channelId, pinKey]);

  return (
    <SidePanel title="Pinned messages" closeLabel="Close pinned messages" onClose={onClose}>
      {pins === null ? (
        <p aria-busy="true">Loading…</p>
      ) : pins.length === 0 ? (
        <p className="hint">Nothing is pinned yet. Pin a message to keep it here.</p>
      ) : (
        <ul className="panel-list">
          {pins.map((m) => (
            <li key={m.id}>
              <p className="panel-item-meta">{userName(users, m.authorId)}</p>
              <MessageText text={m.text} />
              <button
                type="button"
                className="link-button"
                onClick={() =>
                  void actions.togglePin(m).then(() => setPins((p) => p?.filter((x) => x.id !== m.id) ?? p))
                }
              >
                Unpin
              </button>
            </li>
          ))}
        </ul>
      )}
    </SidePanel>
  );
}
