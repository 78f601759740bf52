/**
 * A message opened by link (a search hit): once its article is rendered in `container`,
 * scrolls it to the middle of the view and highlights it for a few seconds. Returns the seq
 * highlighted now, or null. Each seq is brought into view once, so scrolling away stays put.
 */
import { type RefObject, useEffect, useLayoutEffect, useRef, useState } from "react";

const highlightMs = 3000;

export function useFocusedMessage(
  container: RefObject<HTMLElement | null>,
  focusSeq: number | undefined,
  /** Changes when the rendered messages do (the article may appear). */
  rendered: unknown,
): number | null {
  const [highlighted, setHighlighted] = useState<number | null>(null);
  const shown = useRef<number | undefined>(undefined);

  // biome-ignore lint/correctness/useExhaustiveDependencies: looks again whenever the messages change
  useLayoutEffect(() => {
    if (focusSeq === undefined || shown.current === focusSeq) return;
    const article = container.current?.querySelector(`article[data-seq="${focusSeq}"]`);
    if (!article) return;
    shown.current = focusSeq;
    article.scrollIntoView({ block: "center" });
    setHighlighted(focusSeq);
  }, [container, focusSeq, rendered]);

  useEffect(() => {
    if (highlighted === null) return;
    const timer = setTimeout(() => setHighlighted(null), highlightMs);
    return () => clearTimeout(timer);
  }, [highlighted]);

  return highlighted;
}
