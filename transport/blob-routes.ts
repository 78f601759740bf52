/**
 * The routes behind the local blob store's signed URLs: `PUT /v1/blobs/<bucket>/<key>`
 * streams an upload to disk and `GET /v1/blobs/<bucket>/<key>` streams an object back, both
 * only as the URL's signature allows (the store checks it). With S3 clients go to S3
 * itself, and these routes are not registered.
 *
 * Neither direction holds a file in memory: an upload's chunks are copied out of uWS (it
 * reuses their memory) and queued until the disk takes them, and the socket is paused
 * while more than `maxBufferedBytes` wait; a download writes one chunk of the file at a
 * time and reads the next only once uWS has taken the last (`tryEnd`, `onWritable`).
 *
 * Bodies: an upload is at most the size its URL was signed for, which `file.begin` held to
 * `COLINK_MAX_FILE_BYTES` (and a URL signed for more than today's limit is refused); a
 * download request's body is never read, and one declared larger than
 * `COLINK_MAX_PAYLOAD_BYTES` is refused. Both answer 413; an upload's connection is closed,
 * a download's is kept when its body can be drained (`cutsConnection`).
 */
import type { HttpResponse, TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import { attachmentDisposition } from "../core/content-disposition.js";
import { ColinkError, type ErrorBody, errorBodyLogged, fail, httpStatusOf } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { BlobGrant, ObjectBytes, SignedBlobAccess } from "../core/ports.js";
import type { Header } from "./cors.js";
import { cutsConnection, declaredTooLarge, statusText } from "./http-json.js";
import { dataContentSecurityPolicy } from "./security-headers.js";

export interface BlobRoutesOptions {
  logger: Logger;
  /** Headers of every answer (security-headers.ts `securityHeaders`; each answer adds its CSP). */
  headers: readonly Header[];
  /** COLINK_MAX_FILE_BYTES: no upload is taken beyond it, whatever its URL says. */
  maxFileBytes: number;
  /** COLINK_MAX_PAYLOAD_BYTES: the most a request without an upload may declare. */
  maxPayloadBytes: number;
  /** Bytes of an upload queued for the disk before its socket is paused (default 512 KiB). */
  maxBufferedBytes?: number;
}

const prefix = "/v1/blobs/";

/** A response's life: whether it may still be written to. */
interface Exchange {
  res: HttpResponse;
  aborted: boolean;
  /** Answered (ended, or closed on purpose). */
  done: boolean;
  /** Wakes whatever waits on the socket (a paused upload, a download waiting to write). */
  wake: (() => void) | null;
  /** An upload: an error answer closes the connection, as the client may still be sending a body nobody reads. */
  closeOnError: boolean;
  /** Headers of every answer. */
  headers: readonly Header[];
}

/** Registers the blob routes on `app`. */
export function registerBlobRoutes(
  app: TemplatedApp,
  access: SignedBlobAccess,
  opts: BlobRoutesOptions,
): void {
  const maxBuffered = opts.maxBufferedBytes ?? 512 * 1024;
  const logger = opts.logger;

  app.put(`${prefix}*`, (res, req) => {
    const url = req.getUrl();
    const query = req.getQuery() ?? "";
    const contentType = req.getHeader("content-type").trim();
    const contentLength = req.getHeader("content-length");
    const ex = exchange(res, true, opts.headers);
    const grant = authorise(access, "PUT", url, query);
    if (!grant.ok || grant.op !== "put") return refuse(ex, grant, logger);
    if (grant.size > opts.maxFileBytes) {
      return refuse(ex, fail.tooLarge(`the upload is larger than ${opts.maxFileBytes} bytes`), logger);
    }
    if (contentType !== grant.contentType) {
      return refuse(ex, fail.forbidden("the Content-Type is not the one the URL was signed for"), logger);
    }
    // A declared length that cannot be right is refused before a byte is written.
    if (contentLength !== "") {
      const declared = Number(contentLength);
      if (declared > grant.size) {
        return refuse(
          ex,
          fail.tooLarge(`the upload is larger than the ${grant.size} bytes signed for`),
          logger,
        );
      }
      if (declared < grant.size) {
        return refuse(
          ex,
          fail.badRequest(`the upload has ${declared} bytes, not the ${grant.size} signed for`),
          logger,
        );
      }
    }
    const body = new RequestBody(ex, maxBuffered);
    access.receive(grant.bucket, grant.key, grant.size, body).then(
      () => {
        if (!live(ex)) return;
        ex.done = true;
        res.cork(() => {
          res.writeStatus(statusText[204]!);
          for (const [name, value] of ex.headers) res.writeHeader(name, value);
          res.writeHeader(...dataContentSecurityPolicy);
          res.endWithoutBody();
        });
      },
      (err: unknown) => {
        body.release();
        refuse(ex, err, logger);
      },
    );
  });

  app.get(`${prefix}*`, (res, req) => {
    const url = req.getUrl();
    const query = req.getQuery() ?? "";
    const ex = exchange(res, false, opts.headers);
    const contentLength = req.getHeader("content-length");
    if (declaredTooLarge(contentLength, opts.maxPayloadBytes)) {
      ex.closeOnError = cutsConnection(contentLength);
      return refuse(ex, fail.tooLarge(`body is larger than ${opts.maxPayloadBytes} bytes`), logger);
    }
    const grant = authorise(access, "GET", url, query);
    if (!grant.ok || grant.op !== "get") return refuse(ex, grant, logger);
    access.openObject(grant.bucket, grant.key).then(
      (opened) => {
        if (!opened) return refuse(ex, fail.notFound("file"), logger);
        const maxAge = Math.max(0, Math.floor((grant.expiresAt - Date.now()) / 1000));
        const headers: Header[] = [
          ...opts.headers,
          ["content-type", grant.contentType ?? "application/octet-stream"],
          ["content-disposition", attachmentDisposition(grant.fileName)],
          // Opened directly, a file is never a page of this origin that runs anything, nor
          // one that another site frames.
          ["content-security-policy", "default-src 'none'; sandbox; frame-ancestors 'none'"],
          // No longer than the URL is good for, and never in a shared cache.
          ["cache-control", `private, max-age=${maxAge}`],
        ];
        return sendObject(ex, opened.size, opened.body, headers, logger);
      },
      (err: unknown) => refuse(ex, err, logger),
    );
  });
}

function exchange(res: HttpResponse, closeOnError: boolean, headers: readonly Header[]): Exchange {
  const ex: Exchange = { res, aborted: false, done: false, wake: null, closeOnError, headers };
  res.onAborted(() => {
    ex.aborted = true;
    ex.wake?.();
  });
  return ex;
}

function live(ex: Exchange): boolean {
  return !ex.aborted && !ex.done;
}

/** The store's answer for the URL of this request; a path that is no bucket and key is malformed. */
function authorise(access: SignedBlobAccess, method: string, url: string, query: string): BlobGrant {
  const rest = url.slice(prefix.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return { ok: false, refusal: "malformed", message: "a blob URL names a bucket and a key" };
  try {
    const bucket = decodeURIComponent(rest.slice(0, slash));
    const key = rest
      .slice(slash + 1)
      .split("/")
      .map(decodeURIComponent)
      .join("/");
    return access.verify(method, bucket, key, new URLSearchParams(query), Date.now());
  } catch {
    // decodeURIComponent: a stray %.
    return { ok: false, refusal: "malformed", message: "the blob URL's path is not valid percent-encoding" };
  }
}

/** The error for a refused grant, or for anything thrown. */
function errorOf(refusal: unknown, logger: Logger): ErrorBody {
  if (typeof refusal === "object" && refusal !== null && "ok" in refusal && refusal.ok === false) {
    const { refusal: reason, message } = refusal as Extract<BlobGrant, { ok: false }>;
    const error =
      reason === "malformed" ? fail.badRequest(message) : new ColinkError("forbidden", message, { reason });
    return error.toBody();
  }
  return errorBodyLogged(refusal, logger, { route: "blobs" });
}

/** Answers with the error body (closing an upload's connection after it). */
function refuse(ex: Exchange, refusal: unknown, logger: Logger): void {
  if (!live(ex)) return;
  const error = errorOf(refusal, logger);
  ex.done = true;
  ex.res.cork(() => {
    ex.res.writeStatus(statusText[httpStatusOf[error.code]] ?? String(httpStatusOf[error.code]));
    for (const [name, value] of ex.headers) ex.res.writeHeader(name, value);
    ex.res.writeHeader(...dataContentSecurityPolicy);
    ex.res.writeHeader("content-type", "application/json");
    ex.res.end(JSON.stringify({ error }), ex.closeOnError);
  });
}

/**
 * An upload's body as the store pulls it. Chunks wait in a queue; while it holds
 * `highWater` bytes or more the socket is paused, and it is resumed once the queue is
 * down to half. An aborted request ends the iteration with an error.
 */
class RequestBody implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  private paused = false;
  /** The store stopped pulling (done, or refused the upload): later chunks are dropped. */
  private stopped = false;

  constructor(
    private readonly ex: Exchange,
    private readonly highWater: number,
  ) {
    ex.res.onData((chunk, isLast) => this.push(chunk, isLast));
  }

  /** Resumes a paused socket, so that an answer can be written. */
  release(): void {
    this.stopped = true;
    this.chunks.length = 0;
    this.buffered = 0;
    if (this.paused && live(this.ex)) this.ex.res.resume();
    this.paused = false;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (this.ex.aborted) throw new Error("the client went away during the upload");
        const chunk = this.chunks.shift();
        if (chunk) {
          this.buffered -= chunk.byteLength;
          if (this.paused && this.buffered <= this.highWater / 2 && live(this.ex)) {
            this.paused = false;
            this.ex.res.resume();
          }
          yield chunk;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => {
          this.ex.wake = resolve;
        });
        this.ex.wake = null;
      }
    } finally {
      this.stopped = true;
    }
  }

  private push(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.stopped) return;
    if (chunk.byteLength > 0) {
      // uWS reuses the chunk's memory after this callback: copy it.
      const copy = new Uint8Array(chunk.slice(0));
      this.chunks.push(copy);
      this.buffered += copy.byteLength;
    }
    if (isLast) this.ended = true;
    else if (!this.paused && this.buffered >= this.highWater) {
      this.paused = true;
      this.ex.res.pause();
    }
    this.ex.wake?.();
  }
}

