/**
 * The dialog `Your avatar`, opened from the header: the signed-in user's avatar as others
 * see it (its alt text `<name>'s avatar`), a button `Choose image` working a hidden file
 * input that takes the four image types, the change's progress (a progress bar while it
 * uploads; a `role=status` line through the upload, the scan and the linking), why it
 * failed (`role=alert`, with `Dismiss error`), and `Remove avatar` while there is one.
 * Closing it does not stop a change under way: the header's avatar updates when it is done.
 */
import { type ChangeEvent, useRef } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { formatFileSize } from "../format/file-size.js";
import type { AvatarChange } from "../state/app-state.js";
import { avatarContentTypes, maxAvatarBytes } from "../state/avatar-failure.js";
import { Avatar } from "./Avatar.js";
import { Dialog } from "./Dialog.js";
import { IconButton } from "./IconButton.js";

/** What the status line says of a change. */
function changeText(change: AvatarChange | null): string {
  switch (change?.step) {
    case "uploading":
      return `Uploading ${change.name}…`;
    case "scanning":
      return `Checking ${change.name} for viruses…`;
    case "saving":
      return "Saving your avatar…";
    case "removing":
      return "Removing your avatar…";
    case "done":
      return change.removed ? "Your avatar was removed" : "Your avatar is set";
    default:
      return "";
  }
}

export function AvatarDialog({ onClose }: { onClose: () => void }) {
  const { avatar } = useChat();
  const me = useChatState((s) => s.me);
  const change = useChatState((s) => s.avatarChange);
  const fileInput = useRef<HTMLInputElement>(null);

  const close = () => {
    avatar.dismiss();
    onClose();
  };

  const onPick = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    // The same file can be picked again.
    event.target.value = "";
    if (file) void avatar.change(file);
  };

  if (!me) return null;
  const name = me.displayName || me.username;
  const hasAvatar = me.avatarFileId !== null;
  return (
    <Dialog title="Your avatar" onClose={close} className="avatar-dialog">
      <div className="avatar-dialog-row">
        <Avatar userId={me.id} name={name} fileId={me.avatarFileId} size="preview" standalone />
        <div className="avatar-dialog-side">
          <p className="hint avatar-hint">
            {hasAvatar ? "Others see it next to your name." : "You have no avatar: others see your initial."}{" "}
            A PNG, JPEG, GIF or WebP image of at most {formatFileSize(maxAvatarBytes)}.
          </p>
          <div className="avatar-dialog-actions">
            <button type="button" className="button primary" onClick={() => fileInput.current?.click()}>
              Choose image
            </button>
            {hasAvatar && (
              <button
                type="button"
                className="button"
                disabled={change?.step === "removing"}
                onClick={() => void avatar.remove()}
              >
                Remove avatar
              </button>
            )}
          </div>
        </div>
      </div>
      {change?.step === "uploading" && (
        <progress
          className="avatar-progress"
          aria-label={`Uploading ${change.name}`}
          max={Math.max(change.size, 1)}
          value={change.sent}
        />
      )}
      <p role="status" className="avatar-status">
        {changeText(change)}
      </p>
      {change?.step === "failed" && (
        <div className="form-error" role="alert">
          <span>{change.message}</span>
          <IconButton label="Dismiss error" icon="×" onClick={() => avatar.dismiss()} />
        </div>
      )}
      <input
        ref={fileInput}
        type="file"
        accept={avatarContentTypes.join(",")}
        hidden
        tabIndex={-1}
        onChange={onPick}
      />
    </Dialog>
  );
}
