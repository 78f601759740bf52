/**
 * The headers every HTTP answer carries, whatever route answers it (the API, the sign-in
 * routes, the blob URLs, the web client, the refused upgrades):
 *
 * - `X-Content-Type-Options: nosniff`: a browser takes the Content-Type as given, so a
 *   JSON answer or an uploaded file is never run as a script or a page.
 * - `Referrer-Policy: no-referrer`: the URLs (signed blob URLs carry their grant in the
 *   query) never leak to another site.
 * - `X-Frame-Options: DENY`, and on answers that are not the web client's pages a CSP of
 *   `default-src 'none'; frame-ancestors 'none'` (the pages carry the app's own CSP, which
 *   also has `frame-ancestors 'none'`): no other site can frame any of it (clickjacking).
 * - `Strict-Transport-Security` when the server is reached over HTTPS (`COLINK_HSTS`, on
 *   by default with an https:// `COLINK_PUBLIC_URL`): a year, for this host only (the
 *   other hosts of the domain are not ours to pin to HTTPS).
 */
import type { Header } from "./cors.js";

/** A year, in seconds: the max-age HSTS preload lists and most guides ask for. */
const hstsMaxAgeSec = 365 * 24 * 60 * 60;

/** The headers of every answer. */
export function securityHeaders(hsts: boolean): readonly Header[] {
  return [
    ["x-content-type-options", "nosniff"],
    ["referrer-policy", "no-referrer"],
    ["x-frame-options", "DENY"],
    ...(hsts ? [["strict-transport-security", `max-age=${hstsMaxAgeSec}`] as const] : []),
  ];
}

/** The CSP of answers that are data, not pages (JSON, files): nothing runs, nothing frames them. */
export const dataContentSecurityPolicy: Header = [
  "content-security-policy",
  "default-src 'none'; frame-ancestors 'none'",
];

/** The headers of every answer that is data, not a page: `securityHeaders` and the data CSP. */
export function dataAnswerHeaders(hsts: boolean): readonly Header[] {
  return [...securityHeaders(hsts), dataContentSecurityPolicy];
}
