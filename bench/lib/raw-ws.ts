/**
 * A minimal WebSocket client over a raw TCP socket, for load generators that receive
 * hundreds of thousands of frames per second: it parses frames in place (no Buffer per
 * message, no events per message) and hands each data frame to one callback as a range
 * of the chunk it arrived in. It answers pings, reports the close code, and sends masked
 * frames with an all-zero mask (legal, and it saves the XOR). No fragmentation, no
 * extensions; TLS for a remote `wss:` target.
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";

/** Called for each text (opcode 1) or binary (opcode 2) frame: its payload is `buf[start, end)`. */
export type FrameHandler = (buf: Buffer, start: number, end: number, opcode: number) => void;

/** Where to connect. */
export interface RawWsTarget {
  host: string;
  port: number;
  /** Path with query, e.g. `/ws?access_token=…`. */
  path: string;
  /** Source address (spread connections over 127.0.0.x to get more source ports). */
  localAddress?: string;
  /** TLS (a `wss:` target, e.g. a remote deployment). */
  tls?: boolean;
  /** Handshake timeout. */
  timeoutMs?: number;
  /** The subprotocol to ask for (`Sec-WebSocket-Protocol`), e.g. `xmpp`. */
  protocol?: string;
}

const opText = 1;
const opBinary = 2;
const opClose = 8;
const opPing = 9;
const opPong = 10;

/** One client connection. */
export class RawWs {
  /** Data frames. Set before the first frame can arrive (right after `open` resolves). */
  onFrame: FrameHandler = () => {};
  /** The connection ended: the server's close code, or 1006 without a close frame. */
  onClose: ((code: number) => void) | null = null;
  closed = false;
  closeCode = 0;
  /** The socket's error, if it failed. */
  error = "";
  private rest: Buffer | null = null;

  private constructor(private readonly socket: Socket) {}

  /** Connects and completes the upgrade; rejects on a non-101 answer. */
  static open(target: RawWsTarget): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const options = {
        host: target.host,
        port: target.port,
        ...(target.localAddress ? { localAddress: target.localAddress } : {}),
      };
      const socket: Socket = target.tls
        ? connectTls({ ...options, servername: target.host })
        : connect(options);
      socket.setNoDelay(true);
      const ws = new RawWs(socket);
      let head: Buffer | null = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`websocket upgrade to ${target.port}${target.path} timed out`));
      }, target.timeoutMs ?? 30_000);
      socket.once(target.tls ? "secureConnect" : "connect", () => {
        const key = randomBytes(16).toString("base64");
        socket.write(
          `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nUpgrade: websocket\r\n` +
            `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
            (target.protocol ? `Sec-WebSocket-Protocol: ${target.protocol}\r\n` : "") +
            "\r\n",
        );
      });
      socket.on("data", (chunk: Buffer) => {
        if (head === null) {
          ws.receive(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
        const rest = head.subarray(end + 4);
        head = null;
        clearTimeout(timer);
        if (!/^HTTP\/1\.1 101/.test(status)) {
          socket.destroy();
          reject(new Error(`websocket upgrade refused: ${status}`));
          return;
        }
        resolve(ws);
        // Frames that came with the handshake are handled after the caller set onFrame
        // (or before the next chunk, whichever comes first: order is kept).
        if (rest.length > 0) {
          ws.rest = Buffer.from(rest);
          setImmediate(() => ws.receive(Buffer.alloc(0)));
        }
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        ws.error = err.message;
        if (head !== null) reject(err);
      });
      socket.once("end", () => {
        ws.error ||= `server ended the connection ${Math.round(performance.now() - t0)} ms after connecting`;
      });
      socket.once("close", () => {
        clearTimeout(timer);
        if (head !== null) reject(new Error("connection closed during the upgrade"));
        ws.ended();
      });
    });
  }

  /** Sends a binary frame. */
  sendBinary(payload: Uint8Array): void {
    this.sendFrame(opBinary, payload);
  }

  /** Sends a text frame. */
  sendText(text: string): void {
    this.sendFrame(opText, Buffer.from(text, "utf8"));
  }

  /** Batches the writes made until the next tick into few packets. */
  cork(): void {
    this.socket.cork();
    process.nextTick(() => this.socket.uncork());
  }

  /** Bytes queued in the socket, not yet written to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** Sends a close frame and ends the socket. */
  close(): void {
    if (this.closed) return;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(1000, 0);
    this.sendFrame(opClose, body);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** Drops the connection without a close frame. */
  destroy(): void {
    this.socket.destroy();
  }

  private sendFrame(opcode: number, payload: Uint8Array): void {
    if (this.closed || this.socket.destroyed) return;
    const len = payload.length;
    const headLen = len < 126 ? 6 : len < 65536 ? 8 : 14;
    const frame = Buffer.allocUnsafe(headLen + len);
    frame[0] = 0x80 | opcode;
    let p = 2;
    if (len < 126) frame[1] = 0x80 | len;
    else if (len < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(len, 2);
      p = 4;
    } else {
      frame[1] = 0x80 | 127;
      frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
      frame.writeUInt32BE(len >>> 0, 6);
      p = 10;
    }
    frame.writeUInt32BE(0, p); // the mask: zero, so the payload goes as it is
    frame.set(payload, p + 4);
    this.socket.write(frame);
  }

  private receive(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    const n = buf.length;
    let off = 0;
    while (off + 2 <= n) {
      const b0 = buf[off]!;
      const b1 = buf[off + 1]!;
      let len = b1 & 0x7f;
      let p = off + 2;
      if (len === 126) {
        if (p + 2 > n) break;
        len = buf.readUInt16BE(p);
        p += 2;
      } else if (len === 127) {
        if (p + 8 > n) break;
        len = buf.readUInt32BE(p) * 2 ** 32 + buf.readUInt32BE(p + 4);
        p += 8;
      }
      if (b1 & 0x80) p += 4; // servers do not mask; skip a key if one does
      if (p + len > n) break;
      const opcode = b0 & 0x0f;
      if (opcode === opText || opcode === opBinary) this.onFrame(buf, p, p + len, opcode);
      else if (opcode === opPing) this.sendFrame(opPong, buf.subarray(p, p + len));
      else if (opcode === opClose) {
        this.closeCode = len >= 2 ? buf.readUInt16BE(p) : 1005;
        this.sendFrame(opClose, buf.subarray(p, p + Math.min(len, 2)));
        this.socket.end();
      } else if (opcode !== opPong && opcode !== 0) {
        this.socket.destroy(new Error(`unexpected opcode ${opcode}`));
        return;
      }
      off = p + len;
    }
    if (off < n) this.rest = Buffer.from(buf.subarray(off));
  }

  private ended(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.closeCode === 0) this.closeCode = 1006;
    this.onClose?.(this.closeCode);
  }
}
