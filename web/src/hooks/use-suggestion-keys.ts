/**
 * The keyboard of a suggestion list under a text field (the composer's @mentions, the search
 * box's modifiers): the arrows move the active option, Enter or Tab picks it, Esc closes the
 * list. The field's own keys apply only when the list did not take the key.
 */
import { type KeyboardEvent, useState } from "react";

export interface SuggestionKeys {
  /** The active option's index. */
  active: number;
  /** Back to the first option (the options changed). */
  reset: () => void;
  /** Handles the key if it is the list's; says whether it did. */
  onKeyDown: (event: KeyboardEvent) => boolean;
}

export function useSuggestionKeys<T>(
  options: readonly T[],
  pick: (option: T) => void,
  close: () => void,
): SuggestionKeys {
  const [active, setActive] = useState(0);
  const current = Math.min(active, Math.max(0, options.length - 1));
  const onKeyDown = (event: KeyboardEvent): boolean => {
    if (options.length === 0 || event.nativeEvent.isComposing) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((current + step + options.length) % options.length);
    } else if (event.key === "Enter" || event.key === "Tab") {
      pick(options[current]!);
    } else if (event.key === "Escape") {
      // The list closes, not the dialog or pane around the field.
      event.stopPropagation();
      close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  };
  return { active: current, reset: () => setActive(0), onKeyDown };
}
