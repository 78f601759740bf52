/**
 * Asks for a reason (or a note) before a moderation action: what the action is about, a
 * text field `label`, and the action's button. With `doneText` the dialog stays open after
 * the action and says so; otherwise it closes. A failure shows in the dialog.
 */
import { type FormEvent, type ReactNode, useId, useState } from "react";
import { Dialog } from "./Dialog.js";
import { DialogActions, useDialogAction } from "./DialogActions.js";

/** The longest reason the server takes (`msg.remove`, `msg.flag`). */
export const maxReasonLength = 500;

export function ReasonDialog({
  title,
  children,
  label = "Reason",
  submitLabel,
  required = true,
  danger = false,
  doneText,
  onSubmit,
  onClose,
}: {
  title: string;
  /** What the action is about (the message, say), above the field. */
  children?: ReactNode;
  label?: string;
  submitLabel: string;
  required?: boolean;
  danger?: boolean;
  doneText?: string;
  onSubmit: (reason: string) => Promise<void>;
  onClose: () => void;
}) {
  const fieldId = useId();
  const [reason, setReason] = useState("");
  const { busy, failure, run } = useDialogAction();
  const [done, setDone] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await onSubmit(reason);
      if (doneText === undefined) onClose();
      else setDone(true);
    });
  };

  return (
    <Dialog title={title} onClose={onClose}>
      {done ? (
        <div className="form">
          <p role="status">{doneText}</p>
          <div className="form-actions">
            <button type="button" className="button primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form className="form" onSubmit={submit}>
          {children}
          <label htmlFor={fieldId}>
            {label}
            {!required && <span className="hint"> (optional)</span>}
          </label>
          <textarea
            id={fieldId}
            rows={3}
            required={required}
            maxLength={maxReasonLength}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
          <DialogActions failure={failure} onCancel={onClose}>
            <button
              type="submit"
              className={`button ${danger ? "danger" : "primary"}`}
              disabled={busy || (required && reason.trim() === "")}
            >
              {submitLabel}
            </button>
          </DialogActions>
        </form>
      )}
    </Dialog>
  );
}
