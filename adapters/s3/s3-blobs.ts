/**
 * The blob store on S3 (or anything that speaks its API: MinIO, S3Mock): clients upload
 * and download straight to and from S3 with presigned URLs, and Colink's server only
 * reads objects as streams (to scan them, to make thumbnails) and writes its thumbnails.
 *
 * An upload URL signs its Content-Type and Content-Length headers, so S3 refuses a PUT of
 * another type or size. A download URL carries the type and the Content-Disposition (the
 * file name, always `attachment`) S3 answers with. The client computes checksums only
 * where S3 requires them: the SDK's default adds CRC32 parameters to presigned PUTs that a
 * browser's request does not match, and S3-compatible servers reject.
 */
import { Readable } from "node:stream";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { attachmentDisposition } from "../../core/content-disposition.js";
import { fail } from "../../core/errors.js";
import type { BlobBucket, BlobStore, SignedUrl } from "../../core/ports.js";

export interface S3BlobsOptions {
  /** The S3 endpoint (`http://127.0.0.1:9000` for MinIO); AWS's own for the region when absent. */
  endpoint?: string;
  /**
   * The endpoint as clients reach it, when it differs from the server's (a MinIO that the
   * server reaches as `http://minio:9000` and browsers as `http://localhost:9000`): the
   * presigned URLs are signed for it, since the host is part of the signature.
   */
  publicEndpoint?: string;
  region: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO, S3Mock). */
  forcePathStyle: boolean;
  /** Absent: the SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The S3 bucket each of Colink's buckets is (one S3 bucket may hold several). */
  buckets: Record<BlobBucket, string>;
}

/** Whether the SDK's error says there is no such object (HeadObject answers a bare 404). */
function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.name === "NotFound" || err.name === "NoSuchKey" || err.$metadata.httpStatusCode === 404;
}

/** The blob store on S3. */
export class S3Blobs implements BlobStore {
  private readonly client: S3Client;
  /** Signs the URLs clients use: `client` itself unless they reach S3 elsewhere. */
  private readonly presigner: S3Client;

  constructor(private readonly opts: S3BlobsOptions) {
    const clientFor = (endpoint: string | undefined) =>
      new S3Client({
        region: opts.region,
        forcePathStyle: opts.forcePathStyle,
        ...(endpoint ? { endpoint } : {}),
        ...(opts.credentials ? { credentials: opts.credentials } : {}),
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      });
    this.client = clientFor(opts.endpoint);
    this.presigner = opts.publicEndpoint ? clientFor(opts.publicEndpoint) : this.client;
  }

  /** Creates the buckets that do not exist yet (for tests and development; production buckets are made by their owner). */
  async ensureBuckets(): Promise<void> {
    for (const name of new Set(Object.values(this.opts.buckets))) {
      const exists = await this.client.send(new HeadBucketCommand({ Bucket: name })).then(
        () => true,
        (err: unknown) => {
          if (isNotFound(err)) return false;
          throw err;
        },
      );
      if (exists) continue;
      await this.client.send(new CreateBucketCommand({ Bucket: name })).catch((err: unknown) => {
        // Another process made it in between.
        if (err instanceof S3ServiceException && err.name === "BucketAlreadyOwnedByYou") return;
        throw err;
      });
    }
  }

  async uploadUrl(
    bucket: BlobBucket,
    key: string,
    opts: { contentType: string; size: number; expiresInSec: number },
  ): Promise<SignedUrl> {
    const command = new PutObjectCommand({
      Bucket: this.opts.buckets[bucket],
      Key: key,
      ContentType: opts.contentType,
      ContentLength: opts.size,
    });
    return this.presign(command, opts.expiresInSec, new Set(["content-type", "content-length"]));
  }

  async downloadUrl(
    bucket: BlobBucket,
    key: string,
    opts: { expiresInSec: number; fileName?: string; contentType?: string },
  ): Promise<SignedUrl> {
    const command = new GetObjectCommand({
      Bucket: this.opts.buckets[bucket],
      Key: key,
      ResponseContentDisposition: attachmentDisposition(opts.fileName),
      ...(opts.contentType ? { ResponseContentType: opts.contentType } : {}),
    });
    return this.presign(command, opts.expiresInSec);
  }

  async stat(bucket: BlobBucket, key: string): Promise<{ size: number } | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.opts.buckets[bucket], Key: key }),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async read(bucket: BlobBucket, key: string): Promise<AsyncIterable<Uint8Array>> {
    try {
      const got = await this.client.send(
        new GetObjectCommand({ Bucket: this.opts.buckets[bucket], Key: key }),
      );
      // In Node the body is the response's IncomingMessage: a Readable, read as it streams.
      if (!(got.Body instanceof Readable))
        throw new Error("S3 answered GetObject without a Node stream body");
      return got.Body;
    } catch (err) {
      if (isNotFound(err)) throw fail.notFound(`blob ${bucket}/${key}`);
      throw err;
    }
  }

  async write(bucket: BlobBucket, key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.opts.buckets[bucket],
        Key: key,
        Body: body,
        ContentType: contentType,
      }),
    );
  }

  async remove(bucket: BlobBucket, key: string): Promise<void> {
    // S3 answers 204 for a key that is not there as well.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.buckets[bucket], Key: key }));
  }

  async close(): Promise<void> {
    this.client.destroy();
    if (this.presigner !== this.client) this.presigner.destroy();
  }

  private async presign(
    command: PutObjectCommand | GetObjectCommand,
    expiresInSec: number,
    signableHeaders?: Set<string>,
  ): Promise<SignedUrl> {
    const signedAt = Date.now();
    const url = await getSignedUrl(this.presigner, command, {
      expiresIn: expiresInSec,
      signingDate: new Date(signedAt),
      // The presigner leaves Content-Type unsigned unless it is named here.
      ...(signableHeaders ? { signableHeaders } : {}),
    });
    // SigV4 counts from the signing time, to the second.
    return { url, expiresAt: Math.floor(signedAt / 1000) * 1000 + expiresInSec * 1000 };
  }
}
