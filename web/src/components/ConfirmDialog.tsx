/**
 * Asks before an action that is hard to undo: what it does, Cancel, and a button named for
 * the action. The action's failure shows in the dialog, which stays open.
 */
import type { ReactNode } from "react";
import { Dialog } from "./Dialog.js";
import { DialogActions, useDialogAction } from "./DialogActions.js";

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  danger = false,
  onConfirm,
  onClose,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** Runs the action; the dialog closes when it resolves. */
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const { busy, failure, run } = useDialogAction();

  return (
    <Dialog title={title} onClose={onClose}>
      <div className="form">
        {children}
        <DialogActions failure={failure} onCancel={onClose}>
          <button
            type="button"
            className={`button ${danger ? "danger" : "primary"}`}
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await onConfirm();
                onClose();
              })
            }
          >
            {confirmLabel}
          </button>
        </DialogActions>
      </div>
    </Dialog>
  );
}