/**
 * Streams `size` bytes of `body` as the answer, one chunk at a time: the next chunk is read
 * only once uWS has taken the last. A body that fails or ends short closes the connection
 * (the Content-Length already promised more); the file is closed however it ends.
 */
async function sendObject(
  ex: Exchange,
  size: number,
  body: ObjectBytes,
  headers: readonly Header[],
  logger: Logger,
): Promise<void> {
  const { res } = ex;
  const writeHead = () => {
    res.writeStatus(statusText[200]!);
    for (const [name, value] of headers) res.writeHeader(name, value);
  };
  const chunks = body[Symbol.asyncIterator]();
  let started = false;
  try {
    if (size === 0) {
      if (!live(ex)) return;
      ex.done = true;
      res.cork(() => {
        writeHead();
        res.end();
      });
      return;
    }
    while (live(ex)) {
      const next = await chunks.next();
      if (!live(ex)) return;
      if (next.done) throw new Error(`the file ended before its ${size} bytes`);
      const chunk = next.value;
      let offset = 0;
      let ok = false;
      let finished = false;
      res.cork(() => {
        if (!started) writeHead();
        started = true;
        offset = res.getWriteOffset();
        [ok, finished] = res.tryEnd(chunk, size);
      });
      if (finished) ex.done = true;
      else if (!ok) await rest(ex, chunk, offset, size);
    }
  } catch (err) {
    if (!live(ex)) return;
    if (!started) return refuse(ex, err, logger);
    logger.warn({ err }, "a download failed after it started");
    ex.done = true;
    res.close();
  } finally {
    body.destroy();
  }
}

/** Resolves once uWS has taken the rest of `chunk` (written from `offset` on), or the client is gone. */
function rest(ex: Exchange, chunk: Uint8Array, offset: number, size: number): Promise<void> {
  return new Promise((resolve) => {
    ex.wake = resolve;
    ex.res.onWritable((at) => {
      const [ok, finished] = ex.res.tryEnd(chunk.subarray(at - offset), size);
      if (finished) ex.done = true;
      if (ok || finished) {
        ex.wake = null;
        resolve();
      }
      return ok;
    });
  });
}
