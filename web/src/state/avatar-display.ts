/**
 * What a person's avatar shows: the image of their avatar file once `file.get` gave its URLs
 * (a thumbnail: the small one, 96 px, where avatars show small; the medium one, 480 px, for
 * the large preview), else a placeholder — their initial on a colour of their own. Pure, so
 * it is unit-tested.
 */
import type { HeldFile } from "./app-state.js";

/** Which thumbnail an avatar prefers: small where it shows at 20–36 px, medium for the large preview. */
export type AvatarThumbnail = "small" | "medium";

/**
 * The URL (as the server gave it: maybe relative) of the image an avatar shows, or null while
 * there is none to show (not answered yet, being scanned, refused, or gone): the placeholder
 * shows then. The preferred thumbnail, else the other one, else the image itself.
 */
export function avatarImageUrl(held: HeldFile | undefined, prefer: AvatarThumbnail): string | null {
  const details = held?.details;
  if (!details || details.url === null) return null;
  const { status } = details.file;
  if (status !== "clean" && status !== "unscanned") return null;
  const other: AvatarThumbnail = prefer === "small" ? "medium" : "small";
  return details.thumbnails[prefer] ?? details.thumbnails[other] ?? details.url;
}

/** A stable colour (a hue, 0–359) per person for the placeholder. */
export function avatarHue(userId: string): number {
  let hash = 0;
  for (const ch of userId) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return hash % 360;
}

/** The placeholder's letter: the first character of the name shown (a whole emoji, not half of it), upper-cased. */
export function avatarInitial(name: string): string {
  const first = Array.from(name.trim())[0] ?? "?";
  return first.toUpperCase();
}

/** The alt text of an avatar image that stands alone (no name beside it). */
export function avatarAlt(name: string): string {
  return `${name}'s avatar`;
}
