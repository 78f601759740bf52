/**
 * Decodes and validates every frame at the edge, once, and holds a connection to its
 * frame limits. A frame that fails gets a coded error reply on its request id, or a coded
 * close when it cannot be answered (no id, not binary, too large, an id already in flight).
 * A connection held after a rate-limit refusal has its requests refused before they are
 * validated (request-hold.ts).
 */
import type { Limits } from "../core/config.js";
import { CloseCode, errorBodyOf, fail } from "../core/errors.js";
import { isOpName, type OpName, parseArgs } from "../core/ops.js";
import { decodeRequest, errorFrame } from "../core/protocol.js";
import type { Conn, Socket } from "./connection.js";
import type { RequestHold } from "./request-hold.js";
import type { SocketWriter } from "./socket-writer.js";

/** A request frame that passed the intake: its op is known and its args are valid for it. */
export interface ValidRequest {
  ok: true;
  id: number;
  op: OpName;
  args: Record<string, unknown>;
}

/** Turns frames into valid requests, refusing the rest with a code. */
export class RequestIntake {
  constructor(
    private readonly limits: Limits,
    private readonly writer: SocketWriter,
    private readonly hold: RequestHold,
  ) {}

  /** The frame as a valid request, or null when it was refused (answered with an error, or the connection closed). */
  accept(ws: Socket, conn: Conn, data: ArrayBuffer, isBinary: boolean): ValidRequest | null {
    if (!isBinary) {
      ws.end(CloseCode.protocolError, "binary MessagePack frames only");
      return null;
    }
    if (data.byteLength > this.limits.maxPayloadBytes) {
      ws.end(CloseCode.frameTooLarge, `frame larger than ${this.limits.maxPayloadBytes} bytes`);
      return null;
    }
    const req = decodeRequest(new Uint8Array(data));
    if (!req.ok) {
      if (req.id === null) ws.end(CloseCode.protocolError, req.reason);
      else this.writer.send(ws, errorFrame(req.id, fail.badRequest(req.reason).toBody()));
      return null;
    }
    const { id, op, args } = req;
    if (conn.pending.has(id)) {
      ws.end(CloseCode.protocolError, `request id ${id} is already in flight`);
      return null;
    }
    if (conn.pending.size >= this.limits.maxPendingRequests) {
      this.writer.send(
        ws,
        errorFrame(id, fail.rateLimited("too many requests in flight on this connection").toBody()),
      );
      return null;
    }
    if (this.hold.held(conn)) {
      this.hold.refuse(ws, conn, id);
      return null;
    }
    try {
      if (!isOpName(op)) throw fail.badRequest(`unknown op "${op}"`);
      parseArgs(op, args);
    } catch (err) {
      this.writer.send(ws, errorFrame(id, errorBodyOf(err)));
      return null;
    }
    // The very frame decoded (no copy: this runs for every request), now known to be valid.
    return req as ValidRequest;
  }
}
