/**
 * S11 generator (a long-lived process, see bench/lib/gen-session.ts): uploads files to a
 * Colink with its files on local disk as a client does, `file.begin` (over the WebSocket,
 * bench/lib/wire.ts) → `PUT` of the bytes to the signed URL (node:http, streamed: the bytes
 * are made chunk by chunk as the socket takes them, bench/lib/file-bytes.ts) →
 * `file.complete`; downloads them back, hashing on the fly; and, for the scan part, stages
 * uploads (begun and PUT, not completed), completes them all at once and times the verdicts
 * as `file.updated` brings them. It also scans the same bytes straight through clamd
 * (adapters/clamav), without the server, for comparison.
 */
import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename } from "node:fs/promises";
import { Agent, type IncomingMessage, request } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { openClamdScanner } from "../../adapters/clamav/clamd-scanner.js";
import { fileChunks } from "../lib/file-bytes.js";
import { serveCommands } from "../lib/gen-session.js";
import { encodeHistogram, newHistogram } from "../lib/stats.js";
import { WireClient } from "../lib/wire.js";

const contentType = "application/octet-stream";

export interface ConnectCmd {
  kind: "connect";
  wsUrl: string;
  baseUrl: string;
  /** One connection per token; client i uploads to channels[i]. */
  tokens: string[];
  channels: string[];
}

export interface SmallCmd {
  kind: "small";
  /** Clients uploading at once, each in a closed loop (the first `clients` connections). */
  clients: number;
  bytes: number;
  warmupMs: number;
  durationMs: number;
  seedBase: number;
}

export interface SmallResult {
  /** Uploads completed inside the measuring window. */
  uploads: number;
  windowMs: number;
  errors: number;
  firstError: string;
  /** begin → complete of the uploads started in the window, µs, compressed. */
  histogram: string;
  /** Mean ms of each step over those uploads. */
  beginMs: number;
  putMs: number;
  completeMs: number;
}

export interface BatchCmd {
  kind: "batch";
  files: number;
  inFlight: number;
  bytes: number;
  seedBase: number;
}

export interface BatchResult {
  files: number;
  bytes: number;
  /** From the first begin to the last complete. */
  elapsedMs: number;
  /** Each upload's begin → complete, ms. */
  perFileMs: number[];
}

export interface DiskWriteCmd {
  kind: "diskWrite";
  /** An empty dir of the caller's, which the caller removes. */
  dir: string;
  files: number;
  inFlight: number;
  bytes: number;
  seedBase: number;
}

export interface HugeCmd {
  kind: "huge";
  bytes: number;
  seed: number;
  chunkBytes: number;
  /** Without a Content-Length (see S11's `uwsMaxContentLength`). */
  chunked: boolean;
}

export interface HugeResult {
  fileId: string;
  beginMs: number;
  putMs: number;
  completeMs: number;
  sha256: string;
}

export interface DownloadCmd {
  kind: "download";
  fileId: string;
}

export interface DownloadResult {
  status: number;
  /** The Content-Length the server announced. */
  declared: number;
  bytes: number;
  sha256: string;
  /** file.get, then the GET until its last byte. */
  getMs: number;
  transferMs: number;
}

export interface StageCmd {
  kind: "stage";
  files: number;
  bytes: number;
  inFlight: number;
  seedBase: number;
}

export interface CompleteAllCmd {
  kind: "completeAll";
  timeoutMs: number;
}

export interface CompleteAllResult {
  files: number;
  /** Until every file.complete was answered, ms from sending them. */
  completeAckMs: number;
  /** Each file's verdict time, ms from sending the completes, sorted. */
  verdictMs: number[];
  statuses: Record<string, number>;
  /** Verdicts that the file.get poll found before their event did. */
  foundByPoll: number;
}

export interface DirectScanCmd {
  kind: "directScan";
  host: string;
  port: number;
  files: number;
  bytes: number;
  concurrency: number;
  seedBase: number;
}

export interface DirectScanResult {
  files: number;
  elapsedMs: number;
  infected: number;
  errors: number;
  firstError: string;
}

