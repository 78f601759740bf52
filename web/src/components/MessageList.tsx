/**
 * The scrolling log of a conversation's messages: loads older pages when scrolled to the
 * top (keeping the view still), sticks to the bottom as messages arrive, shows the
 * "New messages" separator and a button to jump to it, and marks the conversation read
 * when its newest message is in view while the page is visible and focused. A message
 * opened by link (`focusSeq`) is scrolled to and highlighted; when the log is a window
 * around it, newer pages load as one scrolls to the bottom. A message that grows after it
 * shows (a file's thumbnail arriving) keeps the list at its end when it was there.
 */
import { Fragment, useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { ContentResizedContext } from "../hooks/use-content-resized.js";
import { useFocusedMessage } from "../hooks/use-focused-message.js";
import { emptyLog, type HeldMessage } from "../state/app-state.js";
import { MessageItem } from "./MessageItem.js";

const groupWindowMs = 5 * 60_000;
const nearEdgePx = 80;
const markReadDelayMs = 200;

/** Whether `m` continues the previous message's group (same author, a few minutes later). */
function continues(prev: HeldMessage | undefined, m: HeldMessage): boolean {
  return (
    prev !== undefined &&
    prev.authorId === m.authorId &&
    m.createdAt - prev.createdAt < groupWindowMs &&
    prev.deletedAt === null &&
    prev.replyCount === 0
  );
}

export function MessageList({ channelId, focusSeq }: { channelId: string; focusSeq?: number }) {
  const { actions } = useChat();
  const log = useChatState((s) => s.logs[channelId] ?? emptyLog);
  const anchor = useChatState((s) => s.unreadAnchor[channelId]);
  const me = useChatState((s) => s.me?.id ?? "");
  const scroller = useRef<HTMLDivElement>(null);
  const separator = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const heightBeforeOlder = useRef<number | null>(null);
  const loadingOlder = useRef(false);
  const loadingNewer = useRef(false);
  const wasWindow = useRef(log.hasNewer);
  const positioned = useRef(false);
  const [separatorAbove, setSeparatorAbove] = useState(false);

  const firstUnread =
    anchor === undefined
      ? undefined
      : log.messages.find((m) => m.pending === undefined && m.seq > anchor && m.authorId !== me);

  const markReadSoon = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const maybeMarkRead = useCallback(() => {
    clearTimeout(markReadSoon.current);
    markReadSoon.current = setTimeout(() => {
      if (atBottom.current && document.visibilityState === "visible" && document.hasFocus())
        actions.markRead(channelId);
    }, markReadDelayMs);
  }, [actions, channelId]);

  useEffect(() => {
    window.addEventListener("focus", maybeMarkRead);
    document.addEventListener("visibilitychange", maybeMarkRead);
    return () => {
      clearTimeout(markReadSoon.current);
      window.removeEventListener("focus", maybeMarkRead);
      document.removeEventListener("visibilitychange", maybeMarkRead);
    };
  }, [maybeMarkRead]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < nearEdgePx;
    if (separator.current) setSeparatorAbove(separator.current.offsetTop < el.scrollTop);
    if (el.scrollTop < nearEdgePx && log.hasOlder && !loadingOlder.current) {
      loadingOlder.current = true;
      heightBeforeOlder.current = el.scrollHeight;
      void actions.loadOlder(channelId).finally(() => {
        loadingOlder.current = false;
      });
    }
    if (atBottom.current && log.hasNewer && !loadingNewer.current) {
      loadingNewer.current = true;
      void actions.loadNewer(channelId).finally(() => {
        loadingNewer.current = false;
      });
    }
    if (atBottom.current) maybeMarkRead();
  };

  // After a render: keep the view still when older messages came in above, follow new ones
  // at the bottom, and on the first load go to the first unread message or to the end (or,
  // for a message opened by link, leave it to useFocusedMessage below). A window's newer
  // pages come in below the view; leaving a window for the newest messages goes to the end.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the messages change
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !log.loaded) return;
    const inWindow = wasWindow.current;
    wasWindow.current = log.hasNewer;
    const leftWindow = inWindow && !log.hasNewer && !loadingNewer.current;
    if (!positioned.current) {
      positioned.current = true;
      if (focusSeq !== undefined) {
        atBottom.current = false;
      } else if (separator.current && separator.current.offsetTop > el.clientHeight / 2) {
        el.scrollTop = separator.current.offsetTop - 40;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < nearEdgePx;
      } else {
        el.scrollTop = el.scrollHeight;
        atBottom.current = true;
      }
    } else if (heightBeforeOlder.current !== null) {
      el.scrollTop += el.scrollHeight - heightBeforeOlder.current;
      heightBeforeOlder.current = null;
    } else if (leftWindow || (atBottom.current && !inWindow)) {
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
    } else {
      atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < nearEdgePx;
    }
    if (separator.current) setSeparatorAbove(separator.current.offsetTop < el.scrollTop);
    maybeMarkRead();
  }, [log.messages, log.loaded]);

  const highlighted = useFocusedMessage(scroller, focusSeq, log.messages);

  const keepAtEnd = useCallback(() => {
    const el = scroller.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, []);

  const jumpToUnread = () => {
    separator.current?.scrollIntoView({ block: "start" });
    setSeparatorAbove(false);
  };

  return (
    <div className="message-list-wrap">
      {firstUnread && separatorAbove && (
        <button type="button" className="jump-unread" onClick={jumpToUnread}>
          Jump to first unread
        </button>
      )}
      <div ref={scroller} className="message-list" role="log" aria-label="Messages" onScroll={onScroll}>
        {!log.loaded && <p className="list-note">Loading messages…</p>}
        {log.loaded && !log.hasOlder && (
          <p className="list-note">This is the beginning of the conversation.</p>
        )}
        {log.hasOlder && <p className="list-note">Loading older messages…</p>}
        <ContentResizedContext.Provider value={keepAtEnd}>
          {log.messages.map((m, i) => {
            const isFirstUnread = m === firstUnread;
            return (
              <Fragment key={`${m.authorId}/${m.clientMsgId}`}>
                {isFirstUnread && (
                  <div ref={separator} className="unread-separator">
                    <hr aria-label="New messages" />
                    <span aria-hidden="true">New messages</span>
                  </div>
                )}
                <MessageItem
                  message={m}
                  compact={!isFirstUnread && continues(log.messages[i - 1], m)}
                  inThread={false}
                  highlighted={m.pending === undefined && m.seq === highlighted}
                />
              </Fragment>
            );
          })}
        </ContentResizedContext.Provider>
        {log.hasNewer && <p className="list-note">Loading newer messages…</p>}
      </div>
    </div>
  );
}
