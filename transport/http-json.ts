/**
 * Answering one HTTP request with JSON over uWS, shared by the API and the sign-in
 * routes: read the body (bounded), run the work, write its status, headers and JSON, or
 * the error body with its code's status. A body declared (Content-Length) or found larger
 * than the limit is refused with 413 before or while it is read, whether the route reads
 * a body or not (see `cutsConnection` for what happens to the rest of it). A `rate_limited` answer carries `Retry-After` (whole seconds).
 * uWS discipline: everything needed from `req` is copied before the first await,
 * `onAborted` is registered first, and late writes are corked.
 */
import { isUtf8 } from "node:buffer";
import type { HttpResponse } from "@trufflesuite/uws-js-unofficial";
import { type ErrorBody, errorBodyLogged, fail, httpStatusOf } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Header } from "./cors.js";

/** uWS wants the status line's text. */
export const statusText: Record<number, string> = {
  200: "200 OK",
  201: "201 Created",
  204: "204 No Content",
  304: "304 Not Modified",
  400: "400 Bad Request",
  401: "401 Unauthorized",
  403: "403 Forbidden",
  404: "404 Not Found",
  409: "409 Conflict",
  413: "413 Payload Too Large",
  429: "429 Too Many Requests",
  500: "500 Internal Server Error",
  503: "503 Service Unavailable",
};

/** What a route's work answers: a status, a JSON payload, and headers of its own. */
export type JsonAnswer = [status: number, payload: unknown, headers?: readonly Header[]];

/** How one request is served. */
export interface JsonRequest {
  /** Read and parse the body (else the work gets `undefined`). */
  withBody: boolean;
  /** Sent with the answer, error or not (security headers, CORS). */
  headers: readonly Header[];
  /** The request's Content-Length header as sent ("" when absent). */
  contentLength: string;
  /** Names the route in the log. */
  label: string;
  maxBodyBytes: number;
  logger: Logger;
}

/** An error body decided already (an actor's failed outcome), sent as it is. */
export class HttpFailure extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
  }
}

/** The body as an object: absent is `{}`, anything but an object is a `bad_request`. */
export function bodyMap(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw fail.badRequest("body must be a JSON object");
  return body as Record<string, unknown>;
}

/** Reads the body (when asked), runs `work`, and writes its JSON answer or error. */
export function serveJson(
  res: HttpResponse,
  request: JsonRequest,
  work: (body: unknown) => Promise<JsonAnswer>,
): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const reply = (status: number, payload: unknown, own: readonly Header[] = [], close = false) => {
    if (aborted) return;
    res.cork(() => {
      res.writeStatus(statusText[status] ?? `${status}`).writeHeader("content-type", "application/json");
      for (const [name, value] of request.headers) res.writeHeader(name, value);
      for (const [name, value] of own) res.writeHeader(name, value);
      res.end(JSON.stringify(payload), close);
    });
  };
  const failed = (err: unknown) => {
    const error: ErrorBody =
      err instanceof HttpFailure ? err.body : errorBodyLogged(err, request.logger, { route: request.label });
    const cut = error.code === "too_large" && cutsConnection(request.contentLength);
    reply(httpStatusOf[error.code], { error }, retryAfterOf(error), cut);
  };
  const run = (body: unknown) =>
    work(body).then(([status, payload, own]) => reply(status, payload, own), failed);
  if (declaredTooLarge(request.contentLength, request.maxBodyBytes)) {
    failed(fail.tooLarge(`body is larger than ${request.maxBodyBytes} bytes`));
    return;
  }
  if (!request.withBody) {
    void run(undefined);
    return;
  }
  readJsonBody(res, request.maxBodyBytes).then(run, failed);
}

/** Whether a Content-Length value declares more than `limit` bytes. */
export function declaredTooLarge(contentLength: string, limit: number): boolean {
  return contentLength !== "" && Number(contentLength) > limit;
}

/** A refused body declared up to this size is read and dropped rather than cut off. */
export const drainableBodyBytes = 8 * 1024 * 1024;

/**
 * Whether the answer refusing a body too large closes the connection. Closing at once
 * makes the client's unfinished write fail (EPIPE, reset) before it reads the 413, so a
 * declared body up to `drainableBodyBytes` is left to uWS, which reads and drops the rest
 * and keeps the connection. Anything larger, or a body of unknown size (chunked), is cut.
 */
export function cutsConnection(contentLength: string): boolean {
  return contentLength === "" || !(Number(contentLength) <= drainableBodyBytes);
}

/** The `Retry-After` header of a `rate_limited` error with a `retryAfterMs` hint (whole seconds, at least 1). */
export function retryAfterOf(error: ErrorBody): readonly Header[] {
  const ms = error.details?.retryAfterMs;
  if (error.code !== "rate_limited" || typeof ms !== "number") return [];
  return [["retry-after", String(Math.max(1, Math.ceil(ms / 1000)))]];
}

/** Collects the body up to `limit` bytes and parses it as JSON (empty → undefined); ill-formed UTF-8 is a `bad_request`. */
function readJsonBody(res: HttpResponse, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    res.onData((chunk, isLast) => {
      if (refused) return;
      size += chunk.byteLength;
      if (size > limit) {
        refused = true;
        reject(fail.tooLarge(`body is larger than ${limit} bytes`));
        return;
      }
      // uWS reuses the chunk's memory after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
      if (!isLast) return;
      const bytes = Buffer.concat(chunks);
      // toString would turn ill-formed bytes into U+FFFD silently, and store them so.
      if (!isUtf8(bytes)) return reject(fail.badRequest("body is not valid UTF-8"));
      const text = bytes.toString("utf8");
      if (text.trim() === "") return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(fail.badRequest("body is not valid JSON"));
      }
    });
  });
}
