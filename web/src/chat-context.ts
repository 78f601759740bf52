/**
 * How components reach the signed-in chat: its store (read through selectors), the
 * actions they call (the administration and moderation ones apart), the files messages
 * show, the composers' uploads and the changes of the user's avatar. Provided by the Workspace for the session's lifetime.
 */
import { createContext, useContext } from "react";
import type { AdminActions } from "./state/admin-actions.js";
import type { AppState } from "./state/app-state.js";
import type { AvatarChanger } from "./state/avatar-changer.js";
import type { ChatActions } from "./state/chat-actions.js";
import type { FileLoader } from "./state/file-loader.js";
import type { FileUploads } from "./state/file-uploads.js";
import { type Store, useStoreSlice } from "./state/store.js";

export interface Chat {
  store: Store<AppState>;
  actions: ChatActions;
  admin: AdminActions;
  files: FileLoader;
  uploads: FileUploads;
  avatar: AvatarChanger;
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
