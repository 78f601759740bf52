/**
 * S5, HTTP: the JSON API under autocannon. History, `GET /v1/channels/{id}/messages?limit=50`
 * on a channel pre-filled with a few hundred messages, and send, `POST
 * /v1/channels/{id}/messages` (no Idempotency-Key: the server makes a fresh clientMsgId per
 * request, so every POST is a new message, acked after commit). Closed loop finds the peak
 * requests/s; the full suite then measures latency at 25%, 50% and 80% of it on a fixed
 * schedule (autocannon's overallRate, corrected for coordinated omission). On Postgres.
 */
import type { HttpLoadResult, HttpLoadTask } from "../generators/http-load.js";
import { withColink } from "../lib/colink-target.js";
import { startGenerators } from "../lib/generators.js";
import { CpuMeter, postgresPids } from "../lib/proc.js";
import { channel, runPrefix, users } from "../lib/provision.js";
import {
  type BenchContext,
  type BenchRecord,
  measure,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import { mergeEncoded, summarise } from "../lib/stats.js";

const generatorModule = "generators/http-load.ts";

/** Messages in the history channel before the GETs. */
const prefill = 300;

const sleepUntil = (epochMs: number) => new Promise((r) => setTimeout(r, Math.max(0, epochMs - Date.now())));

export const s5: Scenario = {
  id: "S5",
  title: "HTTP: history GET and send POST, with autocannon",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const warmupSec = ctx.quick ? 0.5 : 1;
    const durationSec = ctx.quick ? 1 : 4;
    const connections = 32;
    const records: BenchRecord[] = [];
    await withColink(ctx, { store: "postgres" }, async (target) => {
      const prefix = runPrefix("s5");
      const [owner] = await users(target.baseUrl, prefix, 1, target.tokens);
      const historyId = await channel(target.baseUrl, owner!, `${prefix}history`);
      const sendId = await channel(target.baseUrl, owner!, `${prefix}send`);
      const text = "x".repeat(64);
      ctx.progress(`S5 pre-filling ${prefill} messages`);
      for (let i = 0; i < prefill; i += 25) {
        await Promise.all(
          Array.from({ length: Math.min(25, prefill - i) }, async () => {
            const res = await fetch(`${target.baseUrl}/v1/channels/${historyId}/messages`, {
              method: "POST",
              headers: { authorization: `Bearer ${owner!.token}`, "content-type": "application/json" },
              body: JSON.stringify({ text }),
            });
            if (res.status !== 201) throw new Error(`pre-fill: ${res.status} ${await res.text()}`);
          }),
        );
      }
      const endpoints = [
        {
          name: "history GET",
          method: "GET" as const,
          url: `${target.baseUrl}/v1/channels/${historyId}/messages?limit=50`,
        },
        {
          name: "send POST",
          method: "POST" as const,
          url: `${target.baseUrl}/v1/channels/${sendId}/messages`,
          body: JSON.stringify({ text }),
        },
      ];
      const run = async (ep: (typeof endpoints)[number], overallRate?: number): Promise<RunOutcome> => {
        const startAt = Date.now() + 800; // the generator process starts (tsx)
        const task: HttpLoadTask = {
          url: ep.url,
          startAt,
          method: ep.method,
          token: owner!.token,
          ...(ep.body ? { body: ep.body } : {}),
          connections,
          warmupSec,
          durationSec,
          ...(overallRate ? { overallRate } : {}),
        };
        const gens = startGenerators<HttpLoadTask, HttpLoadResult>(generatorModule, [task]);
        const meter = new CpuMeter({
          colink: () => target.pids(),
          generator: () => gens.map((g) => g.pid),
          postgres: () => (target.pids().length > 0 ? postgresPids() : []),
        });
        await sleepUntil(startAt + warmupSec * 1000);
        meter.begin();
        await sleepUntil(startAt + (warmupSec + durationSec) * 1000);
        const cpu = meter.end();
        const [r] = await Promise.all(gens.map((g) => g.result));
        const lat = summarise(mergeEncoded([r!.histogram]));
        return {
          metrics: {
            reqPerSec: Math.round(r!.ok / r!.durationSec),
            non2xx: r!.non2xx,
            errors: r!.errors,
            p50: lat.p50,
            p99: lat.p99,
            p999: lat.p999,
          },
          cpu,
        };
      };
      for (const ep of endpoints) {
        ctx.progress(`S5 ${ep.name} peak, ${connections} connections`);
        const peak = await measure(
          {
            scenario: "S5",
            system: "colink",
            params: {
              store: "postgres",
              workers: target.workers,
              request: ep.name,
              connections,
              mode: "peak",
            },
          },
          ctx.repeats,
          () => run(ep),
        );
        records.push(peak);
        for (const share of ctx.quick ? [] : [0.25, 0.5, 0.8]) {
          const rate = Math.max(1, Math.round(peak.metrics.reqPerSec! * share));
          ctx.progress(`S5 ${ep.name} at ${rate}/s (${share * 100}% of peak)`);
          records.push(
            await measure(
              {
                scenario: "S5",
                system: "colink",
                params: {
                  store: "postgres",
                  workers: target.workers,
                  request: ep.name,
                  connections,
                  mode: `${share * 100}% of peak`,
                  offered: rate,
                },
              },
              ctx.repeats,
              () => run(ep, rate),
            ),
          );
        }
      }
    });
    return records;
  },
};