interface Conn {
  client: WireClient;
  channelId: string;
  /** The verdict of each staged file, as the events bring it. */
  verdicts: Map<string, string>;
}

let conns: Conn[] = [];
let baseUrl = "";
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
/** Files begun and PUT, waiting for `completeAll`: their connection and id. */
let staged: Array<{ conn: Conn; fileId: string }> = [];
/** Wakes `completeAll` when a verdict event arrives. */
let onVerdict: (() => void) | null = null;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function connect(cmd: ConnectCmd): Promise<{ connected: number }> {
  baseUrl = cmd.baseUrl;
  conns = await Promise.all(
    cmd.tokens.map(async (token, i) => {
      const client = await WireClient.connect(cmd.wsUrl, token);
      const conn: Conn = { client, channelId: cmd.channels[i]!, verdicts: new Map() };
      client.onEvent = (_topic, type, data) => {
        if (type !== "file.updated") return;
        const file = (data as { file: { id: string; status: string } }).file;
        if (file.status === "pending" || file.status === "uploading") return;
        conn.verdicts.set(file.id, file.status);
        onVerdict?.();
      };
      return conn;
    }),
  );
  return { connected: conns.length };
}

/**
 * PUTs `size` bytes of `seed` to `url` (relative to the server), streamed; resolves with the
 * status. With `chunked`, without a Content-Length (Transfer-Encoding: chunked).
 */
async function put(
  url: string,
  seed: number,
  size: number,
  opts: { chunkBytes?: number; hash?: Hash; chunked?: boolean } = {},
): Promise<number> {
  const { chunkBytes, hash } = opts;
  const req = request(new URL(url, baseUrl), {
    method: "PUT",
    agent,
    headers: {
      "content-type": contentType,
      ...(opts.chunked ? {} : { "content-length": String(size) }),
    },
  });
  const answered = new Promise<number>((resolve, reject) => {
    req.once("response", (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
      res.once("error", reject);
    });
    req.once("error", reject);
  });
  const send = async () => {
    for (const chunk of fileChunks(seed, size, chunkBytes)) {
      hash?.update(chunk);
      // Waits while the socket holds more than its high-water mark: nothing piles up here.
      if (!req.write(chunk)) await once(req, "drain");
    }
    req.end();
  };
  // A refusal can come (and the socket close) before every byte was sent.
  const [status] = await Promise.all([answered, send().catch(() => {})]);
  return status;
}

/** begin → PUT → complete on `conn`; the three steps' times in ms. */
async function uploadOne(
  conn: Conn,
  name: string,
  seed: number,
  size: number,
  opts: { complete: boolean; chunkBytes?: number; hash?: Hash; chunked?: boolean } = { complete: true },
): Promise<{ fileId: string; beginMs: number; putMs: number; completeMs: number }> {
  const t0 = performance.now();
  const begun = (await conn.client.request("file.begin", {
    channelId: conn.channelId,
    name,
    size,
    contentType,
  })) as { fileId: string; uploadUrl: string };
  const t1 = performance.now();
  const status = await put(begun.uploadUrl, seed, size, opts);
  if (status < 200 || status >= 300) throw new Error(`PUT of ${name} answered ${status}`);
  const t2 = performance.now();
  if (opts.complete) {
    const done = (await conn.client.request("file.complete", { fileId: begun.fileId })) as {
      file: { size: number };
    };
    if (done.file.size !== size) throw new Error(`${name}: completed with ${done.file.size} bytes`);
  }
  const t3 = performance.now();
  return { fileId: begun.fileId, beginMs: t1 - t0, putMs: t2 - t1, completeMs: t3 - t2 };
}

