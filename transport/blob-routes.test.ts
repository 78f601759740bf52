/**
 * The blob routes on a bare uWS app with the local-disk store behind them, over real
 * HTTP: the shared BlobStore contract, then what only these routes do: refusing expired
 * and altered URLs, refusing wrong sizes and types without leaving an object behind,
 * the download's headers, and streaming both ways with flat memory.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { us_listen_socket } from "@trufflesuite/uws-js-unofficial";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeBlobStoreContract } from "../adapters/blob-contract.js";
import { LocalDiskBlobs } from "../adapters/local-blobs/local-disk-blobs.js";
import { silentLogger } from "../core/logger.js";
import type { BlobBucket, SignedBlobAccess } from "../core/ports.js";
import { freePort } from "../test/support/processes.js";
import { registerBlobRoutes } from "./blob-routes.js";
import { securityHeaders } from "./security-headers.js";
import { loadUws } from "./uws.js";

const MiB = 1024 * 1024;
const secret = randomBytes(32);
const root = mkdtempSync(join(tmpdir(), "colink-blob-routes-"));

/** A uWS app with nothing but the blob routes, over `access`. */
async function serveBlobs(
  access: (baseUrl: string) => Promise<SignedBlobAccess>,
): Promise<{ baseUrl: string; close(): void }> {
  const { uws } = loadUws();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const app = uws.App();
  registerBlobRoutes(app, await access(baseUrl), {
    logger: silentLogger,
    headers: securityHeaders(false),
    maxFileBytes: 1024 * MiB,
    maxPayloadBytes: 64 * 1024,
  });
  const token = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen("127.0.0.1", port, (t) => (t ? resolve(t) : reject(new Error(`cannot listen on ${port}`)))),
  );
  return { baseUrl, close: () => uws.us_listen_socket_close(token) };
}

let server: { baseUrl: string; close(): void } | null = null;
let store: LocalDiskBlobs | null = null;

beforeAll(async () => {
  server = await serveBlobs(async (publicBaseUrl) => {
    store = await LocalDiskBlobs.open({ root, publicBaseUrl, secret });
    return store;
  });
});

afterAll(() => {
  server?.close();
  rmSync(root, { recursive: true, force: true });
});

describeBlobStoreContract("local disk (Colink's blob routes)", async () => store!);

/** A key no other test uses. */
const freshKey = () => `F${randomBytes(4).toString("hex")}/${randomBytes(4).toString("hex")}`;

/** Temp files of uploads left in a bucket. */
const leftovers = (bucket: BlobBucket = "files") =>
  readdirSync(join(root, bucket)).filter((n) => n.startsWith(".upload-"));

/** Resolves once `check` holds, polling; rejects after `timeoutMs`. */
async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The JSON error of a refused request. */
async function errorOf(
  res: Response,
): Promise<{ code: string; message: string; details?: { reason?: string } }> {
  expect(res.headers.get("content-type")).toBe("application/json");
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

async function put(url: string, body: Uint8Array, contentType: string, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: "PUT",
    body: new Uint8Array(body),
    headers: { "content-type": contentType, ...headers },
  });
}

/** A URL with one query parameter set (or dropped, for null). */
function withParam(url: string, name: string, value: string | null): string {
  const u = new URL(url);
  if (value === null) u.searchParams.delete(name);
  else u.searchParams.set(name, value);
  return u.toString();
}

/**
 * A full garbage collection on demand: V8 collects freed chunk copies only once enough of
 * them pile up, so without it RSS would show garbage not yet collected (a few tens of MiB
 * however big the file) rather than what the routes hold.
 */
