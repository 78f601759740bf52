/**
 * The Thumbnailer port over sharp (libvips) in a piscina pool of worker threads
 * (thumbnail-worker.ts does the work).
 *
 * sharp already decodes on libuv's thread pool, off the event loop, but without a bound: a
 * burst of uploads would decode as many images at once as libuv has threads (4), each one
 * with as many libvips threads as there are cores, and take every core from the event loop
 * and from the actors. Each pool thread runs one image at a time with one libvips thread
 * (set in the worker), so the pool's thread count is the cores thumbnails may take; the
 * images beyond wait in a bounded queue, and those beyond that are refused.
 *
 * libuv's pool is the process's, shared by every thread (file system, DNS, zlib, crypto):
 * each image holds one of its threads while it is made, so the default thread count leaves
 * one of them free for the main thread's file reads.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
// sharp is loaded here, on the main thread, although only the workers use it: on glibc its
// shared libraries would otherwise be unloaded when a worker exits while other threads still
// use them (lovell/sharp#2263).
import "sharp";
import type { Thumbnail, Thumbnailer } from "../../core/ports.js";

export interface ThumbnailPoolOptions {
  /** Images made at once, one core each (default: `defaultThumbnailThreads()`). */
  threads?: number;
  /** Images waiting for a thread; one more is refused (rejects) until the queue shrinks (default 32). */
  maxQueue?: number;
  /** How long a thread with no image to make stays before it exits (default 30 s). */
  idleTimeoutMs?: number;
  /** The largest image read, in bytes (default 25 MiB); a larger one has no thumbnails (null). */
  maxInputBytes?: number;
}

export const defaultMaxInputBytes = 25 * 2 ** 20;

/**
 * The thread count when none is given: the cores but one, so that a core stays with the
 * event loop and the actors, whose latency users feel (a thumbnail that comes later is not
 * noticed); at least 1; and fewer than libuv's threads, so that one of those stays free.
 */
export function defaultThumbnailThreads(): number {
  const libuvThreads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(availableParallelism() - 1, libuvThreads - 1));
}

/**
 * Opens the pool. No thread starts before the first image.
 *
 * The image's bytes move to the pool's thread rather than being copied: when `image` spans
 * its whole ArrayBuffer, that buffer is transferred and the caller's array is empty
 * (length 0) once `thumbnails` is called. An array that is a view into a larger buffer is
 * copied instead, as moving the buffer would empty the other arrays over it.
 */
export function openThumbnailPool(opts: ThumbnailPoolOptions = {}): Thumbnailer {
  const threads = opts.threads ?? defaultThumbnailThreads();
  const maxInputBytes = opts.maxInputBytes ?? defaultMaxInputBytes;
  const worker = workerModule();
  const pool = new Piscina<Uint8Array, Thumbnail[] | null>({
    filename: worker.href,
    execArgv: worker.execArgv,
    minThreads: 0,
    maxThreads: threads,
    maxQueue: opts.maxQueue ?? 32,
    idleTimeout: opts.idleTimeoutMs ?? 30_000,
    concurrentTasksPerWorker: 1,
  });
  let closed = false;
  return {
    async thumbnails(image: Uint8Array): Promise<Thumbnail[] | null> {
      if (closed) throw new Error("the thumbnail pool is closed");
      if (image.byteLength === 0 || image.byteLength > maxInputBytes) return null;
      const own = ownedCopy(image);
      return pool.run(own, { transferList: [own.buffer] });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Images waiting are refused; those being made are finished first, because ending a
      // thread while libvips works on its image can crash the process.
      await pool.close({ force: true });
    },
  };
}

/** `image` itself when it spans its whole (non-shared) buffer, else a copy that does. */
function ownedCopy(image: Uint8Array): Uint8Array<ArrayBuffer> {
  const { buffer } = image;
  if (buffer instanceof ArrayBuffer && image.byteOffset === 0 && image.byteLength === buffer.byteLength) {
    return new Uint8Array(buffer);
  }
  return image.slice();
}

/**
 * The worker module and how a thread loads it. Built, it is the .js beside this file; run
 * from source (vitest, tsx) only the .ts exists, which a thread reads with tsx's loader.
 */
function workerModule(): { href: string; execArgv?: string[] } {
  const built = new URL("./thumbnail-worker.js", import.meta.url);
  if (existsSync(built)) return { href: built.href };
  return { href: new URL("./thumbnail-worker.ts", import.meta.url).href, execArgv: ["--import", "tsx"] };
}
