/**
 * The URL ↔ view mapping, with the History API. Every view of the app is a Route here;
 * files and administration add theirs to `Route`, `parseRoute` and `routePath`.
 */
import { type MouseEvent, useSyncExternalStore } from "react";

/** How search results are ordered (the `search` op's `sort`). */
export type SearchSort = "recent" | "relevance";

/** The administration pages: people (admins), flags (moderators and admins), the audit log (admins). */
export const adminPages = ["users", "flags", "audit"] as const;
/** One of the administration pages. */
export type AdminPage = (typeof adminPages)[number];

export type Route =
  | { name: "signin" }
  | { name: "home" }
  /**
   * A conversation, with a thread open beside it when `rootId` is set. `focusSeq` is a
   * message opened by link (a search hit): the thread's reply when `rootId` is set, else the
   * conversation's message; it is shown scrolled to and highlighted.
   */
  | { name: "channel"; channelId: string; rootId: string | null; focusSeq?: number }
  | { name: "search"; query: string; sort: SearchSort }
  | { name: "admin"; page: AdminPage }
  | { name: "notFound" };

const idPart = "([A-Za-z0-9_-]{1,64})";
const seqPart = "/m/([1-9][0-9]{0,15})";
const channelPath = new RegExp(`^/c/${idPart}(?:${seqPart})?/?$`);
const threadPath = new RegExp(`^/c/${idPart}/t/${idPart}(?:${seqPart})?/?$`);
const adminPath = new RegExp(`^/admin/(${adminPages.join("|")})/?$`);

function channelRoute(channelId: string, rootId: string | null, seq: string | undefined): Route {
  return seq === undefined
    ? { name: "channel", channelId, rootId }
    : { name: "channel", channelId, rootId, focusSeq: Number(seq) };
}

/**
 * The route of a path with its query string (`/search?q=…`); the hash is not part of it,
 * and only the search route reads the query string.
 */
export function parseRoute(path: string): Route {
  const queryAt = path.indexOf("?");
  const pathname = queryAt < 0 ? path : path.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? "" : path.slice(queryAt + 1));
  if (pathname === "/" || pathname === "") return { name: "home" };
  if (pathname === "/signin") return { name: "signin" };
  if (pathname === "/search") {
    return {
      name: "search",
      query: query.get("q") ?? "",
      sort: query.get("sort") === "relevance" ? "relevance" : "recent",
    };
  }
  const admin = pathname.match(adminPath);
  if (admin) return { name: "admin", page: admin[1] as AdminPage };
  const thread = pathname.match(threadPath);
  if (thread) return channelRoute(thread[1]!, thread[2]!, thread[3]);
  const channel = pathname.match(channelPath);
  if (channel) return channelRoute(channel[1]!, null, channel[2]);
  return { name: "notFound" };
}

/** The path of a route, with its query string. */
export function routePath(route: Route): string {
  switch (route.name) {
    case "signin":
      return "/signin";
    case "channel": {
      const base =
        route.rootId === null ? `/c/${route.channelId}` : `/c/${route.channelId}/t/${route.rootId}`;
      return route.focusSeq === undefined ? base : `${base}/m/${route.focusSeq}`;
    }
    case "search": {
      const query = new URLSearchParams({ q: route.query });
      if (route.sort !== "recent") query.set("sort", route.sort);
      return `/search?${query}`;
    }
    case "admin":
      return `/admin/${route.page}`;
    case "home":
    case "notFound":
      return "/";
  }
}

const routeChange = "colink:route";

function currentPath(): string {
  return location.pathname + location.search;
}

/** Goes to a route: a new history entry, or `replace` the current one (redirects). */
export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const path = routePath(route);
  if (path === currentPath()) return;
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  window.dispatchEvent(new Event(routeChange));
}

/**
 * The click handler of a link to a route: a plain click navigates in the app; a click with a
 * modifier key or another button is the browser's (a new tab, say).
 */
export function followLink(route: Route): (event: MouseEvent) => void {
  return (event) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(route);
  };
}

function subscribeToLocation(listener: () => void): () => void {
  window.addEventListener("popstate", listener);
  window.addEventListener(routeChange, listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener(routeChange, listener);
  };
}

/** The current path and query string, re-rendering on navigation and on the back and forward buttons. */
export function useLocationPath(): string {
  return useSyncExternalStore(subscribeToLocation, currentPath);
}
