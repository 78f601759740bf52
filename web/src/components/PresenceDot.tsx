/**
 * A person's presence as a coloured dot, with the status as its text for screen readers
 * (unless `spoken` is false: where the status is said elsewhere, as in a sidebar link).
 */
import type { PresenceStatus } from "../state/app-state.js";

export function PresenceDot({ status, spoken = true }: { status: PresenceStatus; spoken?: boolean }) {
  return (
    <span
      className={`presence presence-${status}`}
      data-testid="presence"
      data-status={status}
      aria-hidden={spoken ? undefined : true}
    >
      {spoken && <span className="visually-hidden">({status})</span>}
    </span>
  );
}
