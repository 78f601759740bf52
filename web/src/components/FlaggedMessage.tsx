/**
 * A flagged message as moderators see it: its author, where and when, and its original
 * text (kept even after removal); and who flagged it, when and why; once resolved, how.
 */
import { useChatState } from "../chat-context.js";
import { dateTimeFormat } from "../format/time.js";
import type { Flag } from "../state/admin-types.js";
import { userName } from "../state/conversation-name.js";
import { MessageText } from "./MessageText.js";

/** Where the message was said, as the server named it for moderators (who may not be in it). */
function placeOf(flag: Flag): string | undefined {
  const channel = flag.channel;
  if (!channel) return undefined;
  return channel.kind === "dm" || channel.kind === "group_dm" ? "a direct message" : `#${channel.name}`;
}

export function FlaggedMessage({ flag }: { flag: Flag }) {
  const users = useChatState((s) => s.users);
  const message = flag.message;
  const place = placeOf(flag);
  return (
    <div className="flagged">
      <blockquote className="flagged-message" data-message-id={flag.messageId}>
        {message ? (
          <>
            <div className="message-meta">
              <span className="message-author">{userName(users, message.authorId)}</span>{" "}
              {place && <span className="hint">in {place} · </span>}
              <time dateTime={new Date(message.createdAt).toISOString()} className="hint">
                {dateTimeFormat.format(message.createdAt)}
              </time>
              {message.deletedAt !== null && <span className="status-tag off">removed</span>}
            </div>
            <MessageText text={message.text} />
          </>
        ) : (
          <p className="hint">The message is no longer available.</p>
        )}
      </blockquote>
      <p className="flag-reason">
        <span className="hint">
          Flagged by {userName(users, flag.reporterId)}, {dateTimeFormat.format(flag.createdAt)}:
        </span>{" "}
        {flag.reason}
      </p>
      {flag.status === "resolved" && (
        <p className="flag-resolution hint">
          {flag.resolution === "removed" ? "Removed" : "Dismissed"}
          {flag.resolvedBy ? ` by ${userName(users, flag.resolvedBy)}` : ""}
          {flag.resolvedAt ? `, ${dateTimeFormat.format(flag.resolvedAt)}` : ""}
          {flag.note ? `: ${flag.note}` : ""}
        </p>
      )}
    </div>
  );
}
