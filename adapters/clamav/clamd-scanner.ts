/**
 * The virus scanner port over ClamAV's clamd, spoken to over TCP (clamd(8)).
 *
 * Each scan or ping is one connection with one command, NUL-framed (`z` prefix). A scan
 * is `zINSTREAM\0`, then the file in frames of a 4-byte big-endian length and at most
 * 64 KiB of data, then a zero-length frame; clamd answers `stream: OK`,
 * `stream: <signature> FOUND` or `<reason> ERROR` and closes. The file is streamed as it
 * is read (each frame waits for the socket to drain), never held whole; past `maxBytes`
 * the scan stops and rejects. Every operation has one deadline, connecting included, and
 * its socket is destroyed however it ends.
 *
 * A file past clamd's own `StreamMaxLength` is refused with `INSTREAM size limit exceeded.
 * ERROR`, but clamd closes at once, while the rest of the file is still on its way: the
 * next write then fails (EPIPE or ECONNRESET) and Node closes the socket, at times before
 * the answer is read. Such a scan rejects as a failed connection instead; `maxBytes` at or
 * below clamd's limit makes the scanner refuse first, with its own message.
 */
import { createConnection } from "node:net";
import { setImmediate } from "node:timers/promises";
import { type Logger, silentLogger } from "../../core/logger.js";
import type { Scanner, ScanVerdict } from "../../core/ports.js";

/** Where clamd listens, and the limits of a scan. */
export interface ClamdScannerOptions {
  host: string;
  port: number;
  /** The most one scan or ping may take, connecting included (default 30 s). */
  timeoutMs?: number;
  /**
   * The largest file scanned (default 100 MiB): a longer one is cut off there and its scan
   * rejects. Keep it at or below clamd's `StreamMaxLength`, which otherwise refuses it first.
   */
  maxBytes?: number;
  logger?: Logger;
}

/** The most data one INSTREAM frame carries. */
export const maxFrameBytes = 64 * 1024;
/** clamd's answers are one short line; anything longer is not clamd. */
const maxAnswerBytes = 4096;

const instreamCommand = Buffer.from("zINSTREAM\0");
const pingCommand = Buffer.from("zPING\0");
/** The zero-length frame that ends the file. */
const endOfFile = Buffer.alloc(4);

/** One connection to clamd: one command sent, one answer read. */
interface Exchange {
  /** True once it has an answer or has failed: nothing more is sent. */
  readonly finished: boolean;
  /** clamd's answer without its NUL; rejects when the connection fails, times out or closes first. */
  readonly answer: Promise<string>;
  /** Writes `parts` and resolves once the socket takes more (or the exchange finished). */
  send(...parts: Uint8Array[]): Promise<void>;
  /** Ends it with `err` (once it has an answer, only a debug line) and destroys the socket. */
  fail(err: Error): void;
  /** Destroys the socket; an exchange still waiting for its answer rejects. */
  destroy(): void;
}

/** Opens a connection to clamd at `where` and sends `command`; the deadline starts now. */
function openExchange(
  host: string,
  port: number,
  command: Uint8Array,
  timeoutMs: number,
  logger: Logger,
): Exchange {
  const where = `${host}:${port}`;
  const socket = createConnection({ host, port });
  let connected = false;
  let finished = false;
  let resolveAnswer!: (answer: string) => void;
  let rejectAnswer!: (err: Error) => void;
  const answer = new Promise<string>((resolve, reject) => {
    resolveAnswer = resolve;
    rejectAnswer = reject;
  });
  /** Sends waiting for the socket to drain, woken early when the exchange finishes. */
  const waiting = new Set<() => void>();
  const received: Buffer[] = [];
  let receivedBytes = 0;

  const finish = () => {
    finished = true;
    clearTimeout(timer);
    for (const wake of waiting) wake();
  };
  const fail = (err: Error) => {
    if (finished) {
      // After an early answer (a refusal) clamd closes while the file is still being sent,
      // so the writes that follow fail: expected, and the answer is what counts.
      logger.debug({ err, clamd: where }, "clamd connection failed after its answer");
    } else {
      finish();
      rejectAnswer(err);
    }
    socket.destroy();
  };
  const timer = setTimeout(
    () => fail(new Error(`clamd at ${where} did not answer within ${timeoutMs} ms`)),
    timeoutMs,
  );

  socket.once("connect", () => {
    connected = true;
  });
  socket.on("error", (err: NodeJS.ErrnoException) => {
    const reason = err.code ?? err.message;
    fail(
      new Error(
        connected
          ? `connection to clamd at ${where} failed after ${socket.bytesWritten} bytes were sent: ${reason}`
          : `clamd at ${where} unreachable: ${reason}`,
        { cause: err },
      ),
    );
  });
  socket.on("data", (data: Buffer) => {
    if (finished) return;
    const end = data.indexOf(0);
    received.push(end === -1 ? data : data.subarray(0, end));
    receivedBytes += end === -1 ? data.length : end;
    if (receivedBytes > maxAnswerBytes) {
      fail(new Error(`clamd at ${where} answered more than ${maxAnswerBytes} bytes without an end`));
    } else if (end !== -1) {
      finish();
      resolveAnswer(Buffer.concat(received).toString("utf8").trim());
    }
  });
  socket.on("close", () => {
    if (!finished) fail(new Error(`clamd at ${where} closed the connection without answering`));
  });
  socket.write(command);

  return {
    get finished() {
      return finished;
    },
    answer,
    async send(...parts) {
      // Through the event loop before each write. Writes the kernel takes at once never
      // wait for I/O, so the socket would not be read between them: once clamd refused the
      // file and closed, a write would fail with EPIPE and Node would close the socket with
      // clamd's answer unread. Other connections get their turn too.
      await setImmediate();
      if (finished) return;
      // One write for a frame's header and data: clamd may refuse on reading the header alone.
      socket.cork();
      for (const part of parts) socket.write(part);
      socket.uncork();
      if (!socket.writableNeedDrain) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          socket.off("drain", wake);
          waiting.delete(wake);
          resolve();
        };
        socket.on("drain", wake);
        waiting.add(wake);
      });
    },
    fail,
    destroy() {
      if (finished) socket.destroy();
      else fail(new Error(`the connection to clamd at ${where} was closed by the scanner`));
    },
  };
}

