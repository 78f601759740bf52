/** A message's earlier versions (msg.versions), for moderators and admins. */
import type { Message } from "@colink/client";
import { useEffect, useState } from "react";
import { useChat } from "../chat-context.js";
import { Dialog } from "./Dialog.js";
import { MessageText } from "./MessageText.js";

type Versions = Awaited<ReturnType<ReturnType<typeof useChat>["actions"]["versions"]>>;

export function EditHistoryDialog({ message, onClose }: { message: Message; onClose: () => void }) {
  const { actions } = useChat();
  const [versions, setVersions] = useState<Versions | null>(null);

  useEffect(() => {
    let live = true;
    void actions.versions(message).then((v) => live && setVersions(v));
    return () => {
      live = false;
    };
  }, [actions, message]);

  return (
    <Dialog title="Edit history" onClose={onClose}>
      {versions === null ? (
        <p aria-busy="true">Loading…</p>
      ) : versions.length === 0 ? (
        <p>This message was never edited.</p>
      ) : (
        <ol className="versions">
          {versions.map((v) => (
            <li key={v.version}>
              <p className="hint">
                Version {v.version}, replaced {new Date(v.editedAt).toLocaleString()}
              </p>
              <MessageText text={v.text} />
            </li>
          ))}
        </ol>
      )}
    </Dialog>
  );
}
