/** Edits a message in place: Enter saves, Shift+Enter a new line, Esc cancels. */
import { type KeyboardEvent, useState } from "react";

export function MessageEditor({
  initial,
  onSave,
  onCancel,
}: {
  initial: string;
  onSave: (text: string) => Promise<boolean>;
  onCancel: () => void;
}) {
  const [text, setText] = useState(initial);
  const [busy, setBusy] = useState(false);

  const save = async () => {
    const trimmed = text.trim();
    if (trimmed === "" || busy) return;
    if (trimmed === initial) return onCancel();
    setBusy(true);
    if (await onSave(trimmed)) onCancel();
    else setBusy(false);
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onCancel();
    } else if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void save();
    }
  };

  return (
    <div className="message-editor">
      <textarea
        aria-label="Edit message text"
        // biome-ignore lint/a11y/noAutofocus: the user asked to edit this message; the field is where they type
        autoFocus
        value={text}
        rows={Math.min(8, text.split("\n").length + 1)}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="form-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="button primary" onClick={() => void save()} disabled={busy}>
          Save
        </button>
      </div>
    </div>
  );
}