/** A frame's 4-byte big-endian length. */
function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length);
  return header;
}

/**
 * Sends `body` as INSTREAM frames and the end frame. It never rejects: a failure (the
 * body's, or going past `maxBytes`) fails the exchange, which rejects its answer.
 */
async function sendFile(
  exchange: Exchange,
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<void> {
  try {
    let total = 0;
    for await (const chunk of body) {
      // Leaving the loop ends the body's iterator, so the rest of the file is not read.
      if (exchange.finished) break;
      total += chunk.byteLength;
      if (total > maxBytes) {
        exchange.fail(new Error(`the file is larger than the scanner's limit of ${maxBytes} bytes`));
        break;
      }
      for (let at = 0; at < chunk.byteLength && !exchange.finished; at += maxFrameBytes) {
        const part = chunk.subarray(at, at + maxFrameBytes);
        await exchange.send(frameHeader(part.byteLength), part);
      }
    }
    await exchange.send(endOfFile);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    exchange.fail(new Error(`reading the file to scan failed: ${reason}`, { cause: err }));
  }
}

/** The verdict in clamd's answer to INSTREAM; throws on a refusal or an answer it does not know. */
function verdictOf(answer: string, where: string): ScanVerdict {
  if (answer === "stream: OK") return { infected: false };
  const found = /^stream: (.+) FOUND$/.exec(answer);
  if (found) return { infected: true, signature: found[1]! };
  const refused = /^(?:stream: )?(.*) ERROR$/.exec(answer);
  if (refused) throw new Error(`clamd at ${where} could not scan the file: ${refused[1]}`);
  throw new Error(`clamd at ${where} gave an answer this scanner does not know: ${JSON.stringify(answer)}`);
}

/** A Scanner that asks clamd at `host:port`, one connection per scan. Opening does not connect: `ping` does. */
export function openClamdScanner(options: ClamdScannerOptions): Scanner {
  const { host, port } = options;
  const where = `${host}:${port}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxBytes ?? 100 * 1024 * 1024;
  const logger = options.logger ?? silentLogger;
  /** The exchanges in progress, which `close` ends. */
  const open = new Set<Exchange>();
  let closed = false;

  /** Runs `use` on a new exchange that sends `command`, and destroys it afterwards. */
  const exchange = async <T>(command: Uint8Array, use: (exchange: Exchange) => Promise<T>): Promise<T> => {
    if (closed) throw new Error(`the scanner of clamd at ${where} is closed`);
    const current = openExchange(host, port, command, timeoutMs, logger);
    open.add(current);
    try {
      return await use(current);
    } finally {
      open.delete(current);
      current.destroy();
    }
  };

  return {
    scan: (body) =>
      exchange(instreamCommand, async (current) => {
        void sendFile(current, body, maxBytes);
        return verdictOf(await current.answer, where);
      }),
    ping: () =>
      exchange(pingCommand, async (current) => {
        const answer = await current.answer;
        if (answer !== "PONG") {
          throw new Error(`clamd at ${where} answered ${JSON.stringify(answer)} to PING`);
        }
      }),
    async close() {
      closed = true;
      for (const current of open) current.fail(new Error(`the scanner of clamd at ${where} was closed`));
      open.clear();
    },
  };
}
