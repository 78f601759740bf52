/** Whether the window is wide enough (700 px) for the panes side by side. */
import { useSyncExternalStore } from "react";

const query = "(min-width: 700px)";

function subscribe(listener: () => void): () => void {
  const media = window.matchMedia(query);
  media.addEventListener("change", listener);
  return () => media.removeEventListener("change", listener);
}

export function useWideScreen(): boolean {
  return useSyncExternalStore(subscribe, () => window.matchMedia(query).matches);
}
