/**
 * What the server allows of files, as pure functions: which types may be uploaded, which
 * files may be served (never one that a scan has not passed, unless the operator allows
 * unscanned files where no scanner runs), where a file's bytes and thumbnails are kept,
 * and how long signed URLs last (the seed's five minutes to upload, an hour to download).
 */
import type { FileRecord } from "./ports.js";
import type { FileInfo, FileStatus } from "./types.js";

/** The operator's file settings (core/config.ts). */
export interface FilePolicy {
  /** Largest upload, in bytes. */
  maxBytes: number;
  /** MIME types that may be uploaded: exact (`application/pdf`), `image/*`, or `*\/*` for any. */
  allowedTypes: string[];
  /** Whether files that no scanner checked are served (only where no scanner is configured). */
  unscanned: "allow" | "block";
  /** A scanner is configured: completed uploads wait for their scan. */
  scanning: boolean;
}

/** How long an upload URL lasts. */
export const uploadUrlSec = 5 * 60;
/** How long a download URL lasts. */
export const downloadUrlSec = 60 * 60;
/** How long an infected file's bytes are kept in quarantine before they are deleted. */
export const quarantineMs = 30 * 24 * 60 * 60 * 1000;
/** An upload not completed this long after it began is abandoned: its record and bytes are deleted. */
export const abandonedUploadMs = 24 * 60 * 60 * 1000;

/** Whether `contentType` may be uploaded. */
export function typeAllowed(contentType: string, allowed: readonly string[]): boolean {
  const type = contentType.toLowerCase();
  const major = type.split("/")[0];
  return allowed.some((a) => a === "*/*" || a === type || (a.endsWith("/*") && a.slice(0, -2) === major));
}

/** The status a completed upload takes. */
export function statusAfterUpload(policy: FilePolicy): "pending" | "unscanned" {
  return policy.scanning ? "pending" : "unscanned";
}

/** Whether a file's bytes may be served: clean, or unscanned where that is allowed. Never pending, infected or failed. */
export function servable(file: Pick<FileInfo, "status">, policy: Pick<FilePolicy, "unscanned">): boolean {
  return file.status === "clean" || (file.status === "unscanned" && policy.unscanned === "allow");
}

/** Statuses of a file that may be attached to a message: scanned clean, or on its way. */
export const shareableStatuses: readonly FileStatus[] = ["pending", "clean", "unscanned"];

/** Whether thumbnails are made for a file: clean images only. */
export function wantsThumbnails(file: Pick<FileInfo, "status" | "contentType">): boolean {
  return file.status === "clean" && file.contentType.startsWith("image/");
}

/** A file's key in its bucket. */
export function fileKey(fileId: string): string {
  return fileId;
}

/** The bucket a file's bytes are in: an avatar's, or a channel's file's. */
export function fileBucket(file: Pick<FileInfo, "channelId">): "files" | "avatars" {
  return file.channelId === null ? "avatars" : "files";
}

/** Avatars are at most this large, whatever the file limit. */
export const maxAvatarBytes = 5 * 1024 * 1024;

/** A thumbnail's key in the `thumbnails` bucket. */
export function thumbnailKey(fileId: string, size: "small" | "medium"): string {
  return `${fileId}/${size}.webp`;
}

/** A file's metadata as clients see it (without its scan's bookkeeping). */
export function fileInfoOf(file: FileRecord): FileInfo {
  return {
    id: file.id,
    channelId: file.channelId,
    uploaderId: file.uploaderId,
    name: file.name,
    contentType: file.contentType,
    size: file.size,
    status: file.status,
    thumbnails: file.thumbnails,
    createdAt: file.createdAt,
  };
}