/** Runs `count` tasks, `inFlight` at a time. */
async function pool(count: number, inFlight: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function small(cmd: SmallCmd): Promise<SmallResult> {
  const start = performance.now();
  const from = start + cmd.warmupMs;
  const until = from + cmd.durationMs;
  const histogram = newHistogram();
  let uploads = 0;
  let errors = 0;
  let firstError = "";
  let seed = cmd.seedBase;
  const sums = { begin: 0, put: 0, complete: 0, n: 0 };
  await Promise.all(
    conns.slice(0, cmd.clients).map(async (conn, c) => {
      for (let k = 0; performance.now() < until; k++) {
        const began = performance.now();
        try {
          const t = await uploadOne(conn, `small-${c}-${k}.bin`, seed++, cmd.bytes);
          const ended = performance.now();
          if (ended >= from && ended <= until) uploads++;
          if (began >= from && ended <= until) {
            histogram.recordValue(Math.max(1, Math.round((ended - began) * 1000)));
            sums.begin += t.beginMs;
            sums.put += t.putMs;
            sums.complete += t.completeMs;
            sums.n++;
          }
        } catch (err) {
          errors++;
          firstError ||= errorText(err);
        }
      }
    }),
  );
  const mean = (x: number) => (sums.n > 0 ? Math.round((x / sums.n) * 100) / 100 : Number.NaN);
  return {
    uploads,
    windowMs: cmd.durationMs,
    errors,
    firstError,
    histogram: encodeHistogram(histogram),
    beginMs: mean(sums.begin),
    putMs: mean(sums.put),
    completeMs: mean(sums.complete),
  };
}

async function batch(cmd: BatchCmd): Promise<BatchResult> {
  const perFileMs: number[] = [];
  const start = performance.now();
  await pool(cmd.files, cmd.inFlight, async (i) => {
    const t = await uploadOne(conns[i % conns.length]!, `large-${i}.bin`, cmd.seedBase + i, cmd.bytes);
    perFileMs.push(t.beginMs + t.putMs + t.completeMs);
  });
  return { files: cmd.files, bytes: cmd.files * cmd.bytes, elapsedMs: performance.now() - start, perFileMs };
}

/**
 * The same files written straight to disk, as the local-disk adapter writes an upload (a
 * temp file with `flush`, then renamed), without HTTP or the server: the disk's ceiling.
 */
async function diskWrite(cmd: DiskWriteCmd): Promise<BatchResult> {
  const perFileMs: number[] = [];
  const start = performance.now();
  await pool(cmd.files, cmd.inFlight, async (i) => {
    const began = performance.now();
    const path = join(cmd.dir, `file-${i}`);
    await pipeline(
      Readable.from(fileChunks(cmd.seedBase + i, cmd.bytes)),
      createWriteStream(`${path}.tmp`, { flags: "wx", flush: true }),
    );
    await rename(`${path}.tmp`, path);
    perFileMs.push(performance.now() - began);
  });
  return { files: cmd.files, bytes: cmd.files * cmd.bytes, elapsedMs: performance.now() - start, perFileMs };
}

async function huge(cmd: HugeCmd): Promise<HugeResult> {
  const hash = createHash("sha256");
  const t = await uploadOne(conns[0]!, "huge.bin", cmd.seed, cmd.bytes, {
    complete: true,
    chunkBytes: cmd.chunkBytes,
    hash,
    chunked: cmd.chunked,
  });
  return { ...t, sha256: hash.digest("hex") };
}

async function download(cmd: DownloadCmd): Promise<DownloadResult> {
  const t0 = performance.now();
  const got = (await conns[0]!.client.request("file.get", { fileId: cmd.fileId })) as { url: string | null };
  if (!got.url) throw new Error(`file ${cmd.fileId} has no download URL`);
  const t1 = performance.now();
  const hash = createHash("sha256");
  let bytes = 0;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(new URL(got.url!, baseUrl), { method: "GET", agent }, resolve);
    req.once("error", reject);
    req.end();
  });
  for await (const chunk of res as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return {
    status: res.statusCode ?? 0,
    declared: Number(res.headers["content-length"] ?? -1),
    bytes,
    sha256: hash.digest("hex"),
    getMs: t1 - t0,
    transferMs: performance.now() - t1,
  };
}

async function stage(cmd: StageCmd): Promise<{ staged: number; ms: number }> {
  const start = performance.now();
  const made: Array<{ conn: Conn; fileId: string }> = [];
  await pool(cmd.files, cmd.inFlight, async (i) => {
    const conn = conns[i % conns.length]!;
    const t = await uploadOne(conn, `scan-${cmd.seedBase + i}.bin`, cmd.seedBase + i, cmd.bytes, {
      complete: false,
    });
    made.push({ conn, fileId: t.fileId });
  });
  staged = made;
  return { staged: made.length, ms: performance.now() - start };
}

