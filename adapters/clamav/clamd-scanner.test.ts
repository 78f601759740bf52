/**
 * The clamd scanner against a real clamd (test/support/clamav.ts): the EICAR test file is
 * found and named, clean and empty files pass, files past the scanner's or clamd's limit
 * are refused without being read to the end, a stopped clamd makes scans and pings reject
 * and a restarted one is used again. A clamd that never answers is a fake (a TCP server
 * that reads and stays silent), for the timeouts.
 */
import { randomBytes } from "node:crypto";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Scanner } from "../../core/ports.js";
import { eicarSignature, eicarTestFile, startClamd, type TestClamd } from "../../test/support/clamav.js";
import { maxFrameBytes, openClamdScanner } from "./clamd-scanner.js";

const MiB = 1024 * 1024;

/** `bytes` as a body, cut into pieces whose sizes go round `sizes`. */
async function* piecesOf(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.byteLength; i++) {
    const size = sizes[i % sizes.length]!;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

/** A body that counts how much of it was read and whether its reader let go of it. */
function countedBody(total: number, pieceBytes: number) {
  const counted = { read: 0, released: false };
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      for (let at = 0; at < total; at += pieceBytes) {
        counted.read += pieceBytes;
        yield randomBytes(pieceBytes);
      }
    } finally {
      counted.released = true;
    }
  }
  return { counted, body: body() };
}

/** A body that never yields a byte. */
async function* stalledBody(): AsyncGenerator<Uint8Array> {
  await new Promise(() => {});
  yield new Uint8Array(0);
}

/** A fake clamd: a TCP server that reads whatever comes and never answers, for the timeouts. */
interface FakeSilentClamd {
  port: number;
  /** The connections it accepted that are still open. */
  readonly open: Set<Socket>;
  close(): Promise<void>;
}

