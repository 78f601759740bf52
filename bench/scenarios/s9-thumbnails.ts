/**
 * S9, thumbnails: the thumbnail pool (adapters/thumbnails) against the same work on the
 * main thread, and what either does to the main thread's event loop meanwhile. Runs only
 * when named (`--only S9`; quick: 40 images per run, `--full`: 200; `S9_IMAGES` overrides
 * either).
 *
 * Per run, a fresh process (bench/generators/thumbnail-work.ts) has the thumbnails of a
 * batch of uploads made, 16 images in flight (an upload handler awaiting each), cycling
 * through a 12-megapixel phone photo (JPEG), a 2560×1440 screenshot (PNG) and a forwarded
 * 1600×1200 photo (JPEG) (bench/lib/thumbnail-sources.ts), while it answers HTTP pings from
 * another process (bench/generators/ping-load.ts, 200/s, latency from each ping's intended
 * time) and samples its own event-loop delay. The systems, alternately, round by round:
 *
 * - `idle`: no thumbnails, for 3 s: the floor of the latencies;
 * - `pool`: the pool with 1 thread (this machine's default; `--full` also 2);
 * - `main-thread`: the pool's task function called on the main thread: sharp then runs on
 *   libuv's threads, 4 images at once (`concurrent: libuv`), or 1 at a time.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../test/support/processes.js";
import type { PingLoadResult, PingLoadTask } from "../generators/ping-load.js";
import type { ThumbnailWorkResult, ThumbnailWorkTask } from "../generators/thumbnail-work.js";
import { startGenerators } from "../lib/generators.js";
import {
  type BenchContext,
  type BenchRecord,
  measureAlternately,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import { mergeEncoded, summarise } from "../lib/stats.js";
import { writeThumbnailSources } from "../lib/thumbnail-sources.js";

const inFlight = 16;
const pingRate = 200;
const idleMs = 3000;
/**
 * Time for the two processes to start (tsx), read the images and warm up before the batch
 * (which waits for the warm-up if that takes longer: the pings before it do not count).
 */
const startLeadMs = 5000;

interface System {
  system: "idle" | "pool" | "main-thread";
  threads: number;
  concurrent: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export const s9: Scenario = {
  id: "S9",
  title: "thumbnails: the pool against the main thread, and the event loop meanwhile",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    if (ctx.target.kind === "remote") {
      ctx.progress("S9 measures this machine's thumbnail pool: skipped against a remote target");
      return [];
    }
    const images = Number(process.env.S9_IMAGES || (ctx.quick ? 40 : 200));
    const dir = mkdtempSync(join(tmpdir(), "colink-s9-"));
    try {
      ctx.progress("S9 making the source images");
      const sources = await writeThumbnailSources(dir);
      for (const s of sources) {
        ctx.progress(`S9 ${s.name}: ${s.format} ${s.width}×${s.height}, ${Math.round(s.bytes / 1024)} KiB`);
      }
      const files = sources.map((s) => s.file);
      const systems: System[] = [
        { system: "idle", threads: 0, concurrent: 0 },
        { system: "pool", threads: 1, concurrent: 1 },
        ...(ctx.quick ? [] : [{ system: "pool" as const, threads: 2, concurrent: 2 }]),
        { system: "main-thread", threads: 0, concurrent: 0 },
        { system: "main-thread", threads: 0, concurrent: 1 },
      ];
      ctx.progress(
        `S9 ${images} images per run, ${inFlight} in flight, ${systems.length} systems alternately`,
      );
      return await measureAlternately(
        systems.map((s) => ({
          base: {
            scenario: "S9",
            system: s.system,
            params: {
              images: s.system === "idle" ? 0 : images,
              inFlight: s.system === "idle" ? 0 : inFlight,
              threads: s.system === "pool" ? s.threads : 0,
              concurrent: s.system === "idle" ? 0 : s.concurrent || "libuv",
            },
          },
          once: () => runOnce(s, files, images),
        })),
        ctx.repeats,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

async function runOnce(s: System, files: string[], images: number): Promise<RunOutcome> {
  const port = await freePort();
  const startAt = Date.now() + startLeadMs;
  const [work] = startGenerators<ThumbnailWorkTask, ThumbnailWorkResult>("generators/thumbnail-work.ts", [
    {
      mode: s.system,
      port,
      files,
      images,
      inFlight,
      threads: s.threads,
      concurrent: s.concurrent,
      idleMs,
      startAt,
    },
  ]);
  const [pinger] = startGenerators<PingLoadTask, PingLoadResult>("generators/ping-load.ts", [
    { url: `http://127.0.0.1:${port}/`, startAt, ratePerSec: pingRate, maxMs: 300_000 },
  ]);
  const [w, p] = await Promise.all([work!.result, pinger!.result]);
  if (p.pings === 0) throw new Error(`S9 ${s.system}: no ping was answered`);
  if (w.nulls > 0) throw new Error(`S9 ${s.system}: ${w.nulls} images had no thumbnails`);
  const ping = summarise(mergeEncoded([p.histogram]));
  return {
    metrics: {
      ...(s.system === "idle"
        ? {}
        : {
            imagesPerSec: round2((w.images / w.elapsedMs) * 1000),
            msPerImage: round2(w.elapsedMs / w.images),
            thumbKiBPerImage: round2(w.thumbnailBytes / 1024 / w.images),
          }),
      loopP50Ms: w.loopP50Ms,
      loopP99Ms: w.loopP99Ms,
      loopMaxMs: w.loopMaxMs,
      pingP50Ms: ping.p50,
      pingP99Ms: ping.p99,
      pingMaxMs: ping.max,
      pings: ping.count,
      pingErrors: p.errors,
    },
    // Read by each process itself over its window (the batch starts after a warm-up of
    // varying length, which /proc sampling from here would count).
    cpu: { subject: w.cores, generator: p.cores },
  };
}
