/** A person's presence as a coloured dot, with the status as its text for screen readers. */
import type { PresenceStatus } from "../state/app-state.js";

export function PresenceDot({ status }: { status: PresenceStatus }) {
  return (
    <span className={`presence presence-${status}`} data-testid="presence" data-status={status}>
      <span className="visually-hidden">({status})</span>
    </span>
  );
}
