/**
 * The two code tables of the protocol: error codes (carried in error replies and HTTP
 * bodies) and WebSocket close codes. Both are fixed by DESIGN.md; clients rely on them.
 */
import type { Logger } from "./logger.js";

/** Every error code a reply can carry. */
export const ErrorCode = {
  badRequest: "bad_request",
  unauthenticated: "unauthenticated",
  forbidden: "forbidden",
  notFound: "not_found",
  conflict: "conflict",
  rateLimited: "rate_limited",
  tooLarge: "too_large",
  unavailable: "unavailable",
  internal: "internal",
} as const;

/** One of the string error codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The one HTTP status each error code maps to. */
export const httpStatusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  too_large: 413,
  unavailable: 503,
  internal: 500,
};

/** Codes a client may retry unchanged (after a back-off). */
const retryableCodes: ReadonlySet<ErrorCode> = new Set(["rate_limited", "unavailable"]);

/** The error body on the wire: `[2, id, ErrorBody]` and the HTTP JSON body. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

/** An expected failure with a protocol error code; anything else thrown is `internal`. */
export class ColinkError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, retryable?: boolean) {
    super(message);
    this.name = "ColinkError";
    this.code = code;
    this.retryable = retryable ?? retryableCodes.has(code);
    this.details = details;
  }

  /** The wire form of this error. */
  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details) body.details = this.details;
    return body;
  }
}

/**
 * The error body of `err`, as `errorBodyOf` gives it; an unexpected error (answered as
 * `internal`) is also logged, with its stack and `fields` (the request's op and ids), since
 * the client is told nothing more.
 */
export function errorBodyLogged(err: unknown, log: Logger, fields: Record<string, unknown>): ErrorBody {
  const body = errorBodyOf(err);
  if (body.code === ErrorCode.internal) log.error({ ...fields, err }, "internal error");
  return body;
}

/** Turns anything thrown into a wire error body; unknown errors never leak their text. */
export function errorBodyOf(err: unknown): ErrorBody {
  if (err instanceof ColinkError) return err.toBody();
  return { code: "internal", message: "internal error", retryable: false };
}

/** Shorthands for the common errors, so messages stay uniform. */
export const fail = {
  badRequest: (message: string, details?: Record<string, unknown>) =>
    new ColinkError("bad_request", message, details),
  unauthenticated: (message = "authentication required") => new ColinkError("unauthenticated", message),
  forbidden: (message = "not allowed") => new ColinkError("forbidden", message),
  notFound: (what: string) => new ColinkError("not_found", `${what} not found`),
  conflict: (message: string) => new ColinkError("conflict", message),
  rateLimited: (message = "too many requests") => new ColinkError("rate_limited", message),
  tooLarge: (message: string) => new ColinkError("too_large", message),
  unavailable: (message = "temporarily unavailable") => new ColinkError("unavailable", message),
  /** A deactivated user's token or sign-in, refused (a WebSocket closes with 4006 for it). */
  deactivated: () => new ColinkError("unauthenticated", "account deactivated", { reason: "deactivated" }),
};

/** True when an error body is the refusal of a deactivated account (`fail.deactivated`). */
export function isDeactivated(error: { details?: Record<string, unknown> | undefined }): boolean {
  return error.details?.reason === "deactivated";
}

/**
 * WebSocket close codes. 4000–4499: do not reconnect as-is. 4500–4999: reconnect and
 * resume with each channel's last seen seq.
 */
export const CloseCode = {
  /** The token is missing, expired, forged or for another audience. */
  badToken: 4001,
  /** A frame that is not a MessagePack request array, or text instead of binary. */
  protocolError: 4002,
  /**
   * A frame larger than COLINK_MAX_PAYLOAD_BYTES. Beyond twice the limit uWS cuts the
   * connection itself (the client sees 1006).
   */
  frameTooLarge: 4003,
  /** No token came with the upgrade and the first frame was not `auth`, or `auth` did not come in time. */
  authTimeout: 4004,
  /** The session the connection's token belongs to was signed out (`POST /auth/logout`, or ended at the identity provider). */
  signedOut: 4005,
  /** The user's account was deactivated by an admin (`user.deactivate`); their tokens are refused. */
  deactivated: 4006,
  /** The server is shutting down or draining this node. */
  serverDraining: 4500,
  /** Outbound backpressure passed the limit: the client read too slowly. */
  slowConsumer: 4501,
  /** The channel moved to another node; reconnect and resume. */
  ownershipMoved: 4502,
  /** The server hit an internal fault on this connection. */
  internalError: 4503,
  /**
   * The `auth` frame named a user who holds COLINK_MAX_CONNS_PER_USER connections on this
   * node already (the `[2,id,…]` reply comes first); reconnect later.
   */
  tooManyConnections: 4504,
  /**
   * After a `rate_limited` reply the connection sent more than COLINK_MAX_PENDING_REQUESTS
   * requests before its `retryAfterMs`; reconnect after a back-off, and wait when told to.
   */
  rateLimitIgnored: 4505,
  /** An admin changed the user's site role (`role.set`): reconnect, and the new role applies. */
  roleChanged: 4506,
} as const;

/** One of the close codes. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * True for the server's "reconnect and resume" range (4500–4999). Standard codes such as
 * 1001 or 1006 (a dropped network) are outside both ranges: clients reconnect after
 * those too. Only 4000–4499 means "do not reconnect as-is".
 */
export function closeMeansReconnect(code: number): boolean {
  return code >= 4500 && code <= 4999;
}