async function fakeSilentClamd(): Promise<FakeSilentClamd> {
  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    open.add(socket);
    socket.on("data", () => {});
    // The scanner destroying its connection (a reset) is what the tests expect of it.
    socket.on("error", () => {});
    socket.on("close", () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    open,
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Resolves once `check` holds, or rejects after `timeoutMs` saying `what`. */
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("the clamd scanner against clamd", () => {
  let clamd: TestClamd;
  let scanner: Scanner;

  beforeAll(async () => {
    const started = performance.now();
    clamd = await startClamd();
    console.log(`clamd answered PING ${Math.round(performance.now() - started)} ms after it was started`);
    scanner = openClamdScanner({ host: clamd.host, port: clamd.port });
  });
  afterAll(async () => {
    await scanner?.close();
    await clamd?.cleanup();
  });

  it("answers a ping", async () => {
    await scanner.ping();
  });

  it("finds the EICAR test file and names its signature, however it is cut", async () => {
    const eicar = new TextEncoder().encode(eicarTestFile);
    const whole = { infected: true, signature: eicarSignature };
    expect(await scanner.scan(piecesOf(eicar, [eicar.byteLength]))).toEqual(whole);
    expect(await scanner.scan(piecesOf(eicar, [1, 7, 30]))).toEqual(whole);
  });

  it("passes 5 MiB of random bytes sent in pieces of many sizes, some larger than a frame", async () => {
    const file = randomBytes(5 * MiB);
    const sizes = [1, 1000, maxFrameBytes, maxFrameBytes + 1, 300_000, 0];
    expect(await scanner.scan(piecesOf(file, sizes))).toEqual({ infected: false });
  });

  it("passes an empty file, and one made of empty pieces", async () => {
    expect(await scanner.scan(piecesOf(new Uint8Array(0), [1]))).toEqual({ infected: false });
    async function* emptyPieces(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(0);
      yield new Uint8Array(0);
    }
    expect(await scanner.scan(emptyPieces())).toEqual({ infected: false });
  });

  it("refuses a file past its own limit and stops reading it there", async () => {
    const small = openClamdScanner({ host: clamd.host, port: clamd.port, maxBytes: MiB });
    const { counted, body } = countedBody(8 * MiB, 100_000);
    await expect(small.scan(body)).rejects.toThrow(
      `the file is larger than the scanner's limit of ${MiB} bytes`,
    );
    expect(counted.read).toBeLessThanOrEqual(MiB + 100_000);
    expect(counted.released).toBe(true);
    // A file of exactly the limit is scanned.
    expect(await small.scan(piecesOf(randomBytes(MiB), [100_000]))).toEqual({ infected: false });
    await small.close();
  });

  it("rejects when the file stops coming in before the deadline", async () => {
    const impatient = openClamdScanner({ host: clamd.host, port: clamd.port, timeoutMs: 300 });
    const started = Date.now();
    await expect(impatient.scan(stalledBody())).rejects.toThrow(
      `clamd at ${clamd.host}:${clamd.port} did not answer within 300 ms`,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    await impatient.close();
  });

  it("rejects when reading the file fails", async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield randomBytes(1000);
      throw new Error("the upload was cut");
    }
    await expect(scanner.scan(failing())).rejects.toThrow(
      "reading the file to scan failed: the upload was cut",
    );
  });

  it("scans several files at once", async () => {
    const eicar = new TextEncoder().encode(eicarTestFile);
    const verdicts = await Promise.all([
      scanner.scan(piecesOf(randomBytes(MiB), [50_000])),
      scanner.scan(piecesOf(eicar, [10])),
      scanner.scan(piecesOf(randomBytes(2 * MiB), [maxFrameBytes])),
    ]);
    expect(verdicts).toEqual([
      { infected: false },
      { infected: true, signature: eicarSignature },
      { infected: false },
    ]);
  });

  it("rejects scans and pings while clamd is stopped, and scans again once it is back", async () => {
    await clamd.stop();
    const where = `${clamd.host}:${clamd.port}`;
    await expect(scanner.scan(piecesOf(randomBytes(1000), [100]))).rejects.toThrow(
      `clamd at ${where} unreachable: ECONNREFUSED`,
    );
    await expect(scanner.ping()).rejects.toThrow(`clamd at ${where} unreachable: ECONNREFUSED`);
    await clamd.restart();
    await scanner.ping();
    const eicar = new TextEncoder().encode(eicarTestFile);
    expect(await scanner.scan(piecesOf(eicar, [68]))).toEqual({ infected: true, signature: eicarSignature });
  });

  it("rejects every call once closed", async () => {
    const closing = openClamdScanner({ host: clamd.host, port: clamd.port });
    await closing.close();
    await expect(closing.ping()).rejects.toThrow("is closed");
    await expect(closing.scan(piecesOf(new Uint8Array(10), [10]))).rejects.toThrow("is closed");
  });
});

describe("the clamd scanner against a clamd with a small StreamMaxLength", () => {
  let clamd: TestClamd;

  beforeAll(async () => {
    clamd = await startClamd({ streamMaxLength: "1M" });
  });
  afterAll(async () => {
    await clamd?.cleanup();
  });

  it("rejects with clamd's reason when clamd refuses a file past its StreamMaxLength", async () => {
    const scanner = openClamdScanner({ host: clamd.host, port: clamd.port });
    // The last frame passes the limit and nothing is sent after it (the body waits), so no
    // write can fail before clamd's answer is read.
    async function* overByOneByte(): AsyncGenerator<Uint8Array> {
      yield randomBytes(MiB + 1);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await expect(scanner.scan(overByOneByte())).rejects.toThrow(
      `clamd at ${clamd.host}:${clamd.port} could not scan the file: INSTREAM size limit exceeded`,
    );
    await scanner.close();
  });

  it("rejects, and stops reading, when clamd refuses a file that is still being sent", async () => {
    const scanner = openClamdScanner({ host: clamd.host, port: clamd.port });
    // clamd closes at once, so a write may fail before its answer is read (the adapter's doc).
    const refused = new RegExp(
      `could not scan the file: INSTREAM size limit exceeded|` +
        `connection to clamd at ${clamd.host}:${clamd.port} failed after \\d+ bytes were sent: (EPIPE|ECONNRESET)`,
    );
    for (let i = 0; i < 5; i++) {
      const { counted, body } = countedBody(32 * MiB, maxFrameBytes);
      await expect(scanner.scan(body)).rejects.toThrow(refused);
      // The sending stops at its next piece, a moment after the answer; what was read
      // beyond clamd's 1 MiB sat in the kernel's socket buffers (some MiB on loopback).
      await until(() => counted.released, 2000, "the body let go of");
      expect(counted.read).toBeLessThan(16 * MiB);
    }
    await scanner.close();
  });
});

describe("the clamd scanner against a fake clamd that never answers", () => {
  let fake: FakeSilentClamd;

  beforeAll(async () => {
    fake = await fakeSilentClamd();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("rejects a scan and a ping at the deadline and closes their connections", async () => {
    const scanner = openClamdScanner({ host: "127.0.0.1", port: fake.port, timeoutMs: 300 });
    const where = `127.0.0.1:${fake.port}`;
    await expect(scanner.scan(piecesOf(randomBytes(10_000), [1000]))).rejects.toThrow(
      `clamd at ${where} did not answer within 300 ms`,
    );
    await expect(scanner.ping()).rejects.toThrow(`clamd at ${where} did not answer within 300 ms`);
    await until(() => fake.open.size === 0, 2000, "the fake's connections closed");
    await scanner.close();
  });

  it("rejects the scans in progress when closed", async () => {
    const scanner = openClamdScanner({ host: "127.0.0.1", port: fake.port });
    const scanning = scanner.scan(piecesOf(randomBytes(1000), [1000]));
    await until(() => fake.open.size === 1, 2000, "the scan connected");
    await scanner.close();
    await expect(scanning).rejects.toThrow(`the scanner of clamd at 127.0.0.1:${fake.port} was closed`);
    await until(() => fake.open.size === 0, 2000, "the fake's connection closed");
  });
});
