/**
 * The images an avatar may be, and why one could not be used, as the avatar dialog says
 * it: a type that is not one of the four (checked before asking the server), too large
 * (`user.avatar.begin` answered `too_large`), a failed upload, or a scan that found a virus
 * or could not finish.
 */
import { type ArgsOf, ColinkRequestError } from "@colink/client";
import { formatFileSize } from "../format/file-size.js";
import { errorMessage } from "../logger.js";

/** The types `user.avatar.begin` takes. */
export type AvatarContentType = ArgsOf<"user.avatar.begin">["contentType"];

export const avatarContentTypes: readonly AvatarContentType[] = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
];

/** The largest avatar the server takes (it may take less: its file limit). */
export const maxAvatarBytes = 5 * 1024 * 1024;

/** The avatar type of a browser's file type, or null when an avatar may not be of that type. */
export function avatarContentType(browserType: string): AvatarContentType | null {
  const type = browserType.split(";")[0]!.trim().toLowerCase();
  return avatarContentTypes.find((t) => t === type) ?? null;
}

/** Why `name` is refused before any upload: not one of the four image types. */
export function avatarTypeRefusal(name: string): string {
  return `Could not use ${name}: an avatar must be a PNG, JPEG, GIF or WebP image`;
}

/** Why the scan refused the avatar. */
export function avatarScanRefusal(name: string, status: "infected" | "failed"): string {
  return status === "infected"
    ? `Could not use ${name}: it contained a virus`
    : `Could not use ${name}: it could not be scanned`;
}

/** Why changing the avatar to `name` failed, from the error a request or the upload gave. */
export function avatarFailure(name: string, error: unknown): string {
  if (error instanceof ColinkRequestError && error.code === "too_large") {
    const limit = /at most (\d+) bytes/.exec(error.message)?.[1];
    return `Could not use ${name}: it is larger than ${formatFileSize(Number(limit ?? maxAvatarBytes))}, the largest avatar allowed`;
  }
  return `Could not use ${name}: ${errorMessage(error)}`;
}

/** Why removing the avatar failed. */
export function avatarRemovalFailure(error: unknown): string {
  return `Could not remove your avatar: ${errorMessage(error)}`;
}
