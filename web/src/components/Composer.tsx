/**
 * Writes a message or a thread reply: Enter sends, Shift+Enter makes a new line, `@` opens
 * member suggestions (arrows move, Enter or Tab picks, Esc closes). The draft lives in the
 * store, so switching conversations or reconnecting loses nothing typed.
 */
import type { User } from "@colink/client";
import { type ChangeEvent, type KeyboardEvent, useId, useMemo, useRef, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { insertMention, type MentionQuery, matchMembers, mentionQueryAt } from "../format/mention-query.js";
import { useSuggestionKeys } from "../hooks/use-suggestion-keys.js";
import { draftKey } from "../state/chat-actions.js";
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
  const { actions } = useChat();
  const key = draftKey(channelId, threadRootId);
  const text = useChatState((s) => s.drafts[key] ?? "");
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

  const send = () => {
    const trimmed = text.trim();
    if (trimmed === "") return;
    actions.send(channelId, trimmed, threadRootId);
    actions.setDraft(key, "");
    setMention(null);
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
        <textarea
          ref={input}
          aria-label={label}
          placeholder={`${label}…`}
          rows={1}
          value={text}
          onChange={onChange}
          onKeyDown={onKeyDown}
          onBlur={() => setMention(null)}
          onSelect={(e) => setMention(mentionQueryAt(e.currentTarget.value, e.currentTarget.selectionStart))}
          aria-autocomplete="list"
          aria-controls={suggesting ? listId : undefined}
          aria-activedescendant={suggesting ? `${listId}-${suggestionKeys.active}` : undefined}
        />
        <div className="composer-actions">
          {onScheduled && (
            <IconButton label="Schedule message" icon="⏰" onClick={() => setScheduling(true)} />
          )}
          <button type="submit" className="button primary send-button" disabled={text.trim() === ""}>
            Send
          </button>
        </div>
      </form>
      {scheduling && (
        <ScheduleDialog text={text} onSchedule={schedule} onClose={() => setScheduling(false)} />
      )}
    </>
  );
}
