/**
 * What the moderation and administration dialogs share: one action at a time (`busy`), its
 * failure shown in the dialog (which stays open), and the footer with that failure, Cancel
 * and the dialog's own buttons.
 */
import { type ReactNode, useState } from "react";
import { errorMessage } from "../logger.js";

/** Runs a dialog's action: busy while it runs; a failure is kept to show, and ends busy. */
export function useDialogAction() {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setFailure(null);
    try {
      await action();
    } catch (error) {
      setFailure(errorMessage(error));
    }
    setBusy(false);
  };
  return { busy, failure, run };
}

/** The failure (if any), Cancel, then `children` (the dialog's action buttons). */
export function DialogActions({
  failure,
  onCancel,
  children,
}: {
  failure: string | null;
  onCancel: () => void;
  children: ReactNode;
}) {
  return (
    <>
      {failure && (
        <p className="form-error" role="alert">
          {failure}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        {children}
      </div>
    </>
  );
}
