/**
 * A raw WebSocket client for the bad-input and auth tests: it sends arbitrary bytes (or
 * text), decodes whatever the server answers with core/protocol.ts, and records how the
 * connection ended. Unlike the SDK it never validates, retries or reconnects.
 */
import WebSocket from "ws";
import { decodeFrame, encodeValue, type Frame, FrameKind } from "../core/protocol.js";

/** How a connection ended, as the client saw it. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/** A reply frame: `[1, id, result]` or `[2, id, error]`. */
export type Reply =
  | [kind: 1, id: number, result: Record<string, unknown>]
  | [kind: 2, id: number, error: { code: string; message: string; retryable: boolean; details?: unknown }];

/** How to present the token at the upgrade. */
export interface RawOptions {
  /** Sent as the `access_token` query parameter. */
  token?: string;
  /** Sent as `Authorization: Bearer <bearer>`. */
  bearer?: string;
  /** Time allowed for the handshake. Default 5000 ms. */
  openTimeoutMs?: number;
  /** Source address (127.0.0.x on loopback: another client address). */
  localAddress?: string;
}

/** Anything the server sent that did not decode as a frame (never expected). */
export interface Undecodable {
  undecodable: Uint8Array | string;
}

/** An open raw connection. */
export class RawSocket {
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Messages that were not decodable frames (text, or bad MessagePack). */
  readonly garbage: Undecodable[] = [];
  /** Set once the connection has closed. */
  closeInfo: CloseInfo | null = null;
  /** Errors the socket reported (resets, invalid frames from the server). */
  readonly errors: string[] = [];
  /** True once we asked to close it ourselves. */
  closedByUs = false;
  private nextId = 1;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.garbage.push({ undecodable: data.toString("utf8") });
      } else {
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        try {
          this.frames.push(decodeFrame(bytes));
        } catch {
          this.garbage.push({ undecodable: bytes.slice() });
        }
      }
      this.wake();
    });
    ws.on("close", (code: number, reason: Buffer) => {
      this.closeInfo = { code, reason: reason.toString("utf8") };
      this.wake();
    });
    // Errors after open (resets, bad frames from the server) also end in "close".
    ws.on("error", (err: Error) => {
      this.errors.push(err.message);
    });
  }

  /** Opens a connection to `url` (the server's `/ws`). Rejects when the handshake fails. */
  static open(url: string, opts: RawOptions = {}): Promise<RawSocket> {
    const u = new URL(url);
    if (opts.token !== undefined) u.searchParams.set("access_token", opts.token);
    const headers: Record<string, string> = {};
    if (opts.bearer !== undefined) headers.authorization = `Bearer ${opts.bearer}`;
    const ws = new WebSocket(u.toString(), {
      headers,
      perMessageDeflate: false,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    const raw = new RawSocket(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error("handshake timed out"));
      }, opts.openTimeoutMs ?? 5000);
      ws.once("open", () => {
        clearTimeout(timer);
        resolve(raw);
      });
      ws.once("unexpected-response", (_req, res) => {
        clearTimeout(timer);
        ws.terminate();
        reject(new Error(`handshake refused: HTTP ${res.statusCode}`));
      });
      ws.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** True while the connection is open. */
  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** A fresh request id for this connection. */
  id(): number {
    return this.nextId++;
  }

  /** Sends raw bytes as a binary message (or a string as a text message). Never throws. */
  sendRaw(data: Uint8Array | string): void {
    if (!this.isOpen) return;
    this.ws.send(data, { binary: typeof data !== "string" });
  }

  /**
   * Sends several binary messages in one TCP write, so that the server reads them in
   * one go (needed to have a request still in flight when the next one arrives).
   */
  sendBatch(messages: Array<Uint8Array | string>): void {
    if (!this.isOpen) return;
    const tcp = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    tcp?.cork();
    for (const m of messages) this.ws.send(m, { binary: typeof m !== "string" });
    if (tcp) process.nextTick(() => tcp.uncork());
  }

  /** Encodes any value as MessagePack and sends it. */
  sendValue(value: unknown): void {
    this.sendRaw(encodeValue(value));
  }

  /** Sends a request `[0, id, op, args]` without waiting; returns its id. */
  send(op: unknown, args: unknown, id: number = this.id()): number {
    this.sendValue([FrameKind.request, id, op, args]);
    return id;
  }

  /** Sends a request and waits for its reply (rejects if the connection closes first). */
  async call(op: unknown, args: unknown, timeoutMs = 10_000): Promise<Reply> {
    return this.reply(this.send(op, args), timeoutMs);
  }

  /** Waits for the reply to request `id`. */
  reply(id: number, timeoutMs = 10_000): Promise<Reply> {
    return this.waitFor(
      () => this.replyTo(id),
      timeoutMs,
      `reply to request ${id}`,
      () => this.closeInfo !== null,
    );
  }

  /** The reply to `id` received so far, if any. */
  replyTo(id: number): Reply | undefined {
    return this.frames.find((f) => (f[0] === FrameKind.ok || f[0] === FrameKind.error) && f[1] === id) as
      | Reply
      | undefined;
  }

  /** Waits until the server closes the connection; resolves with the code and reason. */
  closed(timeoutMs = 10_000): Promise<CloseInfo> {
    return this.waitFor(() => this.closeInfo ?? undefined, timeoutMs, "the connection to close");
  }

  /** Closes the connection from our side (if still open) and waits for the close. */
  async close(): Promise<void> {
    if (this.closeInfo) return;
    this.closedByUs = true;
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(1000);
    }
    try {
      await this.closed(2000);
    } catch {
      this.ws.terminate();
    }
  }

  /**
   * Resolves with the first non-undefined value of `probe`, checked after every message
   * and close. Rejects after `timeoutMs`, or as soon as `giveUp` is true.
   */
  waitFor<T>(
    probe: () => T | undefined,
    timeoutMs: number,
    what: string,
    giveUp?: () => boolean,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const value = probe();
        if (value !== undefined) {
          resolve(value);
          return true;
        }
        if (giveUp?.()) {
          const c = this.closeInfo;
          reject(new Error(`gave up waiting for ${what}: closed ${c ? `${c.code} ${c.reason}` : ""}`));
          return true;
        }
        return false;
      };
      if (check()) return;
      const waiter = () => {
        if (check()) done();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** A close code the server may legitimately send: ours (4000–4999) or a standard one it documents. */
export function isCodedClose(code: number): boolean {
  return code >= 4000 && code <= 4999;
}
