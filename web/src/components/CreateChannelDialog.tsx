/** Creates a channel (name, topic, public or private) and opens it. */
import { type FormEvent, useState } from "react";
import { useChat } from "../chat-context.js";
import { navigate } from "../routes.js";
import { Dialog } from "./Dialog.js";

export function CreateChannelDialog({ onClose }: { onClose: () => void }) {
  const { actions } = useChat();
  const [name, setName] = useState("");
  const [topic, setTopic] = useState("");
  const [kind, setKind] = useState<"public" | "private">("public");
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const channel = await actions.createChannel(name, kind, topic.trim());
    setBusy(false);
    if (!channel) return;
    onClose();
    navigate({ name: "channel", channelId: channel.id, rootId: null });
  };

  return (
    <Dialog title="Create a channel" onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label htmlFor="new-channel-name">Name</label>
        <input
          id="new-channel-name"
          required
          autoFocus
          maxLength={80}
          pattern="[a-z0-9][a-z0-9_\-]*"
          aria-describedby="new-channel-name-hint"
          value={name}
          onChange={(e) => setName(e.target.value.toLowerCase().replace(/\s+/g, "-"))}
        />
        <p id="new-channel-name-hint" className="hint">
          Lowercase letters, digits, “-” and “_”.
        </p>
        <label htmlFor="new-channel-topic">Topic</label>
        <input
          id="new-channel-topic"
          maxLength={250}
          value={topic}
          onChange={(e) => setTopic(e.target.value)}
        />
        <fieldset className="radio-group">
          <legend>Who can join</legend>
          <label>
            <input type="radio" name="kind" checked={kind === "public"} onChange={() => setKind("public")} />
            Public
          </label>
          <label>
            <input
              type="radio"
              name="kind"
              checked={kind === "private"}
              onChange={() => setKind("private")}
            />
            Private
          </label>
        </fieldset>
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy || name === ""}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