const collectGarbage = (() => {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

/** What memory grew by at most while `work` ran, sampled every 100 ms after a collection. */
interface MemoryGrowth {
  /** Resident memory. */
  rss: number;
  /** ArrayBuffers alive (chunks queued or being written): a direct measure of what is buffered. */
  arrayBuffers: number;
}

async function memoryGrowthDuring(work: () => Promise<void>): Promise<MemoryGrowth> {
  collectGarbage();
  const start = process.memoryUsage();
  const peak = { rss: start.rss, arrayBuffers: start.arrayBuffers };
  // Not more often: a full collection of the test worker's heap takes tens of ms.
  const sampler = setInterval(() => {
    collectGarbage();
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
  }, 100);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return { rss: peak.rss - start.rss, arrayBuffers: peak.arrayBuffers - start.arrayBuffers };
}

/**
 * A client in a process of its own, so that only the server's memory is measured here:
 * `put <url> <size> <content type> [chunked]` sends `size` random bytes made as the socket
 * takes them; `get <url>` reads the body. Either prints the status, the length header and
 * the body's SHA-256.
 */
const clientScript = `
import { spawn } from "node:child_process";
import { request } from "node:http";
import { createHash, randomFillSync } from "node:crypto";
const [mode, url, size, type, chunked] = process.argv.slice(1);
const hash = createHash("sha256");
const headers = mode === "put" ? { "content-type": type, ...(chunked ? {} : { "content-length": size }) } : {};
const req = request(url, { method: mode.toUpperCase(), headers }, (res) => {
  res.on("data", (d) => mode === "get" && hash.update(d));
  res.on("end", () => console.log(JSON.stringify({
    status: res.statusCode, length: res.headers["content-length"] ?? null, sha256: hash.digest("hex"),
  })));
});
let left = Number(size ?? 0);
function pump() {
  while (left > 0) {
    const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(65536, left)));
    hash.update(chunk);
    left -= chunk.length;
    if (!req.write(chunk)) return req.once("drain", pump);
  }
  req.end();
}
if (mode === "put") pump(); else req.end();
`;

interface ClientResult {
  status: number;
  length: string | null;
  sha256: string;
}

/** Runs the client script with `args`; resolves with what it printed. */
function runClient(...args: string[]): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", clientScript, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.once("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out) as ClientResult)
        : reject(new Error(`client exited ${code}: ${err}`)),
    );
  });
}

/** `size` random bytes in 64 KiB chunks, made as they are pulled, hashed into `hash`. */
function randomStream(size: number, hash: ReturnType<typeof createHash>): ReadableStream<Uint8Array> {
  let left = size;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left === 0) return controller.close();
      const chunk = randomFillSync(new Uint8Array(Math.min(64 * 1024, left)));
      hash.update(chunk);
      left -= chunk.length;
      controller.enqueue(chunk);
    },
  });
}

/** Open file descriptors of this process pointing into the store's root. */
function openFilesUnderRoot(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(root)) n++;
    } catch {
      // Closed while listing.
    }
  }
  return n;
}

