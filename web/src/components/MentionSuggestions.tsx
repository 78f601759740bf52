/** The listbox of members matching the @mention being typed; the composer drives it. */
import type { User } from "@colink/client";
import { SuggestionList } from "./SuggestionList.js";

export function MentionSuggestions({
  id,
  users,
  active,
  onPick,
}: {
  id: string;
  users: User[];
  active: number;
  onPick: (user: User) => void;
}) {
  const options = users.map((u) => ({
    key: u.id,
    label: u.displayName || u.username,
    hint: `@${u.username}`,
  }));
  return (
    <SuggestionList
      id={id}
      label="Mention suggestions"
      options={options}
      active={active}
      onPick={(i) => onPick(users[i]!)}
    />
  );
}
