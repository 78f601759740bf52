/** Picks when to send the composer's text (msg.schedule); a time in the past sends at once. */
import { type FormEvent, useState } from "react";
import { Dialog } from "./Dialog.js";

/** `yyyy-mm-ddThh:mm` in local time, as <input type="datetime-local"> wants it. */
function localInputValue(at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function ScheduleDialog({
  text,
  onSchedule,
  onClose,
}: {
  text: string;
  onSchedule: (sendAt: number) => Promise<boolean>;
  onClose: () => void;
}) {
  const [when, setWhen] = useState(() => localInputValue(Date.now() + 60 * 60_000));
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    event.stopPropagation();
    const sendAt = new Date(when).getTime();
    if (!Number.isFinite(sendAt)) return;
    setBusy(true);
    if (await onSchedule(sendAt)) onClose();
    else setBusy(false);
  };

  return (
    <Dialog title="Schedule message" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        {text.trim() === "" ? (
          <p>Type a message first, then schedule it.</p>
        ) : (
          <blockquote className="schedule-preview">{text}</blockquote>
        )}
        <label htmlFor="schedule-at">Send at</label>
        <input
          id="schedule-at"
          type="datetime-local"
          required
          autoFocus
          value={when}
          onChange={(e) => setWhen(e.target.value)}
        />
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy || text.trim() === ""}>
            Schedule
          </button>
        </div>
      </form>
    </Dialog>
  );
}
