/**
 * A pane beside the conversation (complementary landmark): a heading, a close button, and
 * Esc to close. Focus moves into it when it opens and back when it closes.
 */
import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef } from "react";
import { IconButton } from "./IconButton.js";

export function SidePanel({
  title,
  closeLabel,
  onClose,
  actions,
  children,
}: {
  title: string;
  closeLabel: string;
  onClose: () => void;
  actions?: ReactNode;
  children: ReactNode;
}) {
  const titleId = useId();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    heading.current?.focus();
    return () => {
      if (returnTo?.isConnected) returnTo.focus();
    };
  }, []);

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      onClose();
    }
  };

  return (
    <aside className="side-panel" aria-labelledby={titleId} onKeyDown={onKeyDown}>
      <div className="panel-header">
        <h2 id={titleId} ref={heading} tabIndex={-1}>
          {title}
        </h2>
        <div className="panel-tools">
          {actions}
          <IconButton label={closeLabel} icon="×" onClick={onClose} />
        </div>
      </div>
      <div className="panel-body">{children}</div>
    </aside>
  );
}
