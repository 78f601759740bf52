/**
 * A lean Colink wire client for load generation: raw MessagePack frames over `ws`, no
 * reconnects, no de-duplication. (Applications use the SDK in client/; a generator must
 * spend its CPU on load, not on bookkeeping.)
 */
import type { Socket } from "node:net";
import WebSocket from "ws";
import { decodeFrame, encodeValue, okFrameIdOf } from "../../core/protocol.js";

/** A failed request. */
export class WireError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A request waiting for its answer; `decode: false` resolves with nothing (see `requestAck`). */
interface Pending {
  decode: boolean;
  resolve: (result: Record<string, unknown> | undefined) => void;
  reject: (e: Error) => void;
}

/** One connection. */
export class WireClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Called for every event frame. */
  onEvent: ((topic: string, type: string, data: Record<string, unknown>) => void) | null = null;
  /** Called when the connection closes. */
  onClose: ((code: number) => void) | null = null;
  /** Writes are held until the current tick ends (see `request`). */
  private corked = false;
  private readonly uncork = () => {
    this.corked = false;
    this.socket.uncork();
  };

  private constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
  ) {
    ws.on("message", (data: Buffer) => this.receive(data));
    ws.on("close", (code) => {
      for (const p of this.pending.values()) p.reject(new WireError("unavailable", `closed ${code}`));
      this.pending.clear();
      this.onClose?.(code);
    });
  }

  /** Opens an authenticated connection. `localAddress` spreads sources over 127.0.0.x. */
  static connect(url: string, token: string, localAddress?: string): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url}?access_token=${encodeURIComponent(token)}`, {
        perMessageDeflate: false,
        ...(localAddress ? { localAddress } : {}),
      });
      let socket: Socket | null = null;
      ws.once("upgrade", (res) => {
        socket = res.socket;
      });
      ws.once("open", () => resolve(new WireClient(ws, socket!)));
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  /**
   * Sends a request; resolves with its result, rejects with a WireError. The requests a
   * generator makes in one tick (the next sends of every slot whose ack just arrived) go
   * out in one write rather than one system call each, which would cost the generator
   * more CPU than the frames (a generator shares the machine with the server).
   */
  request(op: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) =>
      this.write(op, args, { decode: true, resolve: (r) => resolve(r!), reject }),
    );
  }

  /**
   * Like `request`, for a caller that only needs to know the request succeeded (a load
   * generator counting acks): the result is not decoded. Decoding each `msg.send` reply
   * (the whole message) was a third of a generator's CPU, taken from the machine the
   * server under test runs on.
   */
  requestAck(op: string, args: Record<string, unknown>): Promise<void> {
    return new Promise((resolve, reject) =>
      this.write(op, args, { decode: false, resolve: () => resolve(), reject }),
    );
  }

  private write(op: string, args: Record<string, unknown>, pending: Pending): void {
    const id = this.nextId++;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.pending.set(id, pending);
    this.ws.send(encodeValue([0, id, op, args]));
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Closes the connection. */
  close(): void {
    this.ws.close();
  }

  /** Drops the connection without a close handshake (a crashed client). */
  terminate(): void {
    this.ws.terminate();
  }

  private receive(data: Buffer): void {
    const answered = okFrameIdOf(data);
    if (answered !== null) {
      const p = this.pending.get(answered);
      if (p && !p.decode) {
        this.pending.delete(answered);
        p.resolve(undefined);
        return;
      }
    }
    const frame = decodeFrame(data);
    if (frame[0] === 3) {
      this.onEvent?.(frame[1], frame[2], frame[3]);
      return;
    }
    const p = this.pending.get(frame[1] as number);
    if (!p) return;
    this.pending.delete(frame[1] as number);
    if (frame[0] === 1) p.resolve(frame[2]);
    else if (frame[0] === 2) p.reject(new WireError(frame[2].code, frame[2].message));
  }
}

/** A dev token for `username` from a Colink's dev issuer. */
export async function devToken(
  baseUrl: string,
  username: string,
): Promise<{ token: string; userId: string }> {
  const res = await fetch(`${baseUrl}/auth/dev/token`, {
    method: "POST",
    body: JSON.stringify({ username }),
  });
  if (!res.ok) throw new Error(`dev token for ${username}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { accessToken: string; user: { id: string } };
  return { token: body.accessToken, userId: body.user.id };
}
