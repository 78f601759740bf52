/**
 * Uploads the files attached in a composer (by its button, by paste, by drop): for each,
 * `file.begin` (which may refuse it: too large, a type not allowed), a PUT of its bytes to
 * the signed URL with progress, then `file.complete`. The attachments live in the store per
 * composer key, so they survive switching conversations; a send takes their file ids once
 * all are uploaded. A failure removes the attachment and says why in the composer.
 */
import type { ColinkClient } from "@colink/client";
import { reportError } from "../logger.js";
import type { AppState, Attachment } from "./app-state.js";
import { attachFailure, uploadContentType } from "./attach-failure.js";
import {
  attachmentsOf,
  maxFilesPerMessage,
  roomFor,
  takeAttachments,
  withAttachError,
  withAttachments,
  withFileId,
  withoutAttachment,
  withProgress,
  withReady,
} from "./attachments.js";
import { type PutRequest, putFile, UploadAborted } from "./put-file.js";
import { serverUrl } from "./server-url.js";
import type { Store } from "./store.js";

export class FileUploads {
  /** Uploads under way, by attachment id (removing the attachment aborts its upload). */
  private readonly running = new Map<string, PutRequest>();
  private lastId = 0;

  constructor(
    private readonly client: ColinkClient,
    private readonly store: Store<AppState>,
  ) {}

  /** Attaches `files` to the composer `key` (of `channelId`) and uploads each; beyond a message's 10, says so. */
  attach(key: string, channelId: string, files: readonly File[]): void {
    if (files.length === 0) return;
    const taken = files.slice(0, roomFor(this.store.get(), key));
    const error =
      taken.length < files.length ? `A message can carry at most ${maxFilesPerMessage} files` : null;
    const added: Attachment[] = taken.map((file) => ({
      id: `attachment-${++this.lastId}`,
      name: file.name || "file",
      size: file.size,
      contentType: uploadContentType(file.type),
      sent: 0,
      fileId: null,
      ready: false,
    }));
    this.store.update((s) => withAttachError(withAttachments(s, key, added), key, error));
    added.forEach((attachment, i) => void this.upload(key, channelId, attachment, taken[i]!));
  }

  /** Removes an attachment before it is sent (stopping its upload). */
  remove(key: string, id: string): void {
    this.running.get(id)?.abort();
    this.running.delete(id);
    this.store.update((s) => withoutAttachment(s, key, id));
  }

  /** The file ids to send with the composer's message, taken out of it; null while an upload runs. */
  take(key: string): string[] | null {
    let fileIds: string[] | null = null;
    this.store.update((s) => {
      const taken = takeAttachments(s, key);
      if (!taken) return s;
      fileIds = taken.fileIds;
      return taken.state;
    });
    return fileIds;
  }

  dismissError(key: string): void {
    this.store.update((s) => withAttachError(s, key, null));
  }

  private held(key: string, id: string): boolean {
    return attachmentsOf(this.store.get(), key).some((a) => a.id === id);
  }

  private async upload(key: string, channelId: string, attachment: Attachment, file: File): Promise<void> {
    const { id, name, size, contentType } = attachment;
    try {
      const begun = await this.client.request("file.begin", { channelId, name, size, contentType });
      if (!this.held(key, id)) return;
      this.store.update((s) => withFileId(s, key, id, begun.fileId));
      const put = putFile(serverUrl(begun.uploadUrl), file, contentType, (sent) =>
        this.store.update((s) => withProgress(s, key, id, sent)),
      );
      this.running.set(id, put);
      await put.done;
      this.running.delete(id);
      if (!this.held(key, id)) return;
      await this.client.request("file.complete", { fileId: begun.fileId });
      this.store.update((s) => withReady(s, key, id));
    } catch (error) {
      this.running.delete(id);
      if (error instanceof UploadAborted || !this.held(key, id)) return;
      reportError(`attaching ${name}`, error);
      this.store.update((s) =>
        withAttachError(withoutAttachment(s, key, id), key, attachFailure(name, error)),
      );
    }
  }
}
