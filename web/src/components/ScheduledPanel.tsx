/** The user's pending scheduled messages in this conversation, each with Cancel. */
import { useEffect, useState } from "react";
import { useChat } from "../chat-context.js";
import { dateTimeFormat } from "../format/time.js";
import type { ScheduledMessage } from "../state/app-state.js";
import { MessageText } from "./MessageText.js";
import { SidePanel } from "./SidePanel.js";

export function ScheduledPanel({
  channelId,
  version,
  onClose,
}: {
  channelId: string;
  /** Bumped when a message is scheduled, to read the list again. */
  version: number;
  onClose: () => void;
}) {
  const { actions } = useChat();
  const [scheduled, setScheduled] = useState<ScheduledMessage[] | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: version is the trigger to read the list again
  useEffect(() => {
    let live = true;
    void actions.scheduled(channelId).then((found) => live && setScheduled(found));
    return () => {
      live = false;
    };
  }, [actions, channelId, version]);

  const cancel = async (id: string) => {
    if (await actions.cancelScheduled(channelId, id)) setScheduled((s) => s?.filter((x) => x.id !== id) ?? s);
  };

  return (
    <SidePanel title="Scheduled messages" closeLabel="Close scheduled messages" onClose={onClose}>
      {scheduled === null ? (
        <p aria-busy="true">Loading…</p>
      ) : scheduled.length === 0 ? (
        <p className="hint">No scheduled messages. Use the clock beside Send to schedule one.</p>
      ) : (
        <ul className="panel-list">
          {scheduled.map((s) => (
            <li key={s.id}>
              <p className="panel-item-meta">
                <time dateTime={new Date(s.sendAt).toISOString()}>{dateTimeFormat.format(s.sendAt)}</time>
              </p>
              <MessageText text={s.text} />
              <button type="button" className="link-button" onClick={() => void cancel(s.id)}>
                Cancel scheduled message
              </button>
            </li>
          ))}
        </ul>
      )}
    </SidePanel>
  );
}
