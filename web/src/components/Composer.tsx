/**
 * Writes a message or a thread reply: Enter sends, Shift+Enter makes a new line, `@` opens
 * member suggestions (arrows move, Enter or Tab picks, Esc closes). Files are attached by
 * the button `Attach files`, by paste, or by a drop on the conversation (ChannelView,
 * ThreadPane); Send waits until they are uploaded. The draft and the attachments live in
 * the store, so switching conversations or reconnecting loses nothing.
 */
import type { User } from "@colink/client";
import {
  type ChangeEvent,
  type ClipboardEvent,
  type KeyboardEvent,
  useId,
  useMemo,
  useRef,
  useState,
} from "react";
import { useChat, useChatState } from "../chat-context.js";
import { insertMention, type MentionQuery, matchMembers, mentionQueryAt } from "../format/mention-query.js";
import { useSuggestionKeys } from "../hooks/use-suggestion-keys.js";
import { attachmentsOf, uploading } from "../state/attachments.js";
import { draftKey } from "../state/chat-actions.js";
import { AttachmentList } from "./AttachmentList.js";
import { ComposerError } from "./ComposerError.js";
import { IconButton } from "./IconButton.js";
import { MentionSuggestions } from "./MentionSuggestions.js";
import { ScheduleDialog } from "./ScheduleDialog.js";

const noMembers: string[] = [];

export function Composer({
  channelId,
  threadRootId,
  label,
  onScheduled,
}: {
  channelId: string;
  threadRootId: string | null;
  label: string;
  /** Offers scheduling (in a conversation, not in a thread); called once a message is scheduled. */
  onScheduled?: () => void;
}) {
  const { actions, uploads } = useChat();
  const key = draftKey(channelId, threadRootId);
  const text = useChatState((s) => s.drafts[key] ?? "");
  const attachments = useChatState((s) => attachmentsOf(s, key));
  const fileInput = useRef<HTMLInputElement>(null);
  const memberIds = useChatState((s) => s.members[channelId] ?? noMembers);
  const users = useChatState((s) => s.users);
  const me = useChatState((s) => s.me?.id ?? "");
  const input = useRef<HTMLTextAreaElement>(null);
  const listId = useId();
  const [mention, setMention] = useState<MentionQuery | null>(null);
  const [scheduling, setScheduling] = useState(false);

  const members = useMemo(
    () => memberIds.filter((id) => id !== me).flatMap((id) => (users[id] ? [users[id]] : [])),
    [memberIds, users, me],
  );
  const suggestions = mention ? matchMembers(members, mention.query) : [];
  const suggesting = suggestions.length > 0;

  const pick = (user: User) => {
    const el = input.current;
    if (!el || !mention) return;
    const next = insertMention(text, mention, el.selectionStart, user.username);
    actions.setDraft(key, next.text);
    setMention(null);
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(next.caret, next.caret);
    });
  };

  const suggestionKeys = useSuggestionKeys(suggestions, pick, () => setMention(null));

  const onChange = (event: ChangeEvent<HTMLTextAreaElement>) => {
    const value = event.target.value;
    actions.setDraft(key, value);
    setMention(mentionQueryAt(value, event.target.selectionStart));
    suggestionKeys.reset();
    if (value.trim() !== "") actions.typing(channelId, threadRootId);
  };

  const busy = uploading(attachments);
  const empty = text.trim() === "" && attachments.length === 0;

  const send = () => {
    const trimmed = text.trim();
    if (busy || empty) return;
    const fileIds = uploads.take(key);
    if (fileIds === null) return;
    actions.send(channelId, trimmed, threadRootId, fileIds);
    actions.setDraft(key, "");
    setMention(null);
  };

  const attach = (files: File[]) => uploads.attach(key, channelId, files);

  const onPickFiles = (event: ChangeEvent<HTMLInputElement>) => {
    attach(Array.from(event.target.files ?? []));
    // The same file can be picked again.
    event.target.value = "";
  };

  // Pasted files are attached; pasted text still goes into the box.
  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const files = Array.from(event.clipboardData.files);
    if (files.length === 0) return;
    if (!event.clipboardData.types.includes("text/plain")) event.preventDefault();
    attach(files);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing || suggestionKeys.onKeyDown(event)) return;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      send();
    }
  };

  const schedule = async (sendAt: number) => {
    const ok = await actions.schedule(channelId, text.trim(), sendAt, threadRootId);
    if (ok) {
      actions.setDraft(key, "");
      onScheduled?.();
    }
    return ok;
  };

  return (
    <>
      <form
        className="composer"
        onSubmit={(event) => {
          event.preventDefault();
          send();
        }}
      >
        {suggesting && (
          <MentionSuggestions id={listId} users={suggestions} active={suggestionKeys.active} onPick={pick} />
        )}
        <ComposerError composerKey={key} />
        <AttachmentList composerKey={key} />
        <div className="composer-row">
          <textarea
            ref={input}
            aria-label={label}
            placeholder={`${label}…`}
            rows={1}
            value={text}
            onChange={onChange}
            onKeyDown={onKeyDown}
            onPaste={onPaste}
            onBlur={() => setMention(null)}
            onSelect={(e) =>
              setMention(mentionQueryAt(e.currentTarget.value, e.currentTarget.selectionStart))
            }
            aria-autocomplete="list"
            aria-controls={suggesting ? listId : undefined}
            aria-activedescendant={suggesting ? `${listId}-${suggestionKeys.active}` : undefined}
          />
          <div className="composer-actions">
            <IconButton label="Attach files" icon="📎" onClick={() => fileInput.current?.click()} />
            {onScheduled && (
              <IconButton label="Schedule message" icon="⏰" onClick={() => setScheduling(true)} />
            )}
            <button type="submit" className="button primary send-button" disabled={busy || empty}>
              Send
            </button>
          </div>
        </div>
        <input ref={fileInput} type="file" multiple hidden tabIndex={-1} onChange={onPickFiles} />
      </form>
      {scheduling && (
        <ScheduleDialog text={text} onSchedule={schedule} onClose={() => setScheduling(false)} />
      )}
    </>
  );
}
