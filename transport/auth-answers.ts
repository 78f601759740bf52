/**
 * How every `/auth` route answers, the dev sign-in's (auth-routes.ts) and single sign-on's
 * (oidc-routes.ts): JSON with the edge's headers and the CORS ones, each request counted
 * against its client address's `auth` budget before any work is done for it.
 */
import type { HttpRequest, HttpResponse } from "@trufflesuite/uws-js-unofficial";
import type { Logger } from "../core/logger.js";
import { clientAddressOf } from "./client-address.js";
import type { CorsPolicy, Header } from "./cors.js";
import type { HttpEdge } from "./http-api.js";
import { type JsonAnswer, serveJson } from "./http-json.js";
import type { RequestRateLimits } from "./rate-limit.js";

/** What the `/auth` routes answer with. */
export interface AuthEdge {
  cors: CorsPolicy;
  maxBodyBytes: number;
  /** Where a route's internal errors are written. */
  logger: Logger;
  /** The answers' headers, how the client's address is read, and the `auth` budget. */
  edge: HttpEdge & { rates: RequestRateLimits };
}

/** Answers one `/auth` request with what `work` gives for its body and client address. */
export function serveAuth(
  ctx: AuthEdge,
  res: HttpResponse,
  req: HttpRequest,
  withBody: boolean,
  label: string,
  work: (body: unknown, address: string) => Promise<JsonAnswer>,
): void {
  const { cors, maxBodyBytes, logger, edge } = ctx;
  const headers: readonly Header[] = cors.enabled
    ? [...edge.headers, ...cors.responseHeaders(req.getHeader("origin"))]
    : edge.headers;
  const address = clientAddressOf(res, req, edge.proxyHops);
  const contentLength = req.getHeader("content-length");
  serveJson(res, { withBody, headers, contentLength, label, maxBodyBytes, logger }, async (body) => {
    const refusal = await edge.rates.take("auth", null, address);
    if (refusal) throw refusal;
    return work(body, address);
  });
}
