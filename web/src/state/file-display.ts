/**
 * How a file in a message shows, from what is held of it: an image (its thumbnail, which
 * opens the viewer), a card with a download link, or a card saying why it cannot be had
 * (being scanned, quarantined, not scannable, not available). Pure, so it is unit-tested.
 */
import type { FileDetails, FileInfo, HeldFile } from "./app-state.js";

/** Texts of the states a file shows in (docs/web.md, "Files"). */
export const fileStateText = {
  loading: "Loading file…",
  uploading: "Uploading…",
  scanning: "Scanning…",
  infected: "Quarantined: this file contained a virus",
  failed: "Could not be scanned",
  unavailable: "Not available",
} as const;

export type FileDisplay =
  /** Not answered yet. */
  | { kind: "loading" }
  /** Gone, or never shared with the user: nothing is known of it. */
  | { kind: "missing" }
  /** A clean (or allowed unscanned) image with a thumbnail: `thumbnail` is its URL, sized `width` × `height`. */
  | { kind: "image"; file: FileInfo; thumbnail: string; width: number; height: number; details: FileDetails }
  /** Any other file that may be downloaded. */
  | { kind: "download"; file: FileInfo; url: string }
  /** A file that may not be downloaded (now or ever), and why. */
  | { kind: "blocked"; file: FileInfo; reason: string; settled: boolean };

/** Image types browsers show: the viewer shows these at full size, others by their thumbnail. */
const viewableImages: ReadonlySet<string> = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
]);

/** What a file in a message shows. */
export function fileDisplay(held: HeldFile | undefined): FileDisplay {
  if (!held || (!held.details && !held.missing)) return { kind: "loading" };
  if (!held.details) return { kind: "missing" };
  const details = held.details;
  const { file } = details;
  switch (file.status) {
    case "uploading":
      return { kind: "blocked", file, reason: fileStateText.uploading, settled: false };
    case "pending":
      return { kind: "blocked", file, reason: fileStateText.scanning, settled: false };
    case "infected":
      return { kind: "blocked", file, reason: fileStateText.infected, settled: true };
    case "failed":
      return { kind: "blocked", file, reason: fileStateText.failed, settled: true };
    default:
      break;
  }
  if (details.url === null) {
    // Clean or unscanned without URLs: being asked again after a change, or not served here.
    return held.stale
      ? { kind: "blocked", file, reason: fileStateText.loading, settled: false }
      : { kind: "blocked", file, reason: fileStateText.unavailable, settled: true };
  }
  // The medium thumbnail, else the small one (a small image has no medium).
  for (const size of ["medium", "small"] as const) {
    const thumbnail = details.thumbnails[size];
    const dims = file.thumbnails.find((t) => t.size === size);
    if (thumbnail && dims) {
      return { kind: "image", file, thumbnail, width: dims.width, height: dims.height, details };
    }
  }
  return { kind: "download", file, url: details.url };
}

/** The largest a thumbnail shows in a message. */
export const thumbnailBox = { width: 360, height: 320 } as const;

/** A thumbnail's size in a message: its own, scaled down to fit `thumbnailBox`, never up. */
export function fitThumbnail(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, thumbnailBox.width / width, thumbnailBox.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** What the viewer shows of an image: the full image when browsers show its type, else its medium thumbnail. */
export function viewerSource(details: FileDetails): string | null {
  if (details.url !== null && viewableImages.has(details.file.contentType)) return details.url;
  return details.thumbnails.medium ?? details.thumbnails.small ?? null;
}
