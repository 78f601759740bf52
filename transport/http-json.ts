/**
 * Answering one HTTP request with JSON over uWS, shared by the API and the sign-in
 * routes: read the body (bounded), run the work, write its status, headers and JSON, or
 * the error body with its code's status.
 * uWS discipline: everything needed from `req` is copied before the first await,
 * `onAborted` is registered first, and late writes are corked.
 */
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
  /** Sent with the answer, error or not (CORS). */
  headers: readonly Header[];
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
  const reply = (status: number, payload: unknown, own: readonly Header[] = []) => {
    if (aborted) return;
    res.cork(() => {
      res.writeStatus(statusText[status] ?? `${status}`).writeHeader("content-type", "application/json");
      for (const [name, value] of request.headers) res.writeHeader(name, value);
      for (const [name, value] of own) res.writeHeader(name, value);
      res.end(JSON.stringify(payload));
    });
  };
  const failed = (err: unknown) => {
    const error: ErrorBody =
      err instanceof HttpFailure ? err.body : errorBodyLogged(err, request.logger, { route: request.label });
    reply(httpStatusOf[error.code], { error });
  };
  const run = (body: unknown) =>
    work(body).then(([status, payload, own]) => reply(status, payload, own), failed);
  if (!request.withBody) {
    void run(undefined);
    return;
  }
  readJsonBody(res, request.maxBodyBytes).then(run, failed);
}

/** Collects the body up to `limit` bytes and parses it as JSON (empty → undefined). */
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
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(fail.badRequest("body is not valid JSON"));
      }
    });
  });
}
