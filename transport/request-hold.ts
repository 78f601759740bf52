/**
 * What follows a rate-limit refusal on a WebSocket connection. The refusal tells the client
 * when to retry (`retryAfterMs`, the end of the budget's window); until then the
 * connection is held: its requests are refused at once with the time left, before they
 * are validated or counted, so that answering a client that does not wait costs as little
 * as possible. A held connection that sends more than `COLINK_MAX_PENDING_REQUESTS`
 * requests before its time ignores the hint (a client that waits as told has at most a
 * burst on the way, which the in-flight cap bounds): it is closed with 4505, and its
 * reconnections meet the `auth` budgets and the connection caps. (A grace second in which
 * refusals did not count let S12's flooder get 8,000 refusals a second answered.)
 *
 * Why: refusing a hostile client's flood one request at a time through the budgets (tens
 * of thousands a second) slowed the other users nearly as much as serving it (bench S12).
 * uWS cannot stop reading one WebSocket (no pause in the builds used), so closing is the
 * backpressure that is left.
 */
import type { Limits } from "../core/config.js";
import { CloseCode, type ErrorBody } from "../core/errors.js";
import { errorFrame } from "../core/protocol.js";
import type { Conn, Socket } from "./connection.js";
import type { SocketWriter } from "./socket-writer.js";

/** Holds refused connections, and refuses what they send meanwhile. */
export class RequestHold {
  constructor(
    private readonly limits: Limits,
    private readonly writer: SocketWriter,
  ) {}

  /** Holds the connection for `waitMs` after `refusal` (a hold already running stays as it is). */
  hold(conn: Conn, refusal: ErrorBody, waitMs: number): void {
    if (this.held(conn)) return;
    conn.heldUntil = Date.now() + waitMs;
    conn.held = refusal;
    conn.heldRefusals = 0;
  }

  /** Whether the connection is held now (a hold that ran out is lifted). */
  held(conn: Conn): boolean {
    if (conn.heldUntil === 0) return false;
    if (Date.now() < conn.heldUntil) return true;
    conn.heldUntil = 0;
    conn.held = null;
    return false;
  }

  /** Refuses request `id` of a held connection with the time left, or closes one that ignores it. */
  refuse(ws: Socket, conn: Conn, id: number): void {
    const held = conn.held!;
    if (++conn.heldRefusals > this.limits.maxPendingRequests) {
      this.writer.flushReplies();
      ws.end(CloseCode.rateLimitIgnored, "requests kept coming after rate_limited; wait for retryAfterMs");
      return;
    }
    const retryAfterMs = Math.max(1, conn.heldUntil - Date.now());
    this.writer.send(ws, errorFrame(id, { ...held, details: { ...held.details, retryAfterMs } }));
  }
}
