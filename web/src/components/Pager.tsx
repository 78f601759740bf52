/** Previous / Next under a paged list, with the page's number between them. */
import { currentCursor, nextPage, type PageTrail, pageNumber, previousPage } from "../state/page-trail.js";

export function Pager({
  trail,
  nextCursor,
  busy,
  onPage,
  label,
}: {
  trail: PageTrail;
  /** The cursor of the page after the one shown; null on the last page. */
  nextCursor: string | null;
  busy: boolean;
  onPage: (trail: PageTrail) => void;
  /** What is paged, for the group's name: "Audit log pages". */
  label: string;
}) {
  const first = currentCursor(trail) === undefined;
  if (first && nextCursor === null) return null;
  return (
    <fieldset className="pager">
      <legend className="visually-hidden">{label}</legend>
      <button
        type="button"
        className="button small"
        disabled={busy || first}
        onClick={() => onPage(previousPage(trail))}
      >
        Previous
      </button>
      <span className="hint">Page {pageNumber(trail)}</span>
      <button
        type="button"
        className="button small"
        disabled={busy || nextCursor === null}
        onClick={() => nextCursor !== null && onPage(nextPage(trail, nextCursor))}
      >
        Next
      </button>
    </fieldset>
  );
}
