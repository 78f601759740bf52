/**
 * The steps of a file's life that a channel's files and a user's avatar share: starting an
 * upload (the record and its signed URL), completing it (are the bytes all there?), and the
 * URLs of a file that may be served. Who may take each step is the calling actor's to check.
 */
import { safeFileName } from "../core/content-disposition.js";
import { fail } from "../core/errors.js";
import {
  downloadUrlSec,
  type FilePolicy,
  fileBucket,
  fileInfoOf,
  fileKey,
  servable,
  statusAfterUpload,
  thumbnailKey,
  uploadUrlSec,
} from "../core/file-rules.js";
import type { ResultOf } from "../core/ops.js";
import type { BlobStore, FileRecord, FileStore } from "../core/ports.js";
import type { FileInfo } from "../core/types.js";

/** What the file steps use: the files' metadata, their bytes, and the operator's policy. */
export interface FileAccess {
  store: FileStore;
  blobs: BlobStore;
  policy: FilePolicy;
}

/** Records a new upload and signs the URL its bytes go to. */
export async function startUpload(
  files: FileAccess,
  upload: {
    id: string;
    channelId: string | null;
    uploaderId: string;
    name: string;
    size: number;
    contentType: string;
    now: number;
  },
): Promise<ResultOf<"file.begin">> {
  const contentType = upload.contentType.toLowerCase();
  const file: FileInfo = {
    id: upload.id,
    channelId: upload.channelId,
    uploaderId: upload.uploaderId,
    name: safeFileName(upload.name),
    contentType,
    size: upload.size,
    status: "uploading",
    thumbnails: [],
    createdAt: upload.now,
  };
  await files.store.createFile(file);
  const signed = await files.blobs.uploadUrl(fileBucket(file), fileKey(file.id), {
    contentType,
    size: upload.size,
    expiresInSec: uploadUrlSec,
  });
  return { fileId: file.id, uploadUrl: signed.url, expiresAt: signed.expiresAt };
}

/** Completes an upload whose bytes are all there: it waits for its scan (or is unscanned). Idempotent. */
export async function finishUpload(files: FileAccess, file: FileRecord, now: number): Promise<FileInfo> {
  if (file.status !== "uploading") return fileInfoOf(file);
  const stored = await files.blobs.stat(fileBucket(file), fileKey(file.id));
  if (!stored) throw fail.badRequest("the file's bytes have not been uploaded: PUT them to uploadUrl first");
  if (stored.size !== file.size) {
    throw fail.badRequest(`${stored.size} bytes were uploaded, not the ${file.size} that file.begin said`);
  }
  const done =
    (await files.store.completeUpload(file.id, statusAfterUpload(files.policy), now)) ??
    (await files.store.getFile(file.id));
  if (!done) throw fail.notFound("file");
  return fileInfoOf(done);
}

/** A file with its download and thumbnail URLs, when it may be served. */
export async function fileWithUrls(files: FileAccess, file: FileRecord): Promise<ResultOf<"file.get">> {
  const info = fileInfoOf(file);
  if (!servable(file, files.policy)) return { file: info, url: null, thumbnails: {}, expiresAt: null };
  const download = await files.blobs.downloadUrl(fileBucket(file), fileKey(file.id), {
    expiresInSec: downloadUrlSec,
    fileName: file.name,
    contentType: file.contentType,
  });
  const thumbnails: { small?: string; medium?: string } = {};
  for (const t of file.thumbnails) {
    const signed = await files.blobs.downloadUrl("thumbnails", thumbnailKey(file.id, t.size), {
      expiresInSec: downloadUrlSec,
      contentType: "image/webp",
    });
    thumbnails[t.size] = signed.url;
  }
  return { file: info, url: download.url, thumbnails, expiresAt: download.expiresAt };
}
