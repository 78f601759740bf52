/**
 * S3, durable throughput: many channels, many senders, each sender keeping a window of
 * sends in flight, as fast as acks (after commit) allow. Measures persisted messages/s,
 * checked against the database at the end (a `count(*)` in the server's schema on
 * Postgres; the channels' `lastSeq` over the API elsewhere), and the CPU Postgres takes.
 *
 * On Postgres with W = 0, 1 and 2 worker threads, alternating in the same session with
 * the raw Postgres ceiling (bench/peers/raw-postgres.ts: 1,000-row batched INSERTs and
 * COPY into the same schema), so that Colink's share of the ceiling holds on a noisy
 * machine. Then on the embedded PGlite store, reported separately.
 */
import postgres from "postgres";
import { defaultWorkers } from "../../core/config.js";
import { localDatabaseUrl, type StoreKind } from "../../test/support/processes.js";
import type { DurableLoadResult, DurableLoadTask } from "../generators/durable-load.js";
import { type ColinkTarget, withColink } from "../lib/colink-target.js";
import { startGenerators } from "../lib/generators.js";
import { CpuMeter, cpuOverWindow, postgresPids } from "../lib/proc.js";
import { channel, runPrefix, users } from "../lib/provision.js";
import {
  type BenchContext,
  type BenchRecord,
  measure,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import { mergeEncoded, summarise } from "../lib/stats.js";
import type { RawPostgresResult, RawPostgresTask } from "../peers/raw-postgres.js";

const generatorModule = "generators/durable-load.ts";
const peerModule = "peers/raw-postgres.ts";

/** Time given to a generator process to start (tsx) and open its connections before the load. */
const startLeadMs = 1000;

/** Colink's share of the raw 1,000-row INSERT ceiling that the issue asks for. */
const targetShare = 0.5;

/** The settings of one run. */
export interface Shape {
  channels: number;
  senders: number;
  /** Sends in flight per sender. */
  window: number;
  warmupMs: number;
  durationMs: number;
  textBytes: number;
  /** Generator processes the senders are split over. */
  generators: number;
  /** Open loop at this many sends per second over all senders (S10's fixed offered rate); absent, closed loop. */
  ratePerSec?: number;
}

/** A Colink provisioned for S3: its senders and channels. */
export interface Prepared {
  target: ColinkTarget;
  store: StoreKind | "remote";
  senders: Array<{ token: string; channelIds: string[] }>;
  channelIds: string[];
  /** Persisted messages so far (a count in the database, or the channels' log positions). */
  persisted(): Promise<number>;
  close(): Promise<void>;
}

/** Runs `work` over `items`, `limit` at a time, and returns the results in order. */
async function inBatches<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    out.push(...(await Promise.all(items.slice(i, i + limit).map(work))));
  }
  return out;
}

