/**
 * Cross-origin access for browser pages served from another origin (`COLINK_CORS_ORIGINS`):
 * the CORS headers of the HTTP API (`/v1`, `/auth`) and the `Origin` check of the `/ws`
 * upgrade. Empty list: no CORS headers at all and no `Origin` check, as before.
 *
 * - An allowed origin gets `Access-Control-Allow-Origin` with its own value (never `*`:
 *   the list is explicit) and `Vary: Origin`, on every answer, errors included, so that
 *   the page can read the coded error.
 * - A preflight (`OPTIONS`) from an allowed origin is answered 204 with the methods and
 *   request headers the API uses and a max-age. From any other origin (or without one)
 *   it is answered 204 without CORS headers, like rs/cors (Mattermost's CORS layer) does
 *   (a success status, no CORS headers): the browser refuses a preflight for the missing
 *   `Access-Control-Allow-Origin`, not for its status.
 * - An actual request from another origin is served (the bearer token, not the origin,
 *   is what authenticates it; no cookies are involved) but without CORS headers, so the
 *   browser hides the answer from the page.
 * - The upgrade: a browser always sends `Origin` on a WebSocket handshake and applies no
 *   CORS to it, so the server must check it. A listed origin, or no `Origin` header at
 *   all (Node's `ws` and global WebSocket, other non-browser clients), may upgrade; any
 *   other is refused with 403.
 */

/** A response header, name and value. */
export type Header = readonly [name: string, value: string];

/** Every method of the HTTP API's routes (http-routes.ts). */
const allowedMethods = "GET, POST, PUT, PATCH, DELETE";
/** The request headers the HTTP API reads; any other needs no permission or is ignored. */
const allowedHeaders = "authorization, content-type, idempotency-key";
/** How long a browser may cache a preflight answer; Chromium caps it at 2 hours. */
const preflightMaxAgeSec = 7200;

const vary: Header = ["vary", "Origin"];

/** Which browser origins may call the API and open `/ws`, and the headers that say so. */
export class CorsPolicy {
  private readonly origins: ReadonlySet<string>;

  /** `origins` as `core/config.ts` validated them (`scheme://host[:port]`); empty turns CORS off. */
  constructor(origins: readonly string[]) {
    this.origins = new Set(origins);
  }

  /** Whether any origin is listed (CORS headers, preflight answers and the upgrade check are on). */
  get enabled(): boolean {
    return this.origins.size > 0;
  }

  /** The headers of an API answer to a request with this `Origin` (empty string: none). */
  responseHeaders(origin: string): readonly Header[] {
    if (!this.enabled) return [];
    if (!this.origins.has(origin)) return [vary];
    return [["access-control-allow-origin", origin], vary];
  }

  /** The headers of the 204 answer to a preflight with this `Origin` (empty string: none). */
  preflightHeaders(origin: string): readonly Header[] {
    if (!this.enabled) return [];
    if (!this.origins.has(origin)) return [vary];
    return [
      ["access-control-allow-origin", origin],
      ["access-control-allow-methods", allowedMethods],
      ["access-control-allow-headers", allowedHeaders],
      ["access-control-max-age", String(preflightMaxAgeSec)],
      vary,
    ];
  }

  /** Whether a WebSocket upgrade with this `Origin` (empty string: none) is refused. */
  refusesUpgrade(origin: string): boolean {
    return this.enabled && origin !== "" && !this.origins.has(origin);
  }
}
