/**
 * S1, request and reply: `msg.send` acknowledged after commit, one connection per
 * sender, each sender in its own channel. Closed loop finds the peak acks/s for each
 * sender count; then a constant-rate schedule at 25%, 50% and 80% of the peak measures
 * ack latency (p50, p99, p999). On Postgres, and on the embedded PGlite store.
 */

import type { SendLoadResult, SendLoadTask } from "../generators/send-load.js";
import { withColink } from "../lib/colink-target.js";
import { startGenerators } from "../lib/generators.js";
import { CpuMeter, postgresPids } from "../lib/proc.js";
import { channel, runPrefix, users } from "../lib/provision.js";
import { type BenchContext, type BenchRecord, measure, type Scenario } from "../lib/scenario.js";
import { mergeEncoded, summarise } from "../lib/stats.js";

const generatorModule = "generators/send-load.ts";

export const s1: Scenario = {
  id: "S1",
  title: "Request and reply: msg.send acked after commit",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const stores = ctx.quick ? (["postgres"] as const) : (["postgres", "pglite"] as const);
    const senderCounts = ctx.quick ? [16] : [1, 4, 16, 64];
    const windowMs = ctx.quick ? 2000 : 5000;
    const records: BenchRecord[] = [];
    for (const store of stores) {
      await withColink(ctx, { store }, async (target) => {
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
            warmupMs: 500,
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
          const lat = summarise(mergeEncoded(results.map((r) => r.histogram)));
          return {
            metrics: {
              acksPerSec: Math.round((acks / elapsed) * 1000),
              errors: results.reduce((s, r) => s + r.errors, 0),
              p50: lat.p50,
              p99: lat.p99,
              p999: lat.p999,
            },
            cpu,
          };
        };
        let peak = 0;
        let peakSenders = senderCounts[0]!;
        for (const count of senderCounts) {
          ctx.progress(`S1 ${store} closed loop, ${count} senders`);
          const rec = await measure(
            {
              scenario: "S1",
              system: "colink",
              params: { store, workers: target.workers, senders: count, mode: "peak" },
            },
            ctx.repeats,
            () => run(count, "closed", 0),
          );
          records.push(rec);
          if (rec.metrics.acksPerSec! > peak) {
            peak = rec.metrics.acksPerSec!;
            peakSenders = count;
          }
        }
        for (const share of ctx.quick ? [0.5] : [0.25, 0.5, 0.8]) {
          const rate = Math.max(1, Math.round(peak * share));
          ctx.progress(
            `S1 ${store} constant rate ${rate}/s (${share * 100}% of peak), ${peakSenders} senders`,
          );
          records.push(
            await measure(
              {
                scenario: "S1",
                system: "colink",
                params: {
                  store,
                  workers: target.workers,
                  senders: peakSenders,
                  mode: `${share * 100}% of peak`,
                  offered: rate,
                },
              },
              ctx.repeats,
              () => run(peakSenders, "rate", rate),
            ),
          );
        }
      });
    }
    return records;
  },
};
