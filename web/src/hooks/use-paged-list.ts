/**
 * A cursor-paged list shown a page at a time (the administration pages): loads the page
 * the trail points at whenever the trail or `query` (the filters, as a key) changes, keeps
 * only the answer of the latest load, and says why a load failed.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { errorMessage } from "../logger.js";
import type { ListPage } from "../state/admin-actions.js";
import { currentCursor, firstPage, type PageTrail } from "../state/page-trail.js";

export interface PagedList<T> {
  items: T[] | null;
  nextCursor: string | null;
  trail: PageTrail;
  loading: boolean;
  error: string | null;
  /** Opens another page of the same query. */
  goTo: (trail: PageTrail) => void;
  /** Loads the current page again. */
  reload: () => void;
  /** Changes the items shown (an action's answer), without a load. */
  update: (change: (items: T[]) => T[]) => void;
}

export function usePagedList<T>(
  query: string,
  load: (cursor: string | undefined) => Promise<ListPage<T>>,
): PagedList<T> {
  const [trail, setTrail] = useState<PageTrail>(firstPage);
  const [shownQuery, setShownQuery] = useState(query);
  const [items, setItems] = useState<T[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [run, setRun] = useState(0);
  const latest = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  // A new query starts again from its first page.
  if (shownQuery !== query) {
    setShownQuery(query);
    setTrail(firstPage);
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: `run` asks for a reload; `load` is read through its ref
  useEffect(() => {
    const mine = ++latest.current;
    setLoading(true);
    setError(null);
    loadRef.current(currentCursor(trail)).then(
      (page) => {
        if (mine !== latest.current) return;
        setItems(page.items);
        setNextCursor(page.nextCursor);
        setLoading(false);
      },
      (failure: unknown) => {
        if (mine !== latest.current) return;
        setError(errorMessage(failure));
        setLoading(false);
      },
    );
  }, [trail, shownQuery, run]);

  const reload = useCallback(() => setRun((r) => r + 1), []);
  const update = useCallback((change: (items: T[]) => T[]) => setItems((held) => held && change(held)), []);
  return { items, nextCursor, trail, loading, error, goTo: setTrail, reload, update };
}
