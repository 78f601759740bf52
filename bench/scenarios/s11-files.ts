/**
 * S11, files (issue 21; runs only when named: `--only S11`): uploads through the local-disk
 * blob store, the server's memory during a 1 GiB upload, and virus scans through clamd. On
 * the built server (dist/), Postgres, with the server's default W for Postgres (2; or
 * `COLINK_WORKERS`), its files on local disk in its own temp data dir (removed after).
 * Every upload is made as a client makes it, by a generator in its own process
 * (bench/generators/file-load.ts): `file.begin` over the WebSocket → `PUT` of the bytes to
 * the signed URL, streamed, the bytes made on the fly (bench/lib/file-bytes.ts) →
 * `file.complete`.
 *
 * - `upload-small`: clients in closed loops (each its own user and channel), 64 KiB files:
 *   uploads/s completed in a window after a warm-up, begin → complete latency.
 * - `upload-large`: 16 MiB files, 4 in flight: MB/s (MB = 10⁶ bytes) from the first begin
 *   to the last complete. Alternately, round by round, `disk`: the same files written by
 *   the generator straight to a temp dir on the same disk the way the adapter writes an
 *   upload (a temp file with `flush`, then renamed), without HTTP: the disk's ceiling.
 * - `upload-1gib`: one upload of about 1 GB (950 MiB, the local disk's largest size under
 *   10^9 bytes; `S11_HUGE_MIB`) (`COLINK_MAX_FILE_BYTES` raised for it), while the
 *   server's VmRSS (/proc/<pid>/status) is read every 100 ms; baseline = the median of 1 s
 *   of samples just before, and VmHWM before and after. Then the file is downloaded
 *   (`file.get`, GET of its URL): size and SHA-256 (hashed on the fly on both sides) must
 *   match, with the RSS sampled the same way.
 * - `scan`: a second server with `CLAMAV_URL` on a clamd of its own (test/support/clamav.ts:
 *   only the project's test signature, so a scan costs clamd's spooling, type detection and
 *   hashing, not a real signature database's matching). A batch of files is begun and PUT
 *   (not completed), then every `file.complete` sent at once; timed until every file's
 *   verdict came (`file.updated` on the uploader's personal topic, `file.get` as a
 *   fallback). Each actor thread's FileScanner claims at most 4 pending files per poll and
 *   polls once a second (a poll still running skips the next tick), so the server scans at
 *   most 4 × threads files/s: `boundFilesPerSec`. Alternately, round by round, the same
 *   bytes straight to clamd (`clamd-direct`, the server's scanner adapter from the
 *   generator, as many at once as the server has scanning threads): what clamd itself
 *   takes. `--full` also runs W = 1.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultWorkers } from "../../core/config.js";
import { startClamd, type TestClamd } from "../../test/support/clamav.js";
import type {
  BatchResult,
  CompleteAllResult,
  DirectScanResult,
  DownloadResult,
  HugeResult,
  SmallResult,
} from "../generators/file-load.js";
import { type ColinkTarget, withColink } from "../lib/colink-target.js";
import { GenSession } from "../lib/gen-session.js";
import { CpuMeter, rssBytes } from "../lib/proc.js";
import { channel, runPrefix, users } from "../lib/provision.js";
import {
  type BenchContext,
  type BenchRecord,
  measure,
  measureAlternately,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import { median, mergeEncoded, summarise } from "../lib/stats.js";

const KiB = 1024;
const MiB = 1024 * KiB;
/** Files one FileScanner claims per poll, and its poll interval (actors/runtime/file-scanner.ts). */
const filesPerPoll = 4;
const scanPollMs = 1000;
const rssEveryMs = 100;
/**
 * The largest Content-Length the server's HTTP parser takes (uWS v20.30 reads at most 9
 * digits; a PUT announcing 1,000,000,000 bytes or more gets its connection reset before a
 * byte is stored: found by this scenario). A larger upload is sent chunked, which it takes.
 */
const uwsMaxContentLength = 999_999_999;

