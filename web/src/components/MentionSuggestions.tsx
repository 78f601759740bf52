/** The listbox of members matching the @mention being typed; the composer drives it. */
import type { User } from "@colink/client";

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
  return (
    <div id={id} role="listbox" aria-label="Mention suggestions" className="mention-list">
      {users.map((u, i) => (
        <div
          key={u.id}
          id={`${id}-${i}`}
          role="option"
          tabIndex={-1}
          aria-selected={i === active}
          className={i === active ? "active" : undefined}
          // mousedown, not click: the textarea keeps its focus and caret.
          onMouseDown={(event) => {
            event.preventDefault();
            onPick(u);
          }}
        >
          <span className="mention-name">{u.displayName || u.username}</span>
          <span className="hint">@{u.username}</span>
        </div>
      ))}
    </div>
  );
}
