/**
 * The signed-in app: starts the chat (store, sync, actions) for the session's client and
 * lays out header, sidebar, conversation (or search results, or an administration page)
 * and side pane. On a narrow screen (below 700 px) only one pane shows: the sidebar on `/`,
 * the conversation, the thread, the search results or the administration page.
 */
import { useEffect, useMemo, useState } from "react";
import { type Chat, ChatContext } from "../chat-context.js";
import { useWideScreen } from "../hooks/use-wide-screen.js";
import { navigate, type Route } from "../routes.js";
import type { SessionState } from "../session/session.js";
import { AdminActions } from "../state/admin-actions.js";
import { initialAppState } from "../state/app-state.js";
import { AvatarChanger } from "../state/avatar-changer.js";
import { ChatActions } from "../state/chat-actions.js";
import { ChatSync } from "../state/chat-sync.js";
import { conversationOrder } from "../state/conversation-order.js";
import { FileLoader } from "../state/file-loader.js";
import { FileUploads } from "../state/file-uploads.js";
import { createStore, useStoreSlice } from "../state/store.js";
import { AdminView } from "./AdminView.js";
import { AppHeader } from "./AppHeader.js";
import { ChannelView } from "./ChannelView.js";
import { NoticeBar } from "./NoticeBar.js";
import { OfflineBanner } from "./OfflineBanner.js";
import { SearchResults } from "./SearchResults.js";
import { Sidebar } from "./Sidebar.js";

type SignedIn = Extract<SessionState, { status: "signedIn" }>;

export function Workspace({ session, route }: { session: SignedIn; route: Route }) {
  const { chat, sync } = useMemo(() => {
    const store = createStore(initialAppState);
    const files = new FileLoader(session.client, store);
    const sync = new ChatSync(session.client, store, files);
    const chat: Chat = {
      store,
      actions: new ChatActions(session.client, store, sync),
      admin: new AdminActions(session.client, store, sync),
      files,
      uploads: new FileUploads(session.client, store),
      avatar: new AvatarChanger(session.client, store),
    };
    return { chat, sync };
  }, [session.client]);

  useEffect(() => {
    sync.start(session.user);
    return () => sync.stop();
  }, [sync, session.user]);

  // An avatar change under way ends with the session.
  useEffect(() => () => chat.avatar.stop(), [chat]);

  const wide = useWideScreen();
  const firstConversation = useStoreSlice(chat.store, (s) => conversationOrder(s)[0] ?? null);
  const conversationsLoaded = useStoreSlice(
    chat.store,
    (s) => s.me !== null && Object.keys(s.conversations).length > 0,
  );

  // `/` opens the first conversation, except on a narrow screen where it is the sidebar.
  useEffect(() => {
    if (route.name === "home" && wide && firstConversation && conversationsLoaded) {
      navigate({ name: "channel", channelId: firstConversation, rootId: null }, { replace: true });
    }
  }, [route.name, wide, firstConversation, conversationsLoaded]);

  const channelId = route.name === "channel" ? route.channelId : null;
  const rootId = route.name === "channel" ? route.rootId : null;
  const focusSeq = route.name === "channel" ? route.focusSeq : undefined;
  const search = route.name === "search" ? route : null;
  const adminPage = route.name === "admin" ? route.page : null;
  // Each search from the box is a new run, even of the query shown (new messages may match).
  const [searchRun, setSearchRun] = useState(0);
  const runSearch = (query: string) => {
    setSearchRun((run) => run + 1);
    navigate({ name: "search", query, sort: search?.sort ?? "recent" });
  };
  const pane =
    search !== null
      ? "search"
      : adminPage !== null
        ? "admin"
        : channelId === null
          ? "sidebar"
          : rootId === null
            ? "conversation"
            : "thread";

  return (
    <ChatContext.Provider value={chat}>
      <div className={`workspace pane-${pane}`}>
        <AppHeader onSignOut={session.signOut} searchQuery={search?.query ?? null} onSearch={runSearch} />
        <OfflineBanner />
        <NoticeBar />
        <div className="workspace-body">
          <Sidebar activeChannelId={channelId} activeAdminPage={adminPage} />
          {adminPage !== null ? (
            <AdminView page={adminPage} />
          ) : search !== null ? (
            <SearchResults
              key={`${searchRun}:${search.sort}:${search.query}`}
              query={search.query}
              sort={search.sort}
            />
          ) : channelId !== null ? (
            <ChannelView key={channelId} channelId={channelId} rootId={rootId} focusSeq={focusSeq} />
          ) : (
            <main className="channel-empty">
              <h1 className="visually-hidden">Colink</h1>
              <p>Pick a conversation, or start one.</p>
            </main>
          )}
        </div>
      </div>
    </ChatContext.Provider>
  );
}
