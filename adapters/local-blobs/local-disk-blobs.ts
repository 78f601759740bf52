/**
 * The embedded blob store: objects are files under one root dir (`<root>/<bucket>/<key>`),
 * and the signed URLs clients upload to and download from point at Colink's own HTTP
 * server (`transport/blob-routes.ts`), which checks them with `verify` and streams the
 * bytes through `receive` and `open`.
 *
 * A URL is `<publicBaseUrl>/v1/blobs/<bucket>/<key>?exp=<unix s>&size=<n>&ct=<type>&sig=…`
 * for an upload and `…/v1/blobs/<bucket>/<key>?exp=<unix s>[&ct=<type>][&name=<file name>]&sig=…`
 * for a download (key segments percent-encoded). `sig` is the base64url HMAC-SHA256, with
 * the adapter's secret, of the method, the bucket, the key, the expiry and every parameter
 * the server acts on, so none of them can be changed; parameters it does not act on are
 * ignored.
 *
 * An object only ever appears whole: bytes go to a temp file in the bucket's dir, which is
 * flushed to disk and renamed into place once exactly the signed size arrived. Nothing is
 * read whole into memory. Keys are made by the server, but are still checked to stay
 * inside the bucket's dir. No metadata is kept beside the bytes: a download's type is the
 * one its URL names (else application/octet-stream).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open as openFile, readdir, rename, rm, stat as statPath } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fail } from "../../core/errors.js";
import type { BlobBucket, BlobGrant, BlobStore, SignedBlobAccess, SignedUrl } from "../../core/ports.js";

export interface LocalDiskBlobsOptions {
  /** The dir the buckets' dirs are made in. */
  root: string;
  /** Where clients reach Colink's HTTP server (`https://chat.example.com`), without a trailing slash. */
  publicBaseUrl: string;
  /** The HMAC key of the signed URLs: at least 32 bytes, the same on every node serving them. */
  secret: string | Uint8Array;
  /** The clock URLs are signed by (ms since epoch); tests sign URLs that have expired. */
  now?: () => number;
}

/** The path every blob URL starts with. */
export const blobRoutePrefix = "/v1/blobs/";

const buckets: readonly BlobBucket[] = ["files", "avatars", "thumbnails"];

/** An object opened for a download: its size and bytes, from one open file. */
export interface OpenedBlob {
  size: number;
  body: Readable;
}

/** Temp files of uploads in progress start with this; keys may not (no segment starts with "."). */
const tempPrefix = ".upload-";
/** A temp file this old is left from a process that died mid-upload. */
const abandonedAfterMs = 60 * 60 * 1000;
const maxKeyLength = 1024;
/** A content type the routes can put in a header as it is: printable ASCII. */
const contentTypePattern = /^[\u0020-\u007e]{1,255}$/;
const maxSegmentBytes = 255;

/** Why `key` cannot name a file inside a bucket's dir, or null when it can. */
export function keyProblem(key: string): string | null {
  if (key === "" || key.length > maxKeyLength) return `a key has 1 to ${maxKeyLength} characters`;
  // NUL ends a path in the kernel; other control characters have no place in a file name.
  if (hasControlOrBackslash(key)) return "a key has no control characters or backslashes";
  for (const segment of key.split("/")) {
    // Also refuses "." and "..", absolute keys (an empty first segment), and temp file names.
    if (segment === "" || segment.startsWith("."))
      return "a key's segments are not empty and do not start with '.'";
    if (Buffer.byteLength(segment) > maxSegmentBytes)
      return `a key's segments are at most ${maxSegmentBytes} bytes`;
  }
  return null;
}

function hasControlOrBackslash(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}

function isBucket(name: string): name is BlobBucket {
  return (buckets as readonly string[]).includes(name);
}

/** A key as a URL path: each segment percent-encoded. */
function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** The parameters one signature covers; null stands for a parameter the URL does not carry. */
interface Signed {
  method: "PUT" | "GET";
  bucket: BlobBucket;
  key: string;
  exp: number;
  size: number | null;
  contentType: string | null;
  fileName: string | null;
}

/** The blob store on local disk, served by Colink's own HTTP routes. */
export class LocalDiskBlobs implements BlobStore, SignedBlobAccess {
  private readonly secret: Buffer;
  private readonly now: () => number;
  private readonly baseUrl: string;

