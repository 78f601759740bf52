/**
 * Errors the SDK raises. A failed request always rejects with ColinkRequestError, whose
 * `code` is one of the protocol's error codes: the server's own, or `unavailable` for a
 * timeout or a lost connection (retryable: the request may or may not have been applied).
 */
import type { ErrorBody, ErrorCode } from "../core/errors.js";
import { isPlainMap } from "../core/protocol.js";

const retryableCodes: ReadonlySet<string> = new Set<ErrorCode>(["rate_limited", "unavailable"]);

/** A request that failed: an error reply from the server, or a local timeout / disconnect. */
export class ColinkRequestError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  /** The op of the failed request, when known. */
  readonly op: string | undefined;

  constructor(body: ErrorBody, op?: string) {
    super(body.message);
    this.name = "ColinkRequestError";
    this.code = body.code;
    this.retryable = body.retryable;
    this.details = body.details;
    this.op = op;
  }

  /** Builds the error of an error reply, tolerating a malformed body. */
  static fromWire(body: unknown, op?: string): ColinkRequestError {
    const b = isPlainMap(body) ? body : {};
    const code = (typeof b.code === "string" && b.code !== "" ? b.code : "internal") as ErrorCode;
    const message = typeof b.message === "string" ? b.message : code;
    const retryable = typeof b.retryable === "boolean" ? b.retryable : retryableCodes.has(code);
    const details = isPlainMap(b.details) ? b.details : undefined;
    return new ColinkRequestError(
      details ? { code, message, retryable, details } : { code, message, retryable },
      op,
    );
  }

  /** A local `unavailable` error (timeout, lost connection, closed client). */
  static unavailable(message: string, retryable: boolean, op?: string): ColinkRequestError {
    return new ColinkRequestError({ code: "unavailable", message, retryable }, op);
  }
}

/** A frame from the server that could not be understood; it is ignored and emitted as "error". */
export class ColinkProtocolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ColinkProtocolError";
  }
}

/** A failure to open the WebSocket (network error, handshake refused, token callback threw). */
export class ColinkConnectionError extends Error {
  /** The close code seen, when there was one (1006 for network failures). */
  readonly closeCode: number | undefined;

  constructor(message: string, closeCode?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ColinkConnectionError";
    this.closeCode = closeCode;
  }
}
