/**
 * The files messages carry, cached per file id: `file.get`'s answers, the status a
 * `file.updated` event moves on (the URLs are then asked again), a file that is not found,
 * and when an answer must be asked again (its URLs about to expire). Pure functions.
 */
import type { FileDetails, FileInfo, HeldFile } from "./app-state.js";

/** URLs are asked again this long before they expire, so a link or image never points at an expired one. */
export const urlRefreshMarginMs = 60_000;

/** Statuses that a scan will still change: a `file.updated` is expected. */
const unsettled: ReadonlySet<FileInfo["status"]> = new Set(["uploading", "pending"]);

/** `file.get`'s answer for a file. */
export function withFileDetails(
  files: Record<string, HeldFile>,
  details: FileDetails,
): Record<string, HeldFile> {
  return { ...files, [details.file.id]: { details, missing: false, stale: false } };
}

/** `file.get` answered not_found. */
export function withMissingFile(files: Record<string, HeldFile>, fileId: string): Record<string, HeldFile> {
  return { ...files, [fileId]: { details: null, missing: true, stale: false } };
}

/**
 * A `file.updated` event: the held file takes its new metadata and is marked stale (its
 * URLs are asked again). A new status drops the URLs held: they were for the old one. A
 * file not held is left alone (nothing shows it).
 */
export function withFileUpdate(files: Record<string, HeldFile>, file: FileInfo): Record<string, HeldFile> {
  const held = files[file.id];
  if (!held?.details) return files;
  const sameStatus = held.details.file.status === file.status;
  const details: FileDetails = sameStatus
    ? { ...held.details, file }
    : { file, url: null, thumbnails: {}, expiresAt: null };
  return { ...files, [file.id]: { details, missing: false, stale: true } };
}

/** Whether `file.get` should be asked (again) for a file: never asked, changed since, or its URLs about to expire. */
export function needsFetch(held: HeldFile | undefined, now: number): boolean {
  if (!held) return true;
  if (held.missing) return false;
  if (held.stale || !held.details) return true;
  const { expiresAt } = held.details;
  return expiresAt !== null && expiresAt - now <= urlRefreshMarginMs;
}

/**
 * Whether a held file may have changed without the app hearing of it while it was offline
 * (events are not replayed): still being scanned, changed and not asked again, or never answered.
 */
export function mayHaveChanged(held: HeldFile): boolean {
  if (held.missing) return false;
  return held.stale || !held.details || unsettled.has(held.details.file.status);
}
