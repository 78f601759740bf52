/**
 * One message: the author's avatar (decorative: the name is beside it) and name, time, text
 * (or that it was deleted), "(edited)", its files, reactions, the thread summary, and the
 * actions the user may take on it: among them "Flag message…" on others' messages, and for
 * moderators and admins "Remove message…" (both ask a reason). A pending message shows as sending; one that failed for
 * good offers Retry.
 */
import { memo, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { dateTimeFormat, timeOfDayFormat } from "../format/time.js";
import { navigate } from "../routes.js";
import { moderates } from "../state/admin-access.js";
import type { HeldMessage } from "../state/app-state.js";
import { userName } from "../state/conversation-name.js";
import { EditHistoryDialog } from "./EditHistoryDialog.js";
import { IconButton } from "./IconButton.js";
import { MessageEditor } from "./MessageEditor.js";
import { MessageFiles } from "./MessageFiles.js";
import { MessageText } from "./MessageText.js";
import { ReactionPicker } from "./ReactionPicker.js";
import { ReasonDialog } from "./ReasonDialog.js";
import { UserAvatar } from "./UserAvatar.js";

export const MessageItem = memo(function MessageItem({
  message,
  compact,
  inThread,
  highlighted = false,
}: {
  message: HeldMessage;
  /** Follows a message of the same author: no avatar or name. */
  compact: boolean;
  inThread: boolean;
  /** Just opened by link (a search hit): marked for a few seconds. */
  highlighted?: boolean;
}) {
  const { actions, admin } = useChat();
  const me = useChatState((s) => s.me);
  const author = useChatState((s) => userName(s.users, message.authorId));
  const [editing, setEditing] = useState(false);
  const [picking, setPicking] = useState(false);
  const [showVersions, setShowVersions] = useState(false);
  const [moderating, setModerating] = useState<"flag" | "remove" | null>(null);

  const mine = message.authorId === me?.id;
  const staff = moderates(me?.role);
  const deleted = message.deletedAt !== null;
  const pending = message.pending !== undefined;
  const canAct = !pending && !deleted;

  const openThread = () =>
    navigate({ name: "channel", channelId: message.channelId, rootId: message.threadRootId ?? message.id });

  return (
    <article
      className={`message${compact ? " compact" : ""}${pending ? " pending" : ""}${message.pinnedAt ? " pinned" : ""}`}
      data-message-id={message.id}
      data-seq={pending ? undefined : message.seq}
      data-pending={pending ? "true" : undefined}
      data-highlighted={highlighted ? "true" : undefined}
      aria-label={`${author}, ${dateTimeFormat.format(message.createdAt)}`}
    >
      <div className="message-gutter" aria-hidden="true">
        {compact ? (
          <span className="gutter-time">{timeOfDayFormat.format(message.createdAt)}</span>
        ) : (
          <UserAvatar userId={message.authorId} size="message" />
        )}
      </div>
      <div className="message-body">
        <div className={compact ? "visually-hidden" : "message-meta"}>
          <span className="message-author">{author}</span>{" "}
          <time
            dateTime={new Date(message.createdAt).toISOString()}
            title={dateTimeFormat.format(message.createdAt)}
          >
            {timeOfDayFormat.format(message.createdAt)}
          </time>
          {message.pinnedAt && <span className="pin-flag"> · pinned</span>}
        </div>
        {editing ? (
          <MessageEditor
            initial={message.text}
            onSave={(text) => actions.edit(message, text)}
            onCancel={() => setEditing(false)}
          />
        ) : deleted ? (
          <p className="message-deleted">This message was deleted.</p>
        ) : (
          <div className="message-content">
            <MessageText text={message.text} />
            {message.editedAt !== null && <span className="edited">(edited)</span>}
          </div>
        )}
        {!deleted && message.files.length > 0 && <MessageFiles fileIds={message.files} />}
        {message.pending === "sending" && <p className="message-status">Sending…</p>}
        {message.pending === "failed" && (
          <p className="message-status failed">
            Not sent.{" "}
            <button type="button" className="link-button" onClick={() => actions.retry(message)}>
              Retry
            </button>
          </p>
        )}
        {message.reactions.length > 0 && (
          <div className="reactions">
            {message.reactions.map((r) => (
              <button
                key={r.emoji}
                type="button"
                className="reaction"
                aria-pressed={r.me}
                disabled={!canAct}
                onClick={() => void actions.toggleReaction(message, r.emoji)}
              >
                {r.emoji} {r.count}
              </button>
            ))}
          </div>
        )}
        {!inThread && message.replyCount > 0 && (
          <button type="button" className="thread-summary" onClick={openThread}>
            {message.replyCount === 1 ? "1 reply" : `${message.replyCount} replies`}
          </button>
        )}
      </div>
      {canAct && !editing && (
        <div className="message-actions">
          <IconButton label="Add reaction" icon="☺" onClick={() => setPicking(true)} />
          {!inThread && <IconButton label="Reply in thread" icon="↩" onClick={openThread} />}
          {mine && <IconButton label="Edit message" icon="✎" onClick={() => setEditing(true)} />}
          <IconButton
            label={message.pinnedAt ? "Unpin message" : "Pin message"}
            icon="📌"
            onClick={() => void actions.togglePin(message)}
          />
          {staff && <IconButton label="Edit history" icon="🕘" onClick={() => setShowVersions(true)} />}
          {(mine || staff) && (
            <button
              type="button"
              className="icon-button danger"
              aria-label="Delete message"
              title="Delete message"
              onClick={() => void actions.remove(message)}
            >
              <span aria-hidden="true">🗑</span>
            </button>
          )}
          {!mine && <IconButton label="Flag message…" icon="⚑" onClick={() => setModerating("flag")} />}
          {staff && !mine && (
            <IconButton
              className="danger"
              label="Remove message…"
              icon="⊘"
              onClick={() => setModerating("remove")}
            />
          )}
        </div>
      )}
      {picking && (
        <ReactionPicker
          onPick={(emoji) => void actions.toggleReaction(message, emoji)}
          onClose={() => setPicking(false)}
        />
      )}
      {showVersions && <EditHistoryDialog message={message} onClose={() => setShowVersions(false)} />}
      {moderating === "flag" && (
        <ReasonDialog
          title="Flag message"
          submitLabel="Flag"
          doneText="Thanks. The moderators will look at it."
          onSubmit={async (reason) => void (await admin.flagMessage(message, reason))}
          onClose={() => setModerating(null)}
        >
          <p className="hint">Tell the moderators what is wrong with {author}'s message.</p>
          <blockquote className="flagged-message">
            <MessageText text={message.text} />
          </blockquote>
        </ReasonDialog>
      )}
      {moderating === "remove" && (
        <ReasonDialog
          title="Remove message"
          submitLabel="Remove"
          danger
          onSubmit={(reason) => admin.removeMessage(message, reason)}
          onClose={() => setModerating(null)}
        >
          <p className="hint">
            {author}'s message is removed for everyone. The reason and the original text are kept in the audit
            log.
          </p>
          <blockquote className="flagged-message">
            <MessageText text={message.text} />
          </blockquote>
        </ReasonDialog>
      )}
    </article>
  );
});
