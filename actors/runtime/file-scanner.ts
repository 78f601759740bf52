/**
 * Scans uploaded files and makes thumbnails of the clean images, off the actors: every
 * actor thread polls for pending files and claims a few with a lease (so each is scanned
 * by one scanner at a time, cluster-wide, and a scanner that dies hands its files on once
 * the lease ends). The bytes stream from the blob store to the scanner. When the scanner
 * cannot tell (clamd down, a timeout), the file stays pending and is tried again with
 * backoff: it is never served as clean. A file the scanner answers about but cannot scan,
 * again and again, is `failed`. The verdict goes to the file's channel actor, which
 * announces it. Infected files are quarantined (never served); file-lifecycle.ts deletes
 * their bytes after 30 days.
 */
import { fileBucket, fileKey, thumbnailKey, wantsThumbnails } from "../../core/file-rules.js";
import type { Logger } from "../../core/logger.js";
import type {
  BlobStore,
  FileRecord,
  FileStore,
  Scanner,
  ScanOutcome,
  Thumbnailer,
} from "../../core/ports.js";
import { noReply, type Routed, systemPrincipal } from "../envelope.js";

export interface FileScannerDeps {
  files: Pick<FileStore, "claimScans" | "recordScan">;
  blobs: BlobStore;
  scanner: Scanner;
  /** Absent: no thumbnails. */
  thumbnails: Thumbnailer | null;
  route: (env: Routed) => void;
  now: () => number;
  logger: Logger;
}

/**
 * Files claimed at a time, and scanned at once (clamd scans each on its own thread). A full
 * claim is followed by the next at once, so a burst of uploads is not held to one claim per
 * poll (bench S11 found small files scanned at 4 per thread per second that way).
 */
const filesPerClaim = 4;
/** How long a claim lasts: longer than a scan of the largest file. */
const claimLeaseMs = 5 * 60_000;
/** Backoff of a file whose scan could not tell, doubling from the first to the most. */
const firstRetryMs = 2000;
const maxRetryMs = 5 * 60_000;
/** Scans answered with an error (the scanner up) before the file is `failed`. */
const maxScanErrors = 5;
/** The largest image thumbnails are made of (read whole into memory for the pool). */
const maxThumbnailSourceBytes = 25 * 1024 * 1024;

/** The delay before a file's next try after `attempts` tries. */
export function retryDelayMs(attempts: number): number {
  return Math.min(maxRetryMs, firstRetryMs * 2 ** Math.max(0, attempts - 1));
}

export class FileScanner {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<number> | null = null;
  private scannerDown = false;

  constructor(
    private readonly deps: FileScannerDeps,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  /** Scans the files due now; resolves with how many got a verdict. */
  poll(): Promise<number> {
    this.running ??= this.scanDue().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async scanDue(): Promise<number> {
    let decided = 0;
    try {
      for (;;) {
        const claimed = await this.deps.files.claimScans(this.deps.now(), claimLeaseMs, filesPerClaim);
        const verdicts = await Promise.all(claimed.map((file) => this.scanOne(file)));
        decided += verdicts.filter(Boolean).length;
        if (claimed.length < filesPerClaim) break;
      }
    } catch (err) {
      // The store failed: the claims' leases end and the files are claimed again.
      this.deps.logger.warn({ err }, "file scanning: the store failed; retrying on the next poll");
    }
    return decided;
  }

  /** Scans one claimed file and records what came of it; true when it got a verdict. */
  private async scanOne(file: FileRecord): Promise<boolean> {
    const { blobs, scanner, logger } = this.deps;
    let outcome: ScanOutcome;
    try {
      const verdict = await scanner.scan(await blobs.read(fileBucket(file), fileKey(file.id)));
      if (this.scannerDown) logger.info({}, "the virus scanner answers again");
      this.scannerDown = false;
      outcome = verdict.infected
        ? { status: "infected", signature: verdict.signature }
        : { status: "clean", thumbnails: await this.thumbnailsOf(file) };
    } catch (err) {
      outcome = await this.afterScanError(file, err);
    }
    const recorded = await this.deps.files.recordScan(file.id, outcome, this.deps.now());
    if ("retryAt" in outcome || !recorded) return false;
    if (outcome.status === "infected") {
      logger.warn({ fileId: file.id, signature: outcome.signature }, "infected file quarantined");
    }
    // A channel's file is announced by its channel; an avatar by its owner's user actor.
    this.deps.route({
      ...(file.channelId === null
        ? { actor: "user" as const, key: file.uploaderId }
        : { actor: "channel" as const, key: file.channelId }),
      callId: noReply,
      op: "file.scanned",
      args: { fileId: file.id },
      principal: systemPrincipal,
    });
    return true;
  }

  /** A scan that failed: tried again later, unless the scanner is up and keeps failing on this file. */
  private async afterScanError(file: FileRecord, err: unknown): Promise<ScanOutcome> {
    const up = await this.deps.scanner.ping().then(
      () => true,
      () => false,
    );
    if (up && file.scanAttempts >= maxScanErrors) {
      this.deps.logger.warn({ err, fileId: file.id }, "file could not be scanned; marked failed");
      return { status: "failed", reason: err instanceof Error ? err.message : String(err) };
    }
    if (!up && !this.scannerDown) {
      this.deps.logger.warn({ err }, "the virus scanner does not answer; files stay pending until it does");
    }
    this.scannerDown = !up;
    return { retryAt: this.deps.now() + retryDelayMs(file.scanAttempts) };
  }

  /** Thumbnails of a clean image, stored in the thumbnails bucket; none when it cannot be read as one. */
  private async thumbnailsOf(file: FileRecord): Promise<FileRecord["thumbnails"]> {
    const { thumbnails, blobs, logger } = this.deps;
    if (
      !thumbnails ||
      !wantsThumbnails({ ...file, status: "clean" }) ||
      file.size > maxThumbnailSourceBytes
    ) {
      return [];
    }
    try {
      const chunks: Uint8Array[] = [];
      for await (const chunk of await blobs.read(fileBucket(file), fileKey(file.id))) chunks.push(chunk);
      const made = await thumbnails.thumbnails(Buffer.concat(chunks));
      if (!made) return [];
      for (const t of made)
        await blobs.write("thumbnails", thumbnailKey(file.id, t.size), t.bytes, "image/webp");
      return made.map(({ size, width, height }) => ({ size, width, height }));
    } catch (err) {
      // The file is clean either way; it is shown without a preview.
      logger.warn({ err, fileId: file.id }, "thumbnails could not be made");
      return [];
    }
  }
}
