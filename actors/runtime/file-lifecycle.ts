/**
 * Deletes what files leave behind, hourly, on every actor thread (each deletion is
 * idempotent, so threads and nodes doing it at once is harmless): the bytes of files
 * quarantined more than 30 days ago (their rows stay, for audit), and uploads begun a day
 * ago that were never completed (a closed tab, a removed attachment), record and bytes.
 */
import { abandonedUploadMs, fileBucket, fileKey, quarantineMs } from "../../core/file-rules.js";
import type { Logger } from "../../core/logger.js";
import type { BlobStore, FileStore } from "../../core/ports.js";

export interface FileLifecycleDeps {
  files: Pick<FileStore, "quarantinedBefore" | "markPurged" | "abandonedUploads" | "dropUpload">;
  blobs: Pick<BlobStore, "remove">;
  now: () => number;
  logger: Logger;
}

/** Files deleted per kind per run. */
const perRun = 100;

export class FileLifecycle {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly deps: FileLifecycleDeps,
    intervalMs = 60 * 60_000,
  ) {
    this.timer = setInterval(() => void this.run(), intervalMs);
    this.timer.unref();
  }

  /** One pass; resolves with what it deleted. */
  async run(): Promise<{ purged: number; abandoned: number }> {
    const { files, blobs, now, logger } = this.deps;
    try {
      const quarantined = await files.quarantinedBefore(now() - quarantineMs, perRun);
      for (const file of quarantined) {
        await blobs.remove(fileBucket(file), fileKey(file.id));
        await files.markPurged(file.id);
      }
      const abandoned = await files.abandonedUploads(now() - abandonedUploadMs, perRun);
      for (const file of abandoned) {
        await blobs.remove(fileBucket(file), fileKey(file.id));
        await files.dropUpload(file.id);
      }
      if (quarantined.length + abandoned.length > 0) {
        logger.info({ purged: quarantined.length, abandoned: abandoned.length }, "deleted old files");
      }
      return { purged: quarantined.length, abandoned: abandoned.length };
    } catch (err) {
      logger.warn({ err }, "deleting old files failed; trying again at the next run");
      return { purged: 0, abandoned: 0 };
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
