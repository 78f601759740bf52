/**
 * Resolves a flag (`flag.resolve`): the flagged message and the reporter's reason, an
 * optional note, and the two outcomes: Remove message (the message is removed for everyone,
 * with the note, else the flag's reason, as the removal's reason) or Dismiss flag.
 */
import { type FormEvent, useState } from "react";
import { useChat } from "../chat-context.js";
import type { Flag, FlagResolution } from "../state/admin-types.js";
import { Dialog } from "./Dialog.js";
import { DialogActions, useDialogAction } from "./DialogActions.js";
import { FlaggedMessage } from "./FlaggedMessage.js";
import { maxReasonLength } from "./ReasonDialog.js";

export function ResolveFlagDialog({
  flag,
  onResolved,
  onClose,
}: {
  flag: Flag;
  onResolved: (flag: Flag) => void;
  onClose: () => void;
}) {
  const { admin } = useChat();
  const [note, setNote] = useState("");
  const { busy, failure, run } = useDialogAction();

  const resolve = (resolution: FlagResolution) =>
    run(async () => {
      onResolved(await admin.resolveFlag(flag.id, resolution, note));
      onClose();
    });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void resolve("dismissed");
  };

  return (
    <Dialog title="Resolve flag" onClose={onClose} className="wide-dialog">
      <form className="form" onSubmit={submit}>
        <FlaggedMessage flag={flag} />
        <label htmlFor="resolve-note">
          Note<span className="hint"> (optional)</span>
        </label>
        <textarea
          id="resolve-note"
          rows={2}
          maxLength={maxReasonLength}
          value={note}
          onChange={(e) => setNote(e.target.value)}
        />
        <DialogActions failure={failure} onCancel={onClose}>
          <button type="submit" className="button" disabled={busy}>
            Dismiss flag
          </button>
          <button
            type="button"
            className="button danger"
            disabled={busy}
            onClick={() => void resolve("removed")}
          >
            Remove message
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
