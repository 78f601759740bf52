/**
 * S1, request and reply: `msg.send` acknowledged after commit, one connection per
 * sender, each sender in its own channel. Closed loop finds the peak acks/s for each
 * sender count; then a constant-rate schedule at 25%, 50% and 80% of the peak measures
 * ack latency (p50, p99, p999). On Postgres, and on the embedded PGlite store, each at
 * two worker counts in the full suite (Postgres W = 0 and 2, PGlite W = 0 and 1, the
 * most it allows), so that the default W is chosen on latency as well as on S3's
 * throughput.
 *
 * On a local Postgres every point also runs the durable-ack floor
 * (bench/peers/raw-postgres-acks.ts: one message committed per request straight from
 * Node, same schema, same schedule), alternately with Colink, so that the report can tell
 * Colink's latency from what one commit costs on this machine.
 */

import { localDatabaseUrl, type StoreKind } from "../../test/support/processes.js";
import type { SendLoadResult, SendLoadTask } from "../generators/send-load.js";
import { defaultBenchWorkers, withColink } from "../lib/colink-target.js";
import { startGenerators } from "../lib/generators.js";
import { CpuMeter, cpuOverWindow, postgresPids } from "../lib/proc.js";
import { channel, runPrefix, users } from "../lib/provision.js";
import {
  type BenchContext,
  type BenchRecord,
  measureAlternately,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import { mergeEncoded, summarise } from "../lib/stats.js";
import type { RawAckResult, RawAckTask } from "../peers/raw-postgres-acks.js";

const generatorModule = "generators/send-load.ts";
const floorModule = "peers/raw-postgres-acks.ts";

/** Latency metrics of a run from its generators' histograms. */
function latencyOf(histograms: string[]): { p50: number; p99: number; p999: number } {
  const lat = summarise(mergeEncoded(histograms));
  return { p50: lat.p50, p99: lat.p99, p999: lat.p999 };
}

/** One run of the durable-ack floor: `senders` connections, closed loop or `ratePerSec`. */
async function runFloor(
  senders: number,
  mode: "closed" | "rate",
  ratePerSec: number,
  warmupMs: number,
  windowMs: number,
): Promise<RunOutcome> {
  const task: RawAckTask = {
    url: localDatabaseUrl,
    // Time to start the process (tsx), create the schema and open the connections.
    startAt: Date.now() + 2000,
    senders,
    mode,
    ratePerSec,
    warmupMs,
    durationMs: windowMs,
    textBytes: 64,
  };
  const gens = startGenerators<RawAckTask, RawAckResult>(floorModule, [task]);
  const meter = new CpuMeter({ generator: () => gens.map((g) => g.pid), postgres: postgresPids });
  // The window's last 250 ms are left out: the floor closes its connections as soon as
  // the load ends, and a backend gone before the meter reads it counts nothing.
  const cpu = await cpuOverWindow(meter, task.startAt + task.warmupMs, windowMs - 250);
  const [r] = await Promise.all(gens.map((g) => g.result));
  return {
    metrics: {
      acksPerSec: Math.round((r!.acks / r!.elapsedMs) * 1000),
      errors: r!.errors,
      lost: r!.committed - r!.persisted,
      ...latencyOf([r!.histogram]),
    },
    cpu,
  };
}

/** Adds the floor's latency, and Colink's above it, to Colink's outcome of a round. */
function compareToFloor([colink, floor]: RunOutcome[]): void {
  if (!colink || !floor) return;
  const c = colink.metrics;
  const f = floor.metrics;
  c.floorP50 = f.p50!;
  c.floorP99 = f.p99!;
  c.p99OverFloor = Math.round((c.p99! - f.p99!) * 100) / 100;
}

export const s1: Scenario = {
  id: "S1",
  title: "Request and reply: msg.send acked after commit",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    // A remote target is whatever its deployment runs: one pass.
    const configs: Array<{ store: StoreKind; workers: number }> =
      ctx.quick || ctx.target.kind === "remote"
        ? [{ store: "postgres", workers: defaultBenchWorkers }]
        : [
            { store: "postgres", workers: 0 },
            { store: "postgres", workers: 2 },
            { store: "pglite", workers: 0 },
            { store: "pglite", workers: 1 },
          ];
    const senderCounts = ctx.quick ? [16] : [1, 4, 16, 64];
    // The quick suite has 3 minutes for every scenario: shorter windows here.
    const windowMs = ctx.quick ? 1500 : 5000;
    const warmupMs = ctx.quick ? 300 : 500;
    const records: BenchRecord[] = [];
    for (const [i, { store, workers }] of configs.entries()) {
      await withColink(ctx, { store, workers }, async (target) => {
        const prefix = runPrefix("s1");
        const all = await users(target.baseUrl, prefix, Math.max(...senderCounts), target.tokens);
        const senders = await Promise.all(
          all.map(async (u, i) => ({
            token: u.token,
            channelId: await channel(target.baseUrl, u, `${prefix}${i}`),
          })),
        );
        const run = async (count: number, mode: "closed" | "rate", ratePerSec: number) => {
          const task: SendLoadTask = {
            wsUrl: target.wsUrl,
            senders: senders.slice(0, count),
            mode,
            ratePerSec,
            warmupMs,
            durationMs: windowMs,
            textBytes: 64,
          };
          const gens = startGenerators<SendLoadTask, SendLoadResult>(generatorModule, [task]);
          const meter = new CpuMeter({
            colink: () => target.pids(),
            generator: () => gens.map((g) => g.pid),
            postgres: () => (store === "postgres" ? postgresPids() : []),
          });
          await new Promise((r) => setTimeout(r, 400));
          meter.begin();
          const results = await Promise.all(gens.map((g) => g.result));
          const cpu = meter.end();
          const acks = results.reduce((s, r) => s + r.acks, 0);
          const elapsed = Math.max(...results.map((r) => r.elapsedMs));
          return {
            metrics: {
              acksPerSec: Math.round((acks / elapsed) * 1000),
              errors: results.reduce((s, r) => s + r.errors, 0),
              ...latencyOf(results.map((r) => r.histogram)),
            },
            cpu,
          };
        };
        // The floor needs the database itself: only with a local Postgres, and once (it has
        // no W).
        const withFloor = i === 0 && store === "postgres" && ctx.target.kind === "local";
        /** Colink's point, and the floor's with the same senders and schedule, alternately. */
        const point = async (
          params: Record<string, string | number>,
          count: number,
          mode: "closed" | "rate",
          rate: number,
          floor = withFloor,
        ): Promise<BenchRecord[]> =>
          measureAlternately(
            [
              {
                base: {
                  scenario: "S1",
                  system: "colink",
                  params: { store, workers: target.workers, ...params },
                },
                once: () => run(count, mode, rate),
              },
              ...(floor
                ? [
                    {
                      base: { scenario: "S1", system: "postgres-raw", params: { store, ...params } },
                      once: () => runFloor(count, mode, rate, warmupMs, windowMs),
                    },
                  ]
                : []),
            ],
            ctx.repeats,
            compareToFloor,
          );
        let peak = 0;
        let peakSenders = senderCounts[0]!;
        for (const count of senderCounts) {
          ctx.progress(`S1 ${store} W=${target.workers} closed loop, ${count} senders`);
          // The quick suite compares with the floor at the fixed rate only (its time budget).
          const [rec, ...floor] = await point(
            { senders: count, mode: "peak" },
            count,
            "closed",
            0,
            withFloor && !ctx.quick,
          );
          records.push(rec!, ...floor);
          if (rec!.metrics.acksPerSec! > peak) {
            peak = rec!.metrics.acksPerSec!;
            peakSenders = count;
          }
        }
        for (const share of ctx.quick ? [0.5] : [0.25, 0.5, 0.8]) {
          const rate = Math.max(1, Math.round(peak * share));
          ctx.progress(
            `S1 ${store} W=${target.workers} constant rate ${rate}/s (${share * 100}% of peak), ${peakSenders} senders`,
          );
          records.push(
            ...(await point(
              { senders: peakSenders, mode: `${share * 100}% of peak`, offered: rate },
              peakSenders,
              "rate",
              rate,
            )),
          );
        }
      });
    }
    return records;
  },
};
