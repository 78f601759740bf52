/**
 * The top of a main pane (a channel, the search results): on a phone a way back to the
 * conversations, the pane's heading with a line under it, and the pane's own tools.
 */
import type { ReactNode } from "react";
import { navigate } from "../routes.js";
import { IconButton } from "./IconButton.js";

interface PaneHeaderProps {
  /** The heading's id, which the pane's landmark is labelled by. */
  headingId: string;
  title: string;
  subtitle?: string | undefined;
  children?: ReactNode;
}

export function PaneHeader({ headingId, title, subtitle, children }: PaneHeaderProps) {
  return (
    <div className="channel-header">
      <IconButton
        className="back-button"
        label="Back to conversations"
        icon="←"
        onClick={() => navigate({ name: "home" })}
      />
      <div className="channel-title">
        <h1 id={headingId}>{title}</h1>
        {subtitle && <p className="channel-topic">{subtitle}</p>}
      </div>
      {children}
    </div>
  );
}
