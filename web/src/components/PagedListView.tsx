/**
 * A paged list on an administration page: why it failed to load, Loading…, or what it
 * says when empty; else its items as `children` draws them; and the Pager under it.
 */
import type { ReactNode } from "react";
import type { PagedList } from "../hooks/use-paged-list.js";
import { Pager } from "./Pager.js";

export function PagedListView<T>({
  list,
  failure,
  empty,
  pagerLabel,
  children,
}: {
  list: PagedList<T>;
  /** What failed, before the reason: "Could not list users". */
  failure: string;
  /** What an empty list says: "Nobody found." */
  empty: string;
  /** What is paged, for the pager's name: "User pages". */
  pagerLabel: string;
  children: (items: T[]) => ReactNode;
}) {
  return (
    <>
      {list.error && (
        <p className="search-error" role="alert">
          {failure}: {list.error}
        </p>
      )}
      {list.items === null && list.loading && (
        <p className="list-note" aria-busy="true">
          Loading…
        </p>
      )}
      {list.items !== null && list.items.length === 0 && !list.loading && (
        <p className="list-note">{empty}</p>
      )}
      {list.items !== null && list.items.length > 0 && children(list.items)}
      <Pager
        label={pagerLabel}
        trail={list.trail}
        nextCursor={list.nextCursor}
        busy={list.loading}
        onPage={list.goTo}
      />
    </>
  );
}
