/**
 * The origin an audited request carries to its actor (for its audit entry): the client's
 * address and a request id. HTTP takes the client's `X-Request-Id` when it is a sane token
 * (a proxy's or the client's own, to correlate), else makes one; a WebSocket request gets
 * one made for it. Only audited ops (core/ops.ts `auditedOps`) pay for this.
 */
import { randomUUID } from "node:crypto";
import type { RequestOrigin } from "../actors/envelope.js";

/** What an `X-Request-Id` may hold to be kept as it is. */
const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/** A request id: the client's when sane, else a new UUID. */
export function requestIdOf(header: string): string {
  return saneRequestId.test(header) ? header : randomUUID();
}

/** The origin of a request from `ip` with the request id header `header` ("" when none). */
export function originOf(ip: string, header = ""): RequestOrigin {
  return { ip, requestId: requestIdOf(header) };
}
