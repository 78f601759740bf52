/**
 * A person's avatar: their image once it can be shown (AvatarImage), over a placeholder —
 * their initial on a colour of their own — which shows while it loads, when they have none,
 * or when it cannot be had. Decorative (hidden from screen readers, `alt=""`) where their
 * name shows beside it; `standalone` gives the image the alt text `<name>'s avatar`.
 */
import { avatarAlt, avatarHue, avatarInitial } from "../state/avatar-display.js";
import { AvatarImage } from "./AvatarImage.js";

/** Where an avatar shows: in a line of text (20 px), the header (26 px), a message (36 px), the dialog's preview (96 px). */
export type AvatarSize = "inline" | "header" | "message" | "preview";

export function Avatar({
  userId,
  name,
  fileId,
  size,
  standalone = false,
}: {
  userId: string;
  /** The name shown for the person: the placeholder's initial, and the alt text when standalone. */
  name: string;
  /** Their avatar file (`User.avatarFileId`), or null for none. */
  fileId: string | null;
  size: AvatarSize;
  standalone?: boolean;
}) {
  return (
    <span
      className={`avatar avatar-${size}`}
      style={{ backgroundColor: `hsl(${avatarHue(userId)} 55% 38%)` }}
      data-testid="avatar"
      data-user-id={userId}
      aria-hidden={standalone ? undefined : true}
    >
      <span className="avatar-initial" aria-hidden="true">
        {avatarInitial(name)}
      </span>
      {fileId !== null && (
        <AvatarImage
          fileId={fileId}
          prefer={size === "preview" ? "medium" : "small"}
          alt={standalone ? avatarAlt(name) : ""}
        />
      )}
    </span>
  );
}
