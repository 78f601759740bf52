/**
 * A listbox of suggestions under a text field (@mentions, search modifiers). The field keeps
 * the focus and drives it (hooks/use-suggestion-keys.ts): option `i` has the id `<id>-<i>`,
 * for the field's aria-activedescendant.
 */

export interface Suggestion {
  key: string;
  label: string;
  /** A second, dimmer text: the @username, the #channel. */
  hint: string;
}

export function SuggestionList({
  id,
  label,
  options,
  active,
  onPick,
}: {
  id: string;
  label: string;
  options: readonly Suggestion[];
  active: number;
  onPick: (index: number) => void;
}) {
  return (
    <div id={id} role="listbox" aria-label={label} className="mention-list">
      {options.map((option, i) => (
        <div
          key={option.key}
          id={`${id}-${i}`}
          role="option"
          tabIndex={-1}
          aria-selected={i === active}
          className={i === active ? "active" : undefined}
          // mousedown, not click: the field keeps its focus and caret.
          onMouseDown={(event) => {
            event.preventDefault();
            onPick(i);
          }}
        >
          <span className="mention-name">{option.label}</span>
          <span className="hint">{option.hint}</span>
        </div>
      ))}
    </div>
  );
}