  private constructor(private readonly opts: LocalDiskBlobsOptions) {
    this.secret = Buffer.from(opts.secret);
    if (this.secret.length < 32) throw new Error("the blob URL secret must be at least 32 bytes");
    this.now = opts.now ?? Date.now;
    this.baseUrl = opts.publicBaseUrl.replace(/\/+$/, "");
  }

  /** Makes the buckets' dirs and removes temp files left by uploads a dead process never finished. */
  static async open(opts: LocalDiskBlobsOptions): Promise<LocalDiskBlobs> {
    const store = new LocalDiskBlobs(opts);
    for (const bucket of buckets) {
      const dir = join(opts.root, bucket);
      await mkdir(dir, { recursive: true });
      for (const name of await readdir(dir)) {
        if (!name.startsWith(tempPrefix)) continue;
        const file = join(dir, name);
        const info = await statPath(file).catch(() => null);
        if (info && Date.now() - info.mtimeMs > abandonedAfterMs) await rm(file, { force: true });
      }
    }
    return store;
  }

  async uploadUrl(
    bucket: BlobBucket,
    key: string,
    opts: { contentType: string; size: number; expiresInSec: number },
  ): Promise<SignedUrl> {
    if (!Number.isSafeInteger(opts.size) || opts.size < 0) throw new Error(`bad upload size ${opts.size}`);
    return this.signedUrl({
      method: "PUT",
      bucket,
      key,
      exp: this.expiry(opts.expiresInSec),
      size: opts.size,
      contentType: opts.contentType,
      fileName: null,
    });
  }

  async downloadUrl(
    bucket: BlobBucket,
    key: string,
    opts: { expiresInSec: number; fileName?: string; contentType?: string },
  ): Promise<SignedUrl> {
    return this.signedUrl({
      method: "GET",
      bucket,
      key,
      exp: this.expiry(opts.expiresInSec),
      size: null,
      contentType: opts.contentType ?? null,
      fileName: opts.fileName ?? null,
    });
  }

