/**
 * Channel ops about files: uploads begin and complete here (the channel decides who may
 * post), downloads are granted here (it decides who may read), and the scanner's verdict
 * is announced here. A file belongs to the channel it was uploaded to: its id carries the
 * channel's (core/ids.ts), so every file op reaches this actor.
 */
import { fail } from "../../core/errors.js";
import { fileInfoOf, shareableStatuses, typeAllowed } from "../../core/file-rules.js";
import { newFileId } from "../../core/ids.js";
import type { ArgsOf } from "../../core/ops.js";
import type { FileRecord } from "../../core/ports.js";
import type { Principal } from "../../core/types.js";
import { type FileAccess, fileWithUrls, finishUpload, startUpload } from "../file-uploads.js";
import type { ChannelState, Handled, Reply } from "./channel-state.js";

/** The ports, or `unavailable` where this server offers no files (some unit tests). */
function filesOf(st: ChannelState): FileAccess {
  const files = st.deps.files;
  if (!files) throw fail.unavailable("files are not offered here");
  return files;
}

/** The same answer for a file that does not exist, is another channel's, or is in a channel the caller cannot read. */
const noSuchFile = () => fail.notFound("file");

/** The caller may read this channel, else the file is not found (it does not say whether the channel exists). */
function readableOrNoFile(st: ChannelState, p: Principal): void {
  try {
    st.readable(p);
  } catch {
    throw noSuchFile();
  }
}

/** This channel's file `fileId`, or not_found. */
async function fileHere(st: ChannelState, fileId: string): Promise<FileRecord> {
  const file = await filesOf(st).store.getFile(fileId);
  if (!file || file.channelId !== st.id) throw noSuchFile();
  return file;
}

/** `file.begin`: the caller may post here; the size and type are allowed; the name is made safe. */
export async function beginUpload(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"file.begin">,
): Promise<Reply<"file.begin">> {
  st.postable(p);
  const files = filesOf(st);
  const { policy } = files;
  if (a.size > policy.maxBytes) throw fail.tooLarge(`the file is larger than ${policy.maxBytes} bytes`);
  if (!typeAllowed(a.contentType, policy.allowedTypes)) {
    throw fail.badRequest(`files of type ${a.contentType} are not allowed`);
  }
  const now = st.deps.now();
  const result = await startUpload(files, {
    id: newFileId(st.id, now),
    channelId: st.id,
    uploaderId: p.userId,
    name: a.name,
    size: a.size,
    contentType: a.contentType,
    now,
  });
  return { result };
}

/** `file.complete`: the uploader's bytes are all there; the file waits for its scan. Idempotent. */
export async function completeUpload(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"file.complete">,
): Promise<Reply<"file.complete">> {
  readableOrNoFile(st, p);
  const file = await fileHere(st, a.fileId);
  if (file.uploaderId !== p.userId) throw noSuchFile();
  const wasUploading = file.status === "uploading";
  const info = await finishUpload(filesOf(st), file, st.deps.now());
  if (wasUploading) st.notifyUser(p.userId, "file.updated", { file: info });
  return { result: { file: info } };
}

/**
 * `file.get`: for the uploader, and for whoever can read the channel once a message here
 * that is not deleted carries the file. URLs only for a file that may be served.
 */
export async function getFile(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"file.get">,
): Promise<Reply<"file.get">> {
  readableOrNoFile(st, p);
  const file = await fileHere(st, a.fileId);
  const files = filesOf(st);
  if (file.uploaderId !== p.userId && !(await files.store.isFileShared(file.id, st.id))) throw noSuchFile();
  return { result: await fileWithUrls(files, file) };
}

/**
 * `file.scanned` (internal, from a scanner): announces the file's new status to its
 * uploader and, once it is shared here, to the channel's subscribers.
 */
export async function fileScanned(st: ChannelState, args: { fileId: string }): Promise<Handled> {
  if (!st.exists || !st.deps.files) return { result: {} };
  const file = await st.deps.files.store.getFile(args.fileId);
  if (!file || file.channelId !== st.id) return { result: {} };
  const info = fileInfoOf(file);
  st.notifyUser(file.uploaderId, "file.updated", { file: info });
  if (await st.deps.files.store.isFileShared(file.id, st.id)) st.announce("file.updated", { file: info });
  return { result: {} };
}

/**
 * The files a sender attaches to a message: their own uploads to this channel that are
 * scanned clean or on their way (pending, or unscanned where no scanner runs).
 */
export async function attachableFiles(
  st: ChannelState,
  p: Principal,
  fileIds: readonly string[],
): Promise<string[]> {
  if (fileIds.length === 0) return [];
  const found = new Map((await filesOf(st).store.getFiles([...fileIds])).map((f) => [f.id, f]));
  for (const id of fileIds) {
    const file = found.get(id);
    if (!file || file.channelId !== st.id || file.uploaderId !== p.userId) throw noSuchFile();
    if (!shareableStatuses.includes(file.status)) {
      throw fail.badRequest(`file ${id} cannot be shared: it is ${file.status}`);
    }
  }
  return [...fileIds];
}
