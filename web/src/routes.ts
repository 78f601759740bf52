/**
 * The URL ↔ view mapping, with the History API. Every view of the app is a Route here;
 * search, files and administration add theirs to `Route`, `parseRoute` and `routePath`.
 */
import { useSyncExternalStore } from "react";

export type Route =
  | { name: "signin" }
  | { name: "signinCallback" }
  | { name: "home" }
  | { name: "channel"; channelId: string; rootId: string | null }
  | { name: "notFound" };

const idPart = "([A-Za-z0-9_-]{1,64})";
const channelPath = new RegExp(`^/c/${idPart}/?$`);
const threadPath = new RegExp(`^/c/${idPart}/t/${idPart}/?$`);

/** The route of a path (the query string and hash are not part of it). */
export function parseRoute(pathname: string): Route {
  if (pathname === "/" || pathname === "") return { name: "home" };
  if (pathname === "/signin") return { name: "signin" };
  if (pathname === "/signin/callback") return { name: "signinCallback" };
  const thread = pathname.match(threadPath);
  if (thread) return { name: "channel", channelId: thread[1]!, rootId: thread[2]! };
  const channel = pathname.match(channelPath);
  if (channel) return { name: "channel", channelId: channel[1]!, rootId: null };
  return { name: "notFound" };
}

/** The path of a route. */
export function routePath(route: Route): string {
  switch (route.name) {
    case "signin":
      return "/signin";
    case "signinCallback":
      return "/signin/callback";
    case "channel":
      return route.rootId === null ? `/c/${route.channelId}` : `/c/${route.channelId}/t/${route.rootId}`;
    case "home":
    case "notFound":
      return "/";
  }
}

const routeChange = "colink:route";

/** Goes to a route: a new history entry, or `replace` the current one (redirects). */
export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const path = routePath(route);
  if (path === location.pathname) return;
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  window.dispatchEvent(new Event(routeChange));
}

function subscribeToLocation(listener: () => void): () => void {
  window.addEventListener("popstate", listener);
  window.addEventListener(routeChange, listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener(routeChange, listener);
  };
}

/** The current path, re-rendering on navigation and on the back and forward buttons. */
export function usePathname(): string {
  return useSyncExternalStore(subscribeToLocation, () => location.pathname);
}
