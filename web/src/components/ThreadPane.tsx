/**
 * A thread beside its conversation: the root, its replies, follow/unfollow and the reply
 * box (files dropped on the thread are attached to the reply). A reply opened by link
 * (`focusSeq`, a search hit) is scrolled to and highlighted.
 */
import { useCallback, useEffect, useLayoutEffect, useRef } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { ContentResizedContext } from "../hooks/use-content-resized.js";
import { useFileDrop } from "../hooks/use-file-drop.js";
import { useFocusedMessage } from "../hooks/use-focused-message.js";
import { navigate } from "../routes.js";
import { draftKey } from "../state/chat-actions.js";
import { Composer } from "./Composer.js";
import { DropHint } from "./DropHint.js";
import { MessageItem } from "./MessageItem.js";
import { SidePanel } from "./SidePanel.js";
import { TypingIndicator } from "./TypingIndicator.js";

export function ThreadPane({
  channelId,
  rootId,
  focusSeq,
}: {
  channelId: string;
  rootId: string;
  focusSeq?: number;
}) {
  const { actions, uploads } = useChat();
  const thread = useChatState((s) => s.threads[rootId]);
  const replies = useRef<HTMLDivElement>(null);
  const drop = useFileDrop((files) => uploads.attach(draftKey(channelId, rootId), channelId, files));

  useEffect(() => {
    void actions.openThread(channelId, rootId);
  }, [actions, channelId, rootId]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: follow new replies to the bottom
  useLayoutEffect(() => {
    const el = replies.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [thread?.messages.length]);
  const highlighted = useFocusedMessage(replies, focusSeq, thread?.messages);
  // A reply that grows (a file's thumbnail arriving) keeps the replies at their end when they were.
  const keepAtEnd = useCallback(() => {
    const el = replies.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight;
  }, []);

  const close = () => navigate({ name: "channel", channelId, rootId: null });
  const me = useChatState((s) => s.me?.id ?? "");
  const following = thread?.followChoice ?? thread?.root?.threadParticipants.includes(me) ?? false;

  return (
    <SidePanel
      title="Thread"
      closeLabel="Close thread"
      onClose={close}
      actions={
        thread?.loaded && (
          <button
            type="button"
            className="button subtle small"
            onClick={() => void actions.setFollowing(channelId, rootId, !following)}
          >
            {following ? "Unfollow thread" : "Follow thread"}
          </button>
        )
      }
    >
      <div className={`thread${drop.dragging ? " dragging" : ""}`} {...drop.handlers}>
        {drop.dragging && <DropHint />}
        <ContentResizedContext.Provider value={keepAtEnd}>
          {thread?.root && (
            <div className="thread-root">
              <MessageItem message={thread.root} compact={false} inThread={true} />
              <p className="thread-count">
                {thread.root.replyCount === 1 ? "1 reply" : `${thread.root.replyCount} replies`}
              </p>
            </div>
          )}
          <div ref={replies} className="message-list thread-replies" role="log" aria-label="Replies">
            {!thread?.loaded && <p className="list-note">Loading replies…</p>}
            {thread?.messages.map((m) => (
              <MessageItem
                key={`${m.authorId}/${m.clientMsgId}`}
                message={m}
                compact={false}
                inThread={true}
                highlighted={m.pending === undefined && m.seq === highlighted}
              />
            ))}
          </div>
        </ContentResizedContext.Provider>
        <TypingIndicator channelId={channelId} threadRootId={rootId} />
        <Composer channelId={channelId} threadRootId={rootId} label="Reply in thread" />
      </div>
    </SidePanel>
  );
}
