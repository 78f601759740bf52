/**
 * The process S9 measures (run like a generator, one per run): a main thread that answers
 * HTTP pings, a gateway's stand-in, while it has the thumbnails of a batch of uploads made,
 * with `inFlight` images given at a time (an upload handler awaiting each):
 *
 * - `pool`: by the thumbnail pool (adapters/thumbnails/thumbnail-pool.ts) with `threads`;
 * - `main-thread`: by the pool's own task function called here, so that sharp runs on this
 *   process's libuv threads; at most `concurrent` images at once, 0 for no bound of its
 *   own (libuv's 4 threads are then the bound);
 * - `idle`: nothing, for `idleMs`: the floor of the figures.
 *
 * Both import what `dist/` holds, the code that ships. Pings are answered 503 until the
 * batch starts (after the warm-up), 204 while it runs, then 410, which tells the ping
 * generator that the window is over, and the server closes. Over the batch, the event loop's delay is
 * sampled (perf_hooks) and the process's CPU time (every thread's) read.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Thumbnail } from "../../core/ports.js";

export interface ThumbnailWorkTask {
  mode: "idle" | "pool" | "main-thread";
  /** The ping server's port (loopback). */
  port: number;
  /** The source images, cycled through. */
  files: string[];
  images: number;
  inFlight: number;
  /** Pool threads (pool), or images at once (main-thread; 0: libuv's bound only). */
  threads: number;
  concurrent: number;
  /** How long `idle` lasts. */
  idleMs: number;
  /** When the batch starts (epoch ms); later if the warm-up ends later. */
  startAt: number;
}

export interface ThumbnailWorkResult {
  images: number;
  /** Images that had no thumbnails (must be 0: every source is readable). */
  nulls: number;
  thumbnailBytes: number;
  elapsedMs: number;
  /** CPU time of the process (all its threads) over the batch, in cores. */
  cores: number;
  /** The event loop's delay beyond the sampling interval. */
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
}

type Make = (image: Uint8Array) => Promise<Thumbnail[] | null>;

/** How often the event loop's delay is sampled. */
const resolutionMs = 5;

const dist = new URL("../../dist/adapters/thumbnails/", import.meta.url);

export default async function thumbnailWork(task: ThumbnailWorkTask): Promise<ThumbnailWorkResult> {
  let phase: "warm-up" | "batch" | "over" = "warm-up";
  let toldOver: () => void = () => {};
  const told = new Promise<void>((r) => {
    toldOver = r;
  });
  const server = createServer((_req, res) => {
    res.writeHead({ "warm-up": 503, batch: 204, over: 410 }[phase]);
    res.end();
    if (phase === "over") toldOver();
  });
  // Keep-alive connections stay open through stalls, so that no ping finds one just closed.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(task.port, "127.0.0.1", resolve));
  const sources = task.files.map((f) => new Uint8Array(readFileSync(f)));
  const { make, close } = await maker(task);
  // Warm-up: the pool's thread starts, libvips loads its codecs.
  for (const s of sources) await make(s.slice());

  await new Promise((r) => setTimeout(r, task.startAt - Date.now()));
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  phase = "batch";
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let nulls = 0;
  let thumbnailBytes = 0;
  let next = 0;
  if (task.mode === "idle") await new Promise((r) => setTimeout(r, task.idleMs));
  else {
    await Promise.all(
      Array.from({ length: task.inFlight }, async () => {
        while (next < task.images) {
          // A fresh copy each time: the pool takes the bytes it is given.
          const got = await make(sources[next++ % sources.length]!.slice());
          if (got === null) nulls++;
          else for (const t of got) thumbnailBytes += t.bytes.byteLength;
        }
      }),
    );
  }
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  delay.disable();
  phase = "over";
  await Promise.race([told, new Promise((r) => setTimeout(r, 5000))]);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await close();
  // The histogram holds the time between samples: the interval itself is not a delay.
  const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - resolutionMs) * 100) / 100);
  return {
    images: task.mode === "idle" ? 0 : task.images,
    nulls,
    thumbnailBytes,
    elapsedMs: Math.round(elapsedMs),
    cores: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100) / 100,
    loopP50Ms: ms(delay.percentile(50)),
    loopP99Ms: ms(delay.percentile(99)),
    loopMaxMs: ms(delay.max),
  };
}

async function maker(task: ThumbnailWorkTask): Promise<{ make: Make; close: () => Promise<void> }> {
  if (task.mode === "pool") {
    const { openThumbnailPool } = (await import(
      new URL("thumbnail-pool.js", dist).href
    )) as typeof import("../../adapters/thumbnails/thumbnail-pool.js");
    const pool = openThumbnailPool({ threads: task.threads, maxQueue: task.inFlight });
    return { make: (image) => pool.thumbnails(image), close: () => pool.close() };
  }
  const { default: thumbnails } = (await import(
    new URL("thumbnail-worker.js", dist).href
  )) as typeof import("../../adapters/thumbnails/thumbnail-worker.js");
  return {
    make: task.concurrent > 0 ? limited(thumbnails, task.concurrent) : thumbnails,
    close: async () => {},
  };
}

/** `make` with at most `n` calls running at once; the others wait their turn in order. */
function limited(make: Make, n: number): Make {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (image) => {
    if (running >= n) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await make(image);
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
