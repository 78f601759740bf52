/**
 * The header's message search: Enter runs it, showing the results (`/search?q=…`). While a `from:`
 * or `in:` modifier is typed it suggests people (the server's search.users; before a letter
 * is typed, the people already known) or the user's channels; arrows move, Enter or Tab
 * picks, Esc closes, as the composer's @mentions do.
 */
import type { User } from "@colink/client";
import { type ChangeEvent, type FormEvent, useEffect, useId, useMemo, useRef, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { matchMembers } from "../format/mention-query.js";
import {
  insertModifier,
  type ModifierQuery,
  matchChannels,
  modifierQueryAt,
} from "../format/search-modifier.js";
import { useSuggestionKeys } from "../hooks/use-suggestion-keys.js";
import { type Suggestion, SuggestionList } from "./SuggestionList.js";

/** Waits this long after a keystroke before asking the server for people. */
const peopleDelayMs = 150;

interface Pickable {
  option: Suggestion;
  /** What goes after `from:@` or `in:#`. */
  value: string;
}

function personSuggestion(user: User): Pickable {
  const option = { key: user.id, label: user.displayName || user.username, hint: `@${user.username}` };
  return { option, value: user.username };
}

export function SearchBox({
  query,
  onSearch,
}: {
  /** The query of the results shown, or null elsewhere. */
  query: string | null;
  /** Runs the search (again, when it is the one shown). */
  onSearch: (query: string) => void;
}) {
  const { actions } = useChat();
  const conversations = useChatState((s) => s.conversations);
  const users = useChatState((s) => s.users);
  const [text, setText] = useState(query ?? "");
  const [modifier, setModifier] = useState<ModifierQuery | null>(null);
  const [people, setPeople] = useState<User[]>([]);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();

  // The results' query shows here (the back button included); elsewhere the last one stays.
  useEffect(() => {
    if (query !== null) setText(query);
  }, [query]);

  const personQuery = modifier?.kind === "from" ? modifier.query : null;
  useEffect(() => {
    if (personQuery === null || personQuery === "") return;
    let current = true;
    const timer = setTimeout(() => {
      void actions.searchUsers(personQuery).then((found) => {
        if (current) setPeople(found);
      });
    }, peopleDelayMs);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [actions, personQuery]);

  const channels = useMemo(
    () => Object.values(conversations).filter((c) => c.kind === "public" || c.kind === "private"),
    [conversations],
  );
  const suggestions: Pickable[] = useMemo(() => {
    if (modifier?.kind === "in") {
      return matchChannels(channels, modifier.query).map((c) => ({
        option: { key: c.id, label: c.name, hint: `#${c.name}` },
        value: c.name,
      }));
    }
    if (modifier?.kind === "from") {
      const found = modifier.query === "" ? matchMembers(Object.values(users), "") : people;
      return found.map(personSuggestion);
    }
    return [];
  }, [modifier, channels, users, people]);
  const suggesting = suggestions.length > 0;

  const pick = ({ value }: Pickable) => {
    const el = input.current;
    if (!el || !modifier) return;
    const next = insertModifier(text, modifier, el.selectionStart ?? text.length, value);
    setText(next.text);
    setModifier(null);
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(next.caret, next.caret);
    });
  };
  const suggestionKeys = useSuggestionKeys(suggestions, pick, () => setModifier(null));

  const follow = (el: HTMLInputElement) => {
    const next = modifierQueryAt(el.value, el.selectionStart ?? el.value.length);
    if (next?.kind !== modifier?.kind || next?.query !== modifier?.query) suggestionKeys.reset();
    setModifier(next);
  };

  const onChange = (event: ChangeEvent<HTMLInputElement>) => {
    setText(event.target.value);
    follow(event.target);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const q = text.trim();
    if (q === "") return;
    setModifier(null);
    onSearch(q);
  };

  return (
    <search className="search-box">
      <form onSubmit={submit}>
        <input
          ref={input}
          type="search"
          aria-label="Search messages"
          placeholder="Search messages…"
          value={text}
          maxLength={500}
          onChange={onChange}
          onKeyDown={(event) => suggestionKeys.onKeyDown(event)}
          onSelect={(event) => follow(event.currentTarget)}
          onBlur={() => setModifier(null)}
          aria-autocomplete="list"
          aria-controls={suggesting ? listId : undefined}
          aria-activedescendant={suggesting ? `${listId}-${suggestionKeys.active}` : undefined}
        />
        {suggesting && (
          <SuggestionList
            id={listId}
            label="Search suggestions"
            options={suggestions.map((s) => s.option)}
            active={suggestionKeys.active}
            onPick={(i) => pick(suggestions[i]!)}
          />
        )}
      </form>
    </search>
  );
}