interface Shape {
  small: { clients: number; bytes: number; warmupMs: number; durationMs: number };
  large: { files: number; inFlight: number; bytes: number };
  huge: { bytes: number; repeats: number };
  scan: { workers: number[]; batches: Array<{ files: number; bytes: number }> };
}

function shapeOf(ctx: BenchContext, workers: number): Shape {
  // 950 MiB by default: uploads to local disk are at most 999,999,999 bytes (uWS reads 9
  // digits of a Content-Length; core/config.ts refuses a larger COLINK_MAX_FILE_BYTES).
  const hugeBytes = Number(process.env.S11_HUGE_MIB || 950) * MiB;
  return ctx.quick
    ? {
        small: { clients: 16, bytes: 64 * KiB, warmupMs: 1000, durationMs: 4000 },
        large: { files: 8, inFlight: 4, bytes: 16 * MiB },
        huge: { bytes: hugeBytes, repeats: 1 },
        scan: {
          workers: [workers],
          batches: [
            { files: 40, bytes: 256 * KiB },
            { files: 4, bytes: 16 * MiB },
          ],
        },
      }
    : {
        small: { clients: 32, bytes: 64 * KiB, warmupMs: 2000, durationMs: 10_000 },
        large: { files: 32, inFlight: 4, bytes: 16 * MiB },
        huge: { bytes: hugeBytes, repeats: ctx.repeats },
        scan: {
          workers: [...new Set([1, workers])],
          batches: [
            { files: 200, bytes: 256 * KiB },
            { files: 10, bytes: 16 * MiB },
          ],
        },
      };
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const mib = (bytes: number) => round2(bytes / MiB);
/** MB/s, MB = 10⁶ bytes. */
const mbps = (bytes: number, ms: number) => round2(bytes / 1e6 / (ms / 1000));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process's peak resident memory so far (VmHWM), in bytes (0 if it is gone). */
function hwmBytes(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** This process's children named `comm` (the clamd it started), from /proc. */
function childrenNamed(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (name === comm && ppid === process.pid) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Reads a process's VmRSS every 100 ms until stopped. */
class RssSampler {
  private readonly samples: number[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.samples.push(rssBytes(pid));
    this.timer = setInterval(() => this.samples.push(rssBytes(this.pid)), rssEveryMs);
  }

  stop(): number[] {
    clearInterval(this.timer);
    this.samples.push(rssBytes(this.pid));
    return this.samples.filter((s) => s > 0);
  }
}

/** The median of `ms` of RSS samples. */
async function rssBaseline(pid: number, ms: number): Promise<number> {
  const sampler = new RssSampler(pid);
  await sleep(ms);
  return median(sampler.stop());
}

/** Signs up `count` users, each with a public channel of their own, and connects the generator as them. */
async function connectUsers(
  target: ColinkTarget,
  gen: GenSession,
  tag: string,
  count: number,
): Promise<void> {
  const prefix = runPrefix(tag);
  const people = await users(target.baseUrl, prefix, count, target.tokens);
  const channels = await Promise.all(people.map((u, i) => channel(target.baseUrl, u, `${prefix}${i}`)));
  await gen.call({
    kind: "connect",
    wsUrl: target.wsUrl,
    baseUrl: target.baseUrl,
    tokens: people.map((u) => u.token),
    channels,
  });
}

export const s11: Scenario = {
  id: "S11",
  title: "files: uploads through the local disk, the RSS of a 1 GiB upload, scans through clamd",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    if (ctx.target.kind === "remote") {
      ctx.progress(
        "S11 reads the server's memory from /proc and starts clamd: skipped against a remote target",
      );
      return [];
    }
    const workers = Number(process.env.COLINK_WORKERS || defaultWorkers(true));
    const shape = shapeOf(ctx, workers);
    const records: BenchRecord[] = [];
    records.push(...(await uploads(ctx, shape, workers)));
    const clamd = await startClamd();
    try {
      for (const w of shape.scan.workers) records.push(...(await scans(ctx, shape, w, clamd)));
    } finally {
      await clamd.cleanup();
    }
    return records;
  },
};

/** `upload-1gib`, `upload-small` and `upload-large`, on one server without a scanner. */
async function uploads(ctx: BenchContext, shape: Shape, workers: number): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const env = { COLINK_MAX_FILE_BYTES: String(Math.min(shape.huge.bytes + MiB, 999_999_999)) };
  await withColink(ctx, { store: "postgres", workers, env }, async (target) => {
    const pid = target.pids()[0]!;
    const gen = await GenSession.start("s11-uploads", "generators/file-load.ts");
    try {
      await connectUsers(target, gen, "s11u", shape.small.clients);
      const meter = new CpuMeter({ server: target.pids, generator: () => [gen.pid] });
      const base = { scenario: "S11", system: "colink" };
      const store = { store: "postgres", workers };
      let seed = 1;
      // Warm-up: the upload path's code, and the server's memory after it, before the 1 GiB.
      ctx.progress("S11 uploads: warm-up");
      await gen.call({
        kind: "small",
        clients: 4,
        bytes: shape.small.bytes,
        warmupMs: 0,
        durationMs: 1000,
        seedBase: 1e6,
      });

      const chunked = shape.huge.bytes > uwsMaxContentLength;
      ctx.progress(
        `S11 one ${mib(shape.huge.bytes)} MiB upload${chunked ? " (chunked)" : ""}, then its download, ` +
          `RSS every ${rssEveryMs} ms`,
      );
      records.push(
        await measure(
          {
            ...base,
            params: {
              phase: "upload-1gib",
              ...store,
              fileMiB: mib(shape.huge.bytes),
              transfer: chunked ? "chunked" : "content-length",
            },
          },
          shape.huge.repeats,
          async () => {
            const baseline = await rssBaseline(pid, 1000);
            const hwmBefore = hwmBytes(pid);
            const up = new RssSampler(pid);
            meter.begin();
            const u = await gen.call<HugeResult>(
              { kind: "huge", bytes: shape.huge.bytes, seed: seed++, chunkBytes: 64 * KiB, chunked },
              900_000,
            );
            const upCpu = meter.end();
            const upSamples = up.stop();
            const hwmAfter = hwmBytes(pid);
            const down = new RssSampler(pid);
            meter.begin();
            const d = await gen.call<DownloadResult>({ kind: "download", fileId: u.fileId }, 900_000);
            const downCpu = meter.end();
            const downSamples = down.stop();
            const sizeOk =
              d.status === 200 && d.bytes === shape.huge.bytes && d.declared === shape.huge.bytes;
            const hashOk = d.sha256 === u.sha256;
            if (!sizeOk || !hashOk) {
              throw new Error(
                `S11: the download does not match the upload: status ${d.status}, ${d.bytes} bytes ` +
                  `(declared ${d.declared}) of ${shape.huge.bytes}, sha256 ${d.sha256} vs ${u.sha256}`,
              );
            }
            const peakUp = Math.max(...upSamples);
            const peakDown = Math.max(...downSamples);
            return {
              metrics: {
                putMs: Math.round(u.putMs),
                putMBps: mbps(shape.huge.bytes, u.putMs),
                completeMs: round2(u.completeMs),
                rssBaselineMiB: mib(baseline),
                rssPeakMiB: mib(peakUp),
                rssPeakDeltaMiB: mib(peakUp - baseline),
                rssEndDeltaMiB: mib(upSamples.at(-1)! - baseline),
                hwmRiseMiB: mib(Math.max(0, hwmAfter - hwmBefore)),
                rssSamples: upSamples.length,
                downloadMs: Math.round(d.getMs + d.transferMs),
                downloadMBps: mbps(d.bytes, d.transferMs),
                downloadRssPeakDeltaMiB: mib(peakDown - baseline),
                sizeOk: 1,
                hashOk: 1,
              },
              cpu: {
                server: upCpu.server ?? 0,
                generator: upCpu.generator ?? 0,
                "server download": downCpu.server ?? 0,
                "generator download": downCpu.generator ?? 0,
              },
            };
          },
        ),
      );

      const s = shape.small;
      ctx.progress(
        `S11 ${s.clients} clients uploading ${s.bytes / KiB} KiB files, ${s.durationMs / 1000} s windows`,
      );
      records.push(
        await measure(
          {
            ...base,
            params: { phase: "upload-small", ...store, clients: s.clients, fileKiB: s.bytes / KiB },
          },
          ctx.repeats,
          async () => {
            const sampler = new RssSampler(pid);
            const baseline = rssBytes(pid);
            meter.begin();
            const r = await gen.call<SmallResult>(
              { kind: "small", ...s, seedBase: seed * 1e6 },
              s.warmupMs + s.durationMs + 120_000,
            );
            const cpu = meter.end();
            seed++;
            const samples = sampler.stop();
            if (r.uploads === 0) throw new Error(`S11: no upload finished: ${r.firstError}`);
            const lat = summarise(mergeEncoded([r.histogram]));
            const perSec = r.uploads / (r.windowMs / 1000);
            return {
              metrics: {
                uploadsPerSec: round2(perSec),
                MBps: round2((perSec * s.bytes) / 1e6),
                p50Ms: lat.p50,
                p99Ms: lat.p99,
                beginMeanMs: r.beginMs,
                putMeanMs: r.putMs,
                completeMeanMs: r.completeMs,
                errors: r.errors,
                rssPeakDeltaMiB: mib(Math.max(...samples) - baseline),
              },
              cpu,
            };
          },
        ),
      );

      const l = shape.large;
      ctx.progress(
        `S11 ${l.files} uploads of ${l.bytes / MiB} MiB, ${l.inFlight} in flight, and the same files ` +
          "straight to disk, alternately",
      );
      const largeParams = {
        phase: "upload-large",
        ...store,
        files: l.files,
        inFlight: l.inFlight,
        fileMiB: l.bytes / MiB,
      };
      const batchMetrics = (r: BatchResult): Record<string, number> => ({
        MBps: mbps(r.bytes, r.elapsedMs),
        filesPerSec: round2(r.files / (r.elapsedMs / 1000)),
        perFileP50Ms: Math.round(median(r.perFileMs)),
        perFileMaxMs: Math.round(Math.max(...r.perFileMs)),
      });
      records.push(
        ...(await measureAlternately(
          [
            {
              base: { ...base, params: largeParams },
              once: async (): Promise<RunOutcome> => {
                const sampler = new RssSampler(pid);
                const baseline = rssBytes(pid);
                meter.begin();
                const r = await gen.call<BatchResult>(
                  { kind: "batch", ...l, seedBase: seed++ * 1e6 },
                  600_000,
                );
                const cpu = meter.end();
                const samples = sampler.stop();
                return {
                  metrics: { ...batchMetrics(r), rssPeakDeltaMiB: mib(Math.max(...samples) - baseline) },
                  cpu,
                };
              },
            },
            {
              // The disk's ceiling: the adapter's own way of writing, from the generator, no HTTP.
              base: { scenario: "S11", system: "disk", params: largeParams },
              once: async (): Promise<RunOutcome> => {
                const dir = mkdtempSync(join(tmpdir(), "colink-s11-disk-"));
                try {
                  meter.begin();
                  const r = await gen.call<BatchResult>(
                    { kind: "diskWrite", dir, ...l, seedBase: seed++ * 1e6 },
                    600_000,
                  );
                  const cpu = meter.end();
                  // The writer is the system measured here, not a load generator.
                  return { metrics: batchMetrics(r), cpu: { writer: cpu.generator ?? 0 } };
                } finally {
                  rmSync(dir, { recursive: true, force: true });
                }
              },
            },
          ],
          ctx.repeats,
        )),
      );
    } finally {
      await gen.stop();
    }
  });
  return records;
}

/** `scan` on a server with W = `workers` and CLAMAV_URL, alternately with `clamd-direct`. */
async function scans(
  ctx: BenchContext,
  shape: Shape,
  workers: number,
  clamd: TestClamd,
): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const scanners = Math.max(1, workers);
  const env = { CLAMAV_URL: `tcp://${clamd.host}:${clamd.port}` };
  await withColink(ctx, { store: "postgres", workers, env }, async (target) => {
    const gen = await GenSession.start("s11-scans", "generators/file-load.ts");
    try {
      await connectUsers(target, gen, "s11s", 8);
      const clamdPids = () => childrenNamed("clamd");
      const meter = new CpuMeter({ server: target.pids, generator: () => [gen.pid], clamd: clamdPids });
      // Seeds of their own per W: clamd could remember a verdict of the same bytes.
      let seed = 1 + workers * 1000;
      ctx.progress(`S11 scans, W=${workers}: warm-up`);
      await gen.call({ kind: "stage", files: 2, bytes: 64 * KiB, inFlight: 2, seedBase: 9e8 });
      await gen.call<CompleteAllResult>({ kind: "completeAll", timeoutMs: 60_000 });
      for (const b of shape.scan.batches) {
        const size: Record<string, number> =
          b.bytes >= MiB ? { fileMiB: b.bytes / MiB } : { fileKiB: b.bytes / KiB };
        const params = { phase: "scan", store: "postgres", workers, scanners, files: b.files, ...size };
        ctx.progress(
          `S11 scans, W=${workers}: ${b.files} × ${b.bytes >= MiB ? `${b.bytes / MiB} MiB` : `${b.bytes / KiB} KiB`}, ` +
            "completed at once, and straight to clamd, alternately",
        );
        records.push(
          ...(await measureAlternately(
            [
              {
                base: { scenario: "S11", system: "colink+clamd", params },
                once: async (): Promise<RunOutcome> => {
                  await gen.call({ kind: "stage", ...b, inFlight: 8, seedBase: seed++ * 1e6 }, 600_000);
                  meter.begin();
                  const r = await gen.call<CompleteAllResult>(
                    { kind: "completeAll", timeoutMs: 120_000 + b.files * 2000 },
                    900_000,
                  );
                  const cpu = meter.end();
                  return { metrics: scanMetrics(r, b.bytes, scanners), cpu };
                },
              },
              {
                base: {
                  scenario: "S11",
                  system: "clamd-direct",
                  params: { ...params, concurrency: scanners },
                },
                once: async (): Promise<RunOutcome> => {
                  meter.begin();
                  const r = await gen.call<DirectScanResult>(
                    {
                      kind: "directScan",
                      host: clamd.host,
                      port: clamd.port,
                      ...b,
                      concurrency: scanners,
                      seedBase: seed++ * 1e6,
                    },
                    900_000,
                  );
                  const cpu = meter.end();
                  if (r.errors > 0) throw new Error(`S11: ${r.errors} direct scans failed: ${r.firstError}`);
                  return {
                    metrics: {
                      allVerdictMs: Math.round(r.elapsedMs),
                      filesPerSec: round2(r.files / (r.elapsedMs / 1000)),
                      MBps: mbps(r.files * b.bytes, r.elapsedMs),
                      notClean: r.infected,
                    },
                    cpu: { generator: cpu.generator ?? 0, clamd: cpu.clamd ?? 0 },
                  };
                },
              },
            ],
            ctx.repeats,
          )),
        );
      }
    } finally {
      await gen.stop();
    }
  });
  return records;
}

/** The figures of one batch completed at once. */
function scanMetrics(r: CompleteAllResult, bytes: number, scanners: number): Record<string, number> {
  const first = r.verdictMs[0]!;
  const last = r.verdictMs.at(-1)!;
  // The most verdicts in one second, the seconds counted from just before the first verdict
  // (a poll's scans come in a burst right after its tick; the ticks are a second apart).
  const perSecond = new Map<number, number>();
  for (const t of r.verdictMs) {
    const bin = Math.floor((t - first + 100) / 1000);
    perSecond.set(bin, (perSecond.get(bin) ?? 0) + 1);
  }
  return {
    completeAckMs: Math.round(r.completeAckMs),
    firstVerdictMs: Math.round(first),
    allVerdictMs: Math.round(last),
    filesPerSec: round2(r.files / (last / 1000)),
    MBps: mbps(r.files * bytes, last),
    maxInOneSecond: Math.max(...perSecond.values()),
    boundFilesPerSec: (filesPerPoll * scanners * 1000) / scanPollMs,
    notClean: r.files - (r.statuses.clean ?? 0),
    foundByPoll: r.foundByPoll,
  };
}
