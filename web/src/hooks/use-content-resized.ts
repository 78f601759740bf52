/**
 * How something inside a message list tells the list that it grew after it was rendered
 * (a file's card or thumbnail arriving), so a list kept at its newest message stays there.
 * Outside a list it does nothing.
 */
import { createContext, useContext } from "react";

export const ContentResizedContext = createContext<() => void>(() => {});

export function useContentResized(): () => void {
  return useContext(ContentResizedContext);
}
