/**
 * Previous / Next paging over a cursor-paged list (`users.list`, `flags.list`,
 * `audit.list`): the cursors that opened each page so far, the current page last. The
 * server's cursors only go forward, so going back reopens the page with the cursor kept.
 */
export interface PageTrail {
  /** The cursor each page was opened with (undefined: the first page). Never empty. */
  readonly cursors: ReadonlyArray<string | undefined>;
}

/** The first page. */
export const firstPage: PageTrail = { cursors: [undefined] };

/** The cursor that opens the current page. */
export function currentCursor(trail: PageTrail): string | undefined {
  return trail.cursors[trail.cursors.length - 1];
}

/** The current page's number, from 1. */
export function pageNumber(trail: PageTrail): number {
  return trail.cursors.length;
}

/** The page after the current one, opened with the `nextCursor` its answer gave. */
export function nextPage(trail: PageTrail, nextCursor: string): PageTrail {
  return { cursors: [...trail.cursors, nextCursor] };
}

/** The page before the current one (the first page stays the first). */
export function previousPage(trail: PageTrail): PageTrail {
  return trail.cursors.length <= 1 ? trail : { cursors: trail.cursors.slice(0, -1) };
}
