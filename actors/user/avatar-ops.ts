/**
 * A user's avatar: an image uploaded like a channel's file but in no channel, its bytes in
 * the avatars bucket. Only its owner uploads and completes it; once scanned clean,
 * `user.update {avatarFileId}` links it from the profile, and then anyone signed in may
 * fetch it (`file.get`), as they may see the profile.
 */
import { fail } from "../../core/errors.js";
import { fileInfoOf, maxAvatarBytes, servable } from "../../core/file-rules.js";
import { IdPrefix, newId } from "../../core/ids.js";
import type { ArgsOf, ResultOf } from "../../core/ops.js";
import type { FileRecord } from "../../core/ports.js";
import type { FileInfo } from "../../core/types.js";
import { type FileAccess, fileWithUrls, finishUpload, startUpload } from "../file-uploads.js";

/** The ports, or `unavailable` where this server offers no files (some unit tests). */
function filesOf(files: FileAccess | undefined): FileAccess {
  if (!files) throw fail.unavailable("files are not offered here");
  return files;
}

/** An avatar file, or not_found for any other id. */
async function avatarOf(files: FileAccess, fileId: string): Promise<FileRecord> {
  const file = await files.store.getFile(fileId);
  if (!file || file.channelId !== null) throw fail.notFound("file");
  return file;
}

/** `user.avatar.begin`: an image of at most 5 MiB (and the file limit). */
export async function beginAvatar(
  access: FileAccess | undefined,
  userId: string,
  a: ArgsOf<"user.avatar.begin">,
  now: number,
): Promise<ResultOf<"user.avatar.begin">> {
  const files = filesOf(access);
  const limit = Math.min(maxAvatarBytes, files.policy.maxBytes);
  if (a.size > limit) throw fail.tooLarge(`an avatar is at most ${limit} bytes`);
  return startUpload(files, {
    id: newId(IdPrefix.avatar, now),
    channelId: null,
    uploaderId: userId,
    name: a.name,
    size: a.size,
    contentType: a.contentType,
    now,
  });
}

/** `file.complete` of an avatar: its owner's only. */
export async function completeAvatar(
  access: FileAccess | undefined,
  userId: string,
  fileId: string,
  now: number,
): Promise<FileInfo> {
  const files = filesOf(access);
  const file = await avatarOf(files, fileId);
  if (file.uploaderId !== userId) throw fail.notFound("file");
  return finishUpload(files, file, now);
}

/** `file.get` of an avatar: its owner always; anyone else once it may be served. */
export async function getAvatar(
  access: FileAccess | undefined,
  userId: string,
  fileId: string,
): Promise<ResultOf<"file.get">> {
  const files = filesOf(access);
  const file = await avatarOf(files, fileId);
  if (file.uploaderId !== userId && !servable(file, files.policy)) throw fail.notFound("file");
  return fileWithUrls(files, file);
}

/** The avatar `user.update` may link: the caller's, scanned clean (or unscanned where allowed). */
export async function linkableAvatar(
  access: FileAccess | undefined,
  userId: string,
  fileId: string,
): Promise<string> {
  const files = filesOf(access);
  const file = await avatarOf(files, fileId);
  if (file.uploaderId !== userId) throw fail.notFound("file");
  if (!servable(file, files.policy)) {
    throw fail.badRequest(`the avatar cannot be used: it is ${fileInfoOf(file).status}`);
  }
  return file.id;
}
