/** Lists the public channels the user has not joined, each with its Join button. */

import type { Channel } from "@colink/client";
import { useEffect, useState } from "react";
import { useChat } from "../chat-context.js";
import { navigate } from "../routes.js";
import { Dialog } from "./Dialog.js";

export function BrowseChannelsDialog({ onClose }: { onClose: () => void }) {
  const { actions } = useChat();
  const [channels, setChannels] = useState<Channel[] | null>(null);

  useEffect(() => {
    let live = true;
    void actions.joinable().then((found) => live && setChannels(found));
    return () => {
      live = false;
    };
  }, [actions]);

  const join = async (channelId: string) => {
    const channel = await actions.join(channelId);
    if (!channel) return;
    onClose();
    navigate({ name: "channel", channelId: channel.id, rootId: null });
  };

  return (
    <Dialog title="Browse channels" onClose={onClose}>
      {channels === null ? (
        <p aria-busy="true">Loading channels…</p>
      ) : channels.length === 0 ? (
        <p>You are in every public channel.</p>
      ) : (
        <ul className="browse-list">
          {channels.map((c) => (
            <li key={c.id}>
              <div>
                <span className="browse-name"># {c.name}</span>
                {c.topic && <span className="browse-topic">{c.topic}</span>}
                <span className="browse-meta">
                  {c.memberCount} {c.memberCount === 1 ? "member" : "members"}
                </span>
              </div>
              <button type="button" className="button" onClick={() => void join(c.id)}>
                Join {c.name}
              </button>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