async function completeAll(cmd: CompleteAllCmd): Promise<CompleteAllResult> {
  const files = staged;
  staged = [];
  for (const c of conns) c.verdicts.clear();
  const seen = new Map<string, number>();
  let foundByPoll = 0;
  const t0 = performance.now();
  const acks = Promise.all(
    files.map((f) => f.conn.client.request("file.complete", { fileId: f.fileId })),
  ).then(() => performance.now() - t0);
  const collect = () => {
    for (const f of files) {
      if (!seen.has(f.fileId) && f.conn.verdicts.has(f.fileId)) seen.set(f.fileId, performance.now() - t0);
    }
  };
  const deadline = t0 + cmd.timeoutMs;
  let nextPoll = t0 + 5000;
  while (seen.size < files.length) {
    if (performance.now() > deadline) {
      throw new Error(
        `${files.length - seen.size} of ${files.length} files had no verdict in ${cmd.timeoutMs} ms`,
      );
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 250);
      onVerdict = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    onVerdict = null;
    collect();
    // In case an event went missing (personal-topic events are not replayed): ask now and then.
    if (performance.now() > nextPoll && seen.size < files.length) {
      nextPoll = performance.now() + 5000;
      for (const f of files) {
        if (seen.has(f.fileId)) continue;
        const got = (await f.conn.client.request("file.get", { fileId: f.fileId })) as {
          file: { status: string };
        };
        if (got.file.status !== "pending" && got.file.status !== "uploading") {
          f.conn.verdicts.set(f.fileId, got.file.status);
          seen.set(f.fileId, performance.now() - t0);
          foundByPoll++;
        }
      }
    }
  }
  const statuses: Record<string, number> = {};
  for (const f of files) {
    const s = f.conn.verdicts.get(f.fileId)!;
    statuses[s] = (statuses[s] ?? 0) + 1;
  }
  return {
    files: files.length,
    completeAckMs: await acks,
    verdictMs: [...seen.values()].sort((a, b) => a - b),
    statuses,
    foundByPoll,
  };
}

/** The bytes of `seed` as the scanner takes them (the blob store's reads are async). */
async function* asyncChunks(seed: number, size: number): AsyncGenerator<Uint8Array> {
  yield* fileChunks(seed, size);
}

async function directScan(cmd: DirectScanCmd): Promise<DirectScanResult> {
  const scanner = openClamdScanner({ host: cmd.host, port: cmd.port });
  let infected = 0;
  let errors = 0;
  let firstError = "";
  const start = performance.now();
  try {
    await pool(cmd.files, cmd.concurrency, async (i) => {
      try {
        const verdict = await scanner.scan(asyncChunks(cmd.seedBase + i, cmd.bytes));
        if (verdict.infected) infected++;
      } catch (err) {
        errors++;
        firstError ||= errorText(err);
      }
    });
  } finally {
    await scanner.close();
  }
  return { files: cmd.files, elapsedMs: performance.now() - start, infected, errors, firstError };
}

serveCommands(async (cmd) => {
  switch (cmd.kind) {
    case "connect":
      return connect(cmd as unknown as ConnectCmd);
    case "small":
      return small(cmd as unknown as SmallCmd);
    case "batch":
      return batch(cmd as unknown as BatchCmd);
    case "diskWrite":
      return diskWrite(cmd as unknown as DiskWriteCmd);
    case "huge":
      return huge(cmd as unknown as HugeCmd);
    case "download":
      return download(cmd as unknown as DownloadCmd);
    case "stage":
      return stage(cmd as unknown as StageCmd);
    case "completeAll":
      return completeAll(cmd as unknown as CompleteAllCmd);
    case "directScan":
      return directScan(cmd as unknown as DirectScanCmd);
    default:
      throw new Error(`unknown command ${cmd.kind}`);
  }
});