describe("blob routes: streaming", () => {
  it("a 50 MiB upload streams to disk and back with memory flat, and the bytes hash the same", async () => {
    const size = 50 * MiB;
    const key = freshKey();
    const upload = await store!.uploadUrl("files", key, {
      contentType: "video/mp4",
      size,
      expiresInSec: 300,
    });
    let sent: ClientResult | null = null;
    // Chunked (no Content-Length), so the routes count the bytes themselves.
    const uploadGrowth = await memoryGrowthDuring(async () => {
      sent = await runClient("put", upload.url, String(size), "video/mp4", "chunked");
    });
    expect(sent!.status).toBe(204);
    expect(await store!.stat("files", key)).toEqual({ size });

    const download = await store!.downloadUrl("files", key, { expiresInSec: 60 });
    let got: ClientResult | null = null;
    const downloadGrowth = await memoryGrowthDuring(async () => {
      got = await runClient("get", download.url);
    });
    expect(got!).toEqual({ status: 200, length: String(size), sha256: sent!.sha256 });
    console.log(
      `[blob-routes] server RSS growth for ${size / MiB} MiB: upload ${(uploadGrowth.rss / MiB).toFixed(1)} MiB, download ${(downloadGrowth.rss / MiB).toFixed(1)} MiB`,
    );
    // A body held whole would grow the RSS by at least its size; the test worker's own
    // noise (other files' heaps, allocator arenas) has reached 12 MiB in CI, so the bound
    // is half the size.
    expect(uploadGrowth.rss).toBeLessThan(size / 2);
    expect(downloadGrowth.rss).toBeLessThan(size / 2);
  }, 120_000);

  it("pauses the upload's socket while the store writes slowly, so few chunks wait in memory", async () => {
    const size = 16 * MiB;
    // The store takes 4 ms per 64 KiB (16 MiB/s): far slower than loopback delivers them.
    const slow = await serveBlobs(async (publicBaseUrl) => {
      const inner = await LocalDiskBlobs.open({ root, publicBaseUrl, secret });
      const access: SignedBlobAccess = {
        verify: (...args) => inner.verify(...args),
        openObject: (bucket, key) => inner.openObject(bucket, key),
        receive: (bucket, key, n, body) =>
          inner.receive(
            bucket,
            key,
            n,
            (async function* () {
              for await (const chunk of body) {
                await new Promise((r) => setTimeout(r, Math.ceil(chunk.byteLength / 65536) * 4));
                yield chunk;
              }
            })(),
          ),
      };
      return access;
    });
    try {
      const writer = await LocalDiskBlobs.open({ root, publicBaseUrl: slow.baseUrl, secret });
      const key = freshKey();
      const upload = await writer.uploadUrl("files", key, {
        contentType: "video/mp4",
        size,
        expiresInSec: 300,
      });
      let sent: ClientResult | null = null;
      const started = Date.now();
      const growth = await memoryGrowthDuring(async () => {
        sent = await runClient("put", upload.url, String(size), "video/mp4");
      });
      console.log(
        `[blob-routes] slow store, ${size / MiB} MiB in ${Date.now() - started} ms: at most ${(growth.arrayBuffers / MiB).toFixed(1)} MiB of chunks alive, RSS growth ${(growth.rss / MiB).toFixed(1)} MiB`,
      );
      expect(sent!.status).toBe(204);
      // Unpaused, nearly the whole file waits (15 MiB when measured); paused, about 1 MiB queues.
      expect(growth.arrayBuffers).toBeLessThan(6 * MiB);
      const got = createHash("sha256");
      for await (const chunk of await writer.read("files", key)) got.update(chunk);
      expect(got.digest("hex")).toBe(sent!.sha256);
    } finally {
      slow.close();
    }
  }, 120_000);

  it("a download the client abandons half-way closes the file", async () => {
    const key = freshKey();
    const upload = await store!.uploadUrl("files", key, {
      contentType: "application/octet-stream",
      size: 20 * MiB,
      expiresInSec: 60,
    });
    expect((await put(upload.url, randomBytes(20 * MiB), "application/octet-stream")).status).toBe(204);
    const before = openFilesUnderRoot();
    const abort = new AbortController();
    const res = await fetch((await store!.downloadUrl("files", key, { expiresInSec: 60 })).url, {
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    expect(openFilesUnderRoot()).toBe(before + 1);
    abort.abort();
    await until(() => openFilesUnderRoot() === before, "the file to be closed");
  });

  it("an upload the client abandons half-way leaves neither object nor temp file", async () => {
    const key = freshKey();
    const size = 10 * MiB;
    const upload = await store!.uploadUrl("files", key, {
      contentType: "text/plain",
      size,
      expiresInSec: 60,
    });
    const req = request(upload.url, {
      method: "PUT",
      headers: { "content-type": "text/plain", "content-length": String(size) },
    });
    req.on("error", () => {});
    req.write(randomBytes(2 * MiB));
    await until(() => leftovers().length > 0, "the upload to start");
    req.destroy();
    await until(() => leftovers().length === 0, "the temp file to go");
    expect(await store!.stat("files", key)).toBeNull();
  });
});

describe("blob routes: refusals", () => {
  it("refuses an expired upload or download URL with 403", async () => {
    const key = freshKey();
    await store!.write("files", key, randomBytes(10), "text/plain");
    // URLs signed two minutes ago, good for one.
    const past = await LocalDiskBlobs.open({
      root,
      publicBaseUrl: server!.baseUrl,
      secret,
      now: () => Date.now() - 120_000,
    });
    const upload = await past.uploadUrl("files", freshKey(), {
      contentType: "text/plain",
      size: 3,
      expiresInSec: 60,
    });
    const putRes = await put(upload.url, Buffer.from("abc"), "text/plain");
    expect(putRes.status).toBe(403);
    expect(await errorOf(putRes)).toMatchObject({ code: "forbidden", details: { reason: "expired" } });
    const getRes = await fetch((await past.downloadUrl("files", key, { expiresInSec: 60 })).url);
    expect(getRes.status).toBe(403);
    expect(await errorOf(getRes)).toMatchObject({ code: "forbidden", details: { reason: "expired" } });
    expect(leftovers()).toEqual([]);
  });

  it("refuses an upload URL whose signature, size, type or key was changed, and stores nothing", async () => {
    const key = freshKey();
    const { url } = await store!.uploadUrl("files", key, {
      contentType: "text/plain",
      size: 3,
      expiresInSec: 60,
    });
    const sig = new URL(url).searchParams.get("sig")!;
    const tampered = [
      withParam(url, "sig", `${sig.slice(0, -2)}${sig.endsWith("AA") ? "BB" : "AA"}`),
      withParam(url, "size", "4"),
      withParam(url, "ct", "text/html"),
      withParam(url, "exp", String(Number(new URL(url).searchParams.get("exp")) + 86_400)),
      url.replace(key, freshKey()),
      url.replace("/files/", "/avatars/"),
    ];
    for (const bad of tampered) {
      const contentType = new URL(bad).searchParams.get("ct")!;
      const size = Number(new URL(bad).searchParams.get("size"));
      const res = await put(bad, randomBytes(size), contentType);
      expect(res.status, bad).toBe(403);
      expect(await errorOf(res)).toMatchObject({ code: "forbidden", details: { reason: "bad_signature" } });
    }
    const noSig = await put(withParam(url, "sig", null), Buffer.from("abc"), "text/plain");
    expect(noSig.status).toBe(400);
    expect(await store!.stat("files", key)).toBeNull();
    expect(leftovers()).toEqual([]);
  });

  it("refuses a download URL whose file name, type or method was changed", async () => {
    const key = freshKey();
    await store!.write("files", key, Buffer.from("hello"), "text/plain");
    const { url } = await store!.downloadUrl("files", key, {
      expiresInSec: 60,
      fileName: "hello.txt",
      contentType: "text/plain",
    });
    expect((await fetch(url)).status).toBe(200);
    for (const bad of [
      withParam(url, "name", "hello.html"),
      withParam(url, "name", null),
      withParam(url, "ct", "text/html"),
    ]) {
      const res = await fetch(bad);
      expect(res.status, bad).toBe(403);
      expect(await errorOf(res)).toMatchObject({ details: { reason: "bad_signature" } });
    }
    // A download URL does not allow an upload.
    const res = await put(url, Buffer.from("evil"), "text/plain");
    expect(res.status).toBe(400);
    expect(await fetch(url).then((r) => r.text())).toBe("hello");
  });

  it("refuses a PUT whose Content-Type is not the signed one", async () => {
    const key = freshKey();
    const { url } = await store!.uploadUrl("files", key, {
      contentType: "image/png",
      size: 3,
      expiresInSec: 60,
    });
    const res = await put(url, Buffer.from("abc"), "text/html");
    expect(res.status).toBe(403);
    expect(await store!.stat("files", key)).toBeNull();
  });

  it("refuses a body shorter than signed with 400, declared or not, and keeps nothing", async () => {
    const key = freshKey();
    const { url } = await store!.uploadUrl("files", key, {
      contentType: "text/plain",
      size: 1000,
      expiresInSec: 60,
    });
    const declared = await put(url, randomBytes(999), "text/plain");
    expect(declared.status).toBe(400);
    expect(await errorOf(declared)).toMatchObject({ code: "bad_request" });
    const chunked = await fetch(url, {
      method: "PUT",
      body: new Blob([randomBytes(999)]).stream(),
      headers: { "content-type": "text/plain" },
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(400);
    expect(await errorOf(chunked)).toMatchObject({ code: "bad_request" });
    expect(await store!.stat("files", key)).toBeNull();
    expect(leftovers()).toEqual([]);
  });

  it("refuses a body larger than signed with 413, declared or not, and keeps nothing", async () => {
    const key = freshKey();
    const { url } = await store!.uploadUrl("files", key, {
      contentType: "text/plain",
      size: 1000,
      expiresInSec: 60,
    });
    const declared = await put(url, randomBytes(1001), "text/plain");
    expect(declared.status).toBe(413);
    expect(await errorOf(declared)).toMatchObject({ code: "too_large" });
    // Undeclared: refused once the 1001st byte arrives, while the client is still sending.
    const hash = createHash("sha256");
    const chunked = await fetch(url, {
      method: "PUT",
      body: randomStream(8 * MiB, hash),
      headers: { "content-type": "text/plain" },
      duplex: "half",
    } as RequestInit).then(
      (res) => res.status,
      (err: Error) => `connection cut: ${err.message}`,
    );
    // The 413 races the client's writes to a connection that is being closed.
    expect([413, "connection cut: fetch failed"]).toContain(chunked);
    await until(() => leftovers().length === 0, "the temp file to go");
    expect(await store!.stat("files", key)).toBeNull();
  });

  it("answers 400 to a path that names no key", async () => {
    const res = await fetch(`${server!.baseUrl}/v1/blobs/files?exp=1&sig=x`);
    expect(res.status).toBe(400);
    const stray = await fetch(`${server!.baseUrl}/v1/blobs/files/F1/%zz?exp=1&sig=x`);
    expect(stray.status).toBe(400);
  });
});

describe("blob routes: download headers", () => {
  it("sends the length, the type, an attachment disposition, nosniff and a private cache no longer than the URL", async () => {
    const key = freshKey();
    await store!.write("files", key, Buffer.from("<script>alert(1)</script>"), "text/html");
    const bare = await fetch((await store!.downloadUrl("files", key, { expiresInSec: 90 })).url);
    expect(bare.status).toBe(200);
    expect(bare.headers.get("content-length")).toBe("25");
    expect(bare.headers.get("content-type")).toBe("application/octet-stream");
    expect(bare.headers.get("content-disposition")).toBe("attachment");
    expect(bare.headers.get("x-content-type-options")).toBe("nosniff");
    expect(bare.headers.get("content-security-policy")).toBe(
      "default-src 'none'; sandbox; frame-ancestors 'none'",
    );
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(bare.headers.get("cache-control") ?? "")?.[1]);
    expect(maxAge).toBeGreaterThanOrEqual(88);
    expect(maxAge).toBeLessThanOrEqual(91);
    await bare.arrayBuffer();

    const named = await fetch(
      (
        await store!.downloadUrl("files", key, {
          expiresInSec: 60,
          fileName: "../../etc/pass\r\nwd\u202e.html",
        })
      ).url,
    );
    expect(named.headers.get("content-disposition")).toBe(
      "attachment; filename=\".._.._etc_passwd_.html\"; filename*=UTF-8''.._.._etc_passwd%E2%80%AE.html",
    );
    await named.arrayBuffer();
  });
});
