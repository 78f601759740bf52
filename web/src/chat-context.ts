/**
 * How components reach the signed-in chat: its store (read through selectors) and the
 * actions they call. Provided by the Workspace for the session's lifetime.
 */
import { createContext, useContext } from "react";
import type { AppState } from "./state/app-state.js";
import type { ChatActions } from "./state/chat-actions.js";
import { type Store, useStoreSlice } from "./state/store.js";

export interface Chat {
  store: Store<AppState>;
  actions: ChatActions;
}

export const ChatContext = createContext<Chat | null>(null);

export function useChat(): Chat {
  const chat = useContext(ChatContext);
  if (!chat) throw new Error("useChat outside the Workspace");
  return chat;
}

/** A slice of the chat's state; `select` must return something held in the state. */
export function useChatState<T>(select: (state: AppState) => T): T {
  return useStoreSlice(useChat().store, select);
}