  /**
   * What the signed URL with this method, bucket, key (decoded from the path) and query
   * allows at `now` (ms): the signature is checked before the expiry, in constant time.
   */
  verify(method: string, bucket: string, key: string, params: URLSearchParams, now: number): BlobGrant {
    const malformed = (message: string): BlobGrant => ({ ok: false, refusal: "malformed", message });
    const upper = method.toUpperCase();
    if (upper !== "PUT" && upper !== "GET") return malformed(`${method} is not a blob method`);
    if (!isBucket(bucket)) return malformed(`no bucket ${bucket}`);
    const problem = keyProblem(key);
    if (problem) return malformed(problem);
    const exp = params.get("exp");
    const sig = params.get("sig");
    if (!exp || !/^\d{1,12}$/.test(exp) || !sig) return malformed("the URL is not signed");
    const sizeParam = params.get("size");
    if (upper === "PUT" && (!sizeParam || !/^\d{1,16}$/.test(sizeParam))) {
      return malformed("an upload URL carries its size");
    }
    const signed: Signed = {
      method: upper,
      bucket,
      key,
      exp: Number(exp),
      size: upper === "PUT" ? Number(sizeParam) : null,
      contentType: params.get("ct"),
      fileName: upper === "GET" ? params.get("name") : null,
    };
    if (upper === "PUT" && signed.contentType === null) return malformed("an upload URL carries its type");
    if (signed.contentType !== null && !contentTypePattern.test(signed.contentType)) {
      return malformed("bad content type");
    }
    const expected = this.signature(signed);
    const given = Buffer.from(sig, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, refusal: "bad_signature", message: "the URL's signature does not match" };
    }
    const expiresAt = signed.exp * 1000;
    if (now > expiresAt) return { ok: false, refusal: "expired", message: "the URL has expired" };
    return upper === "PUT"
      ? { ok: true, op: "put", bucket, key, size: signed.size!, contentType: signed.contentType!, expiresAt }
      : {
          ok: true,
          op: "get",
          bucket,
          key,
          contentType: signed.contentType,
          fileName: signed.fileName,
          expiresAt,
        };
  }

  /**
   * Stores exactly `size` bytes from `body` as the object: rejects with `too_large` as soon
   * as more arrive, with `bad_request` when fewer did; the object is then what it was before.
   * `body` is pulled only as fast as the disk takes it.
   */
  async receive(
    bucket: BlobBucket,
    key: string,
    size: number,
    body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<void> {
    const target = this.pathOf(bucket, key);
    const temp = join(this.opts.root, bucket, `${tempPrefix}${randomBytes(12).toString("hex")}`);
    let received = 0;
    async function* counted(
      source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    ): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        received += chunk.byteLength;
        if (received > size) throw fail.tooLarge(`the upload is larger than the ${size} bytes signed for`);
        yield chunk;
      }
    }
    // `flush`: the bytes are on disk before the rename makes them the object.
    const sink = createWriteStream(temp, { flags: "wx", flush: true });
    try {
      await pipeline(body, counted, sink);
      if (received !== size) {
        throw fail.badRequest(`the upload has ${received} bytes, not the ${size} signed for`);
      }
      await mkdir(dirname(target), { recursive: true });
      await rename(temp, target);
    } catch (err) {
      // A body that fails at once can fail before the stream has opened (created) its
      // file; the stream still opens it, then closes it: remove it only after that.
      if (!sink.closed) await new Promise<void>((closed) => sink.once("close", () => closed()));
      await rm(temp, { force: true });
      throw err;
    }
  }

  /** The object's size and a stream of its bytes, or null when there is none. */
  async openObject(bucket: BlobBucket, key: string): Promise<OpenedBlob | null> {
    const handle = await openFile(this.pathOf(bucket, key), "r").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") return null;
      throw err;
    });
    if (!handle) return null;
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        return null;
      }
      // Size and bytes come from one open file: a replaced or removed object does not mix in.
      return { size: info.size, body: handle.createReadStream() };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(bucket: BlobBucket, key: string): Promise<{ size: number } | null> {
    const info = await statPath(this.pathOf(bucket, key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") return null;
      throw err;
    });
    return info?.isFile() ? { size: info.size } : null;
  }

  async read(bucket: BlobBucket, key: string): Promise<AsyncIterable<Uint8Array>> {
    const opened = await this.openObject(bucket, key);
    if (!opened) throw fail.notFound(`blob ${bucket}/${key}`);
    return opened.body;
  }

  async write(bucket: BlobBucket, key: string, body: Uint8Array, _contentType: string): Promise<void> {
    await this.receive(bucket, key, body.byteLength, [body]);
  }

  async remove(bucket: BlobBucket, key: string): Promise<void> {
    // Empty key dirs stay: removing one could race an upload renaming into it.
    await rm(this.pathOf(bucket, key), { force: true });
  }

  async close(): Promise<void> {}

  /** The file of an object; throws on a key that could leave the bucket's dir. */
  private pathOf(bucket: BlobBucket, key: string): string {
    if (!isBucket(bucket)) throw new Error(`no bucket ${bucket}`);
    const problem = keyProblem(key);
    if (problem) throw fail.badRequest(`bad blob key: ${problem}`);
    return join(this.opts.root, bucket, ...key.split("/"));
  }

  /** Unix seconds, rounded up so that a URL lasts at least `expiresInSec`. */
  private expiry(expiresInSec: number): number {
    if (!Number.isFinite(expiresInSec) || expiresInSec <= 0) throw new Error(`bad expiry ${expiresInSec}`);
    return Math.ceil((this.now() + expiresInSec * 1000) / 1000);
  }

  private signature(s: Signed): Buffer {
    // JSON keeps the fields apart whatever they hold; the version names this layout.
    const canonical = JSON.stringify([
      "colink-blob-v1",
      s.method,
      s.bucket,
      s.key,
      s.exp,
      s.size,
      s.contentType,
      s.fileName,
    ]);
    return createHmac("sha256", this.secret).update(canonical).digest();
  }

  private signedUrl(s: Signed): SignedUrl {
    this.pathOf(s.bucket, s.key);
    if (s.contentType !== null && !contentTypePattern.test(s.contentType)) {
      throw fail.badRequest(`bad content type ${JSON.stringify(s.contentType)}`);
    }
    const query = new URLSearchParams({ exp: String(s.exp) });
    if (s.size !== null) query.set("size", String(s.size));
    if (s.contentType !== null) query.set("ct", s.contentType);
    if (s.fileName !== null) query.set("name", s.fileName);
    query.set("sig", this.signature(s).toString("base64url"));
    return {
      url: `${this.baseUrl}${blobRoutePrefix}${s.bucket}/${encodeKey(s.key)}?${query}`,
      expiresAt: s.exp * 1000,
    };
  }
}
