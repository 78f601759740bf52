/**
 * The file ports a thread opens from the configuration: the blob store (local disk by
 * default, S3 when `S3_BUCKET_FILES` is set), the virus scanner (clamd when `CLAMAV_URL`
 * is set) and the thumbnail pool (wherever a scanner runs: thumbnails are made only of
 * scanned files).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { openClamdScanner } from "../adapters/clamav/clamd-scanner.js";
import { LocalDiskBlobs } from "../adapters/local-blobs/local-disk-blobs.js";
import { S3Blobs } from "../adapters/s3/s3-blobs.js";
import { openThumbnailPool } from "../adapters/thumbnails/thumbnail-pool.js";
import type { FileConfig, S3Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import type { BlobStore, Scanner, Thumbnailer } from "../core/ports.js";

/** The local disk's URL signing key: configured, or made once and kept beside the files (every thread reads the same). */
async function urlSecretOf(config: FileConfig): Promise<string> {
  if (config.urlSecret) return config.urlSecret;
  const path = join(config.dir, ".url-secret");
  await mkdir(config.dir, { recursive: true });
  const made = randomBytes(32).toString("base64url");
  // `wx`: of threads starting at once, one writes it and the others read that one.
  await writeFile(path, made, { flag: "wx", mode: 0o600 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
  });
  return (await readFile(path, "utf8")).trim();
}

/** The local-disk blob store (its signed URLs are served by the transport's blob routes). */
export async function openLocalBlobs(config: FileConfig): Promise<LocalDiskBlobs> {
  return LocalDiskBlobs.open({
    root: config.dir,
    publicBaseUrl: config.publicUrl,
    secret: await urlSecretOf(config),
  });
}

/** The S3 blob store of the configuration. */
function s3BlobsOf(s3: S3Config): S3Blobs {
  return new S3Blobs({
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    buckets: s3.buckets,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3.publicEndpoint ? { publicEndpoint: s3.publicEndpoint } : {}),
    ...(s3.credentials ? { credentials: s3.credentials } : {}),
  });
}

/** The configured blob store. */
export async function openBlobStore(config: FileConfig): Promise<BlobStore> {
  return config.s3 ? s3BlobsOf(config.s3) : openLocalBlobs(config);
}

/** Creates the S3 buckets that are missing (a development MinIO; production buckets usually exist). */
export async function ensureS3Buckets(config: FileConfig, logger: Logger): Promise<void> {
  const { s3 } = config;
  if (!s3) return;
  const blobs = s3BlobsOf(s3);
  try {
    await blobs.ensureBuckets();
  } catch (err) {
    logger.warn(
      { err, buckets: s3.buckets },
      "could not check or create the S3 buckets; uploads fail until they exist",
    );
  } finally {
    await blobs.close();
  }
}

/** The scanner and the thumbnail pool, where a scanner is configured. */
export function openFileScanning(
  config: FileConfig,
  logger: Logger,
): { scanner: Scanner; thumbnails: Thumbnailer } | null {
  if (!config.clamav) return null;
  return {
    scanner: openClamdScanner({ ...config.clamav, maxBytes: config.policy.maxBytes, logger }),
    thumbnails: openThumbnailPool({}),
  };
}