/** Creates the senders (users) and the channels, each channel owned by the sender that posts to it. */
export async function prepare(
  ctx: BenchContext,
  target: ColinkTarget,
  store: StoreKind | "remote",
  shape: Shape,
): Promise<Prepared> {
  const prefix = runPrefix("s3");
  const senderUsers = await users(target.baseUrl, prefix, shape.senders, target.tokens);
  const owners = Array.from({ length: shape.channels }, (_, i) => senderUsers[i % shape.senders]!);
  const channelIds = await inBatches(
    owners.map((u, i) => ({ u, i })),
    25,
    ({ u, i }) => channel(target.baseUrl, u, `${prefix}${i}`),
  );
  const senders = senderUsers.map((u, s) => ({
    token: u.token,
    channelIds: channelIds.filter((_, i) => i % shape.senders === s),
  }));
  ctx.progress(`S3 ${store} W=${target.workers}: ${shape.senders} senders over ${shape.channels} channels`);

  const schema = target.schema;
  if (schema !== null) {
    const sql = postgres(localDatabaseUrl, { max: 1, onnotice: () => {} });
    return {
      target,
      store,
      senders,
      channelIds,
      async persisted() {
        const [row] = await sql.unsafe<Array<{ n: string }>>(
          `SELECT count(*)::text AS n FROM "${schema}".messages`,
        );
        return Number(row!.n);
      },
      close: () => sql.end({ timeout: 5 }),
    };
  }
  // PGlite (its database lives inside the server) or a remote target: only sends happen
  // in these channels, so the sum of their log positions counts the persisted messages.
  const token = senderUsers[0]!.token;
  return {
    target,
    store,
    senders,
    channelIds,
    async persisted() {
      const seqs = await inBatches(channelIds, 25, async (id) => {
        const res = await fetch(`${target.baseUrl}/v1/channels/${id}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (!res.ok) throw new Error(`GET channel ${id}: ${res.status}`);
        return ((await res.json()) as { channel: { lastSeq: number } }).channel.lastSeq;
      });
      return seqs.reduce((s, n) => s + n, 0);
    },
    close: async () => {},
  };
}

/**
 * One closed-loop run against a prepared Colink. `onStart` is told when the load starts
 * (epoch ms), before it does (S10 samples the server alongside).
 */
export async function runColink(
  p: Prepared,
  shape: Shape,
  onStart?: (startAt: number) => void,
): Promise<RunOutcome & { note?: string }> {
  const before = await p.persisted();
  const split = Array.from({ length: shape.generators }, (_, g) =>
    p.senders.filter((_, i) => i % shape.generators === g),
  ).filter((s) => s.length > 0);
  const startAt = Date.now() + startLeadMs;
  onStart?.(startAt);
  const tasks: DurableLoadTask[] = split.map((senders) => ({
    wsUrl: p.target.wsUrl,
    startAt,
    senders,
    window: shape.window,
    warmupMs: shape.warmupMs,
    durationMs: shape.durationMs,
    drainMs: 10_000,
    textBytes: shape.textBytes,
    ...(shape.ratePerSec === undefined ? {} : { ratePerSec: shape.ratePerSec / split.length }),
  }));
  const gens = startGenerators<DurableLoadTask, DurableLoadResult>(generatorModule, tasks);
  const meter = new CpuMeter({
    colink: () => p.target.pids(),
    generator: () => gens.map((g) => g.pid),
    postgres: () => (p.store === "postgres" ? postgresPids() : []),
  });
  const cpu = await cpuOverWindow(meter, startAt + shape.warmupMs, shape.durationMs);
  const results = await Promise.all(gens.map((g) => g.result));
  const persisted = (await p.persisted()) - before;
  const sum = (f: (r: DurableLoadResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const acks = sum((r) => r.acks);
  const elapsed = Math.max(...results.map((r) => r.elapsedMs));
  const msgsPerSec = Math.round((acks / elapsed) * 1000);
  const acked = sum((r) => r.acked);
  const lat = summarise(mergeEncoded(results.map((r) => r.histogram)));
  const busy = Object.values(cpu).reduce((s, c) => s + c, 0);
  const codes = new Map<string, number>();
  for (const r of results)
    for (const [c, n] of Object.entries(r.errorCodes)) codes.set(c, (codes.get(c) ?? 0) + n);
  return {
    metrics: {
      msgsPerSec,
      acked,
      persisted,
      // Acked but not in the database: must be 0 (acknowledged means durable).
      lost: Math.max(0, acked - persisted),
      errors: sum((r) => r.errors),
      unanswered: sum((r) => r.unanswered),
      p50: lat.p50,
      p99: lat.p99,
      colinkUsPerMsg: msgsPerSec > 0 ? Math.round(((cpu.colink ?? 0) * 1e6) / msgsPerSec) : 0,
      ...(p.store === "postgres"
        ? {
            pgUsPerMsg: msgsPerSec > 0 ? Math.round(((cpu.postgres ?? 0) * 1e6) / msgsPerSec) : 0,
            pgCpuSharePct: busy > 0 ? Math.round(((cpu.postgres ?? 0) / busy) * 100) : 0,
          }
        : {}),
    },
    cpu,
    ...(codes.size > 0 ? { note: [...codes].map(([c, n]) => `${c}×${n}`).join(", ") } : {}),
  };
}

/** One run of the raw Postgres peer. */
async function runPeer(task: RawPostgresTask): Promise<RunOutcome> {
  const gens = startGenerators<RawPostgresTask, RawPostgresResult>(peerModule, [task]);
  const meter = new CpuMeter({ generator: () => gens.map((g) => g.pid), postgres: postgresPids });
  const cpu = await cpuOverWindow(meter, task.startAt + task.warmupMs, task.durationMs);
  const [r] = await Promise.all(gens.map((g) => g.result));
  const rowsPerSec = Math.round((r!.rows / r!.elapsedMs) * 1000);
  const busy = Object.values(cpu).reduce((s, c) => s + c, 0);
  return {
    metrics: {
      msgsPerSec: rowsPerSec,
      batchMs: r!.batchMs,
      committed: r!.committed,
      persisted: r!.persisted,
      lost: Math.max(0, r!.committed - r!.persisted),
      pgUsPerMsg: rowsPerSec > 0 ? Math.round(((cpu.postgres ?? 0) * 1e6) / rowsPerSec) : 0,
      pgCpuSharePct: busy > 0 ? Math.round(((cpu.postgres ?? 0) / busy) * 100) : 0,
    },
    cpu,
  };
}

/** Runs `fn` with one Colink per config, all started (one at a time loaded), then stopped. */
async function withColinks<T>(
  ctx: BenchContext,
  configs: Array<{ store: StoreKind; workers: number }>,
  fn: (targets: ColinkTarget[]) => Promise<T>,
): Promise<T> {
  const [first, ...rest] = configs;
  if (!first) return fn([]);
  return withColink(ctx, first, (t) => withColinks(ctx, rest, (ts) => fn([t, ...ts])));
}

/** A record of the medians of outcomes already measured. */
async function recordOf(
  base: Omit<BenchRecord, "metrics" | "runs" | "cpu" | "flags">,
  outcomes: Array<RunOutcome & { note?: string }>,
): Promise<BenchRecord> {
  let i = 0;
  const rec = await measure(base, outcomes.length, async () => outcomes[i++]!);
  const lost = outcomes.reduce((s, o) => s + (o.metrics.lost ?? 0), 0);
  if (lost > 0) rec.flags.push(`${lost} acked messages not found in the database`);
  const notes = outcomes.flatMap((o) => (o.note ? [o.note] : []));
  if (notes.length > 0) rec.flags.push(`errors: ${notes.join("; ")}`);
  return rec;
}

export const s3: Scenario = {
  id: "S3",
  title: "Durable throughput: many channels and senders, acked after commit",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const records: BenchRecord[] = [];
    const base: Omit<Shape, "channels" | "senders"> = {
      window: 16,
      warmupMs: ctx.quick ? 500 : 1000,
      durationMs: ctx.quick ? 1500 : 5000,
      textBytes: 64,
      generators: 1,
    };
    const shapes: Shape[] = (ctx.quick ? [200] : [100, 1000]).map((channels) => ({
      ...base,
      channels,
      senders: Math.min(channels, 100),
    }));
    const params = (shape: Shape) => ({
      channels: shape.channels,
      senders: shape.senders,
      inFlight: shape.senders * shape.window,
    });

    if (ctx.target.kind === "remote") {
      for (const shape of shapes) {
        await withColink(ctx, { store: "postgres" }, async (target) => {
          const p = await prepare(ctx, target, "remote", shape);
          const outcomes = [];
          for (let r = 0; r < ctx.repeats; r++) outcomes.push(await runColink(p, shape));
          records.push(
            await recordOf(
              { scenario: "S3", system: "colink", params: { store: "remote", ...params(shape) } },
              outcomes,
            ),
          );
        });
      }
      return records;
    }

    // Postgres: every W and the raw peer, alternating round by round.
    // The quick suite runs the server's own default (unless COLINK_WORKERS says otherwise):
    // that is the configuration the target is about.
    const quickWorkers = Number(process.env.COLINK_WORKERS || defaultWorkers(true));
    const pgWorkers = ctx.quick ? [quickWorkers] : [0, 1, 2];
    const peerModes: Array<{ mode: RawPostgresTask["mode"]; label: string }> = ctx.quick
      ? [{ mode: "insert", label: "INSERT, 1,000-row batches" }]
      : [
          { mode: "insert", label: "INSERT, 1,000-row batches" },
          { mode: "copy", label: "COPY, 1,000-row batches" },
          { mode: "jsonb", label: "jsonb_to_recordset, 1,000-row batches" },
        ];
    const peerConnections = 2;
    for (const shape of shapes) {
      await withColinks(
        ctx,
        pgWorkers.map((workers) => ({ store: "postgres" as const, workers })),
        async (targets) => {
          const prepared: Prepared[] = [];
          for (const t of targets) prepared.push(await prepare(ctx, t, "postgres", shape));
          const colinkRuns = prepared.map(() => [] as Array<RunOutcome & { note?: string }>);
          const peerRuns = peerModes.map(() => [] as RunOutcome[]);
          try {
            for (let r = 0; r < ctx.repeats; r++) {
              for (const [i, p] of prepared.entries()) {
                ctx.progress(
                  `S3 postgres W=${p.target.workers}, ${shape.channels} channels (run ${r + 1}/${ctx.repeats})`,
                );
                colinkRuns[i]!.push(await runColink(p, shape));
              }
              for (const [i, m] of peerModes.entries()) {
                ctx.progress(`S3 raw Postgres ${m.label}, ${shape.channels} channels`);
                peerRuns[i]!.push(
                  await runPeer({
                    url: localDatabaseUrl,
                    startAt: Date.now() + startLeadMs + 500, // and run the migrations
                    mode: m.mode,
                    batchRows: 1000,
                    connections: peerConnections,
                    channels: shape.channels,
                    warmupMs: shape.warmupMs,
                    durationMs: shape.durationMs,
                    textBytes: shape.textBytes,
                  }),
                );
              }
              // Colink's share of this round's INSERT ceiling (the pair ran back to back).
              const ceiling = peerRuns[0]![r]!.metrics.msgsPerSec!;
              for (const runs of colinkRuns) {
                const m = runs[r]!.metrics;
                m.ofInsertCeilingPct = ceiling > 0 ? Math.round((m.msgsPerSec! / ceiling) * 1000) / 10 : 0;
              }
            }
          } finally {
            for (const p of prepared) await p.close();
          }
          for (const [i, p] of prepared.entries()) {
            const rec = await recordOf(
              {
                scenario: "S3",
                system: "colink",
                params: { store: "postgres", workers: p.target.workers, ...params(shape) },
              },
              colinkRuns[i]!,
            );
            if ((rec.metrics.ofInsertCeilingPct ?? 0) < targetShare * 100) {
              rec.flags.push(
                `${rec.metrics.ofInsertCeilingPct}% of the raw 1,000-row INSERT ceiling (target ≥ ${targetShare * 100}%)`,
              );
            }
            records.push(rec);
          }
          for (const [i, m] of peerModes.entries()) {
            records.push(
              await recordOf(
                {
                  scenario: "S3",
                  system: "postgres-raw",
                  params: {
                    store: "postgres",
                    mode: m.label,
                    connections: peerConnections,
                    channels: shape.channels,
                  },
                },
                peerRuns[i]!,
              ),
            );
          }
        },
      );
    }

    // The embedded PGlite store, reported separately (no peer: the ceiling is Postgres's).
    const pgliteWorkers = ctx.quick ? [] : [0, 1];
    const pgliteShape = shapes[shapes.length - 1]!;
    for (const workers of pgliteWorkers) {
      await withColink(ctx, { store: "pglite", workers }, async (target) => {
        const p = await prepare(ctx, target, "pglite", pgliteShape);
        const outcomes = [];
        for (let r = 0; r < ctx.repeats; r++) {
          ctx.progress(
            `S3 pglite W=${workers}, ${pgliteShape.channels} channels (run ${r + 1}/${ctx.repeats})`,
          );
          outcomes.push(await runColink(p, pgliteShape));
        }
        records.push(
          await recordOf(
            {
              scenario: "S3",
              system: "colink",
              params: { store: "pglite", workers: target.workers, ...params(pgliteShape) },
            },
            outcomes,
          ),
        );
      });
    }
    return records;
  },
};
