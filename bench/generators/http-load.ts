/**
 * Generator for HTTP load (S5) with autocannon (its programmatic API, in this process):
 * one method and path, a bearer token, closed loop over `connections` (the peak) or at a
 * fixed overall rate. Latency is recorded from each response into an HDR histogram in
 * microseconds; at a fixed rate it is corrected for coordinated omission against the
 * expected interval of each connection, as autocannon does.
 */
import { createRequire } from "node:module";
import { encodeHistogram, newHistogram } from "../lib/stats.js";

/** What one generator process does. */
export interface HttpLoadTask {
  url: string;
  /** When the load starts (epoch ms), so that the caller can measure CPU over the window. */
  startAt: number;
  method: "GET" | "POST";
  token: string;
  /** JSON body (POST). */
  body?: string;
  connections: number;
  warmupSec: number;
  durationSec: number;
  /** Requests per second over all connections; absent = as fast as answers come (closed loop). */
  overallRate?: number;
}

/** What it measured (the window after the warm-up). */
export interface HttpLoadResult {
  /** 2xx answers. */
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  durationSec: number;
  /** Latency of the 2xx answers, microseconds, compressed. */
  histogram: string;
  /** Answers by status code. */
  statuses: Record<string, number>;
}

/** The part of autocannon's API used here (it ships no types). */
interface AutocannonOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  connections: number;
  duration: number;
  overallRate?: number;
  warmup?: { connections: number; duration: number };
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: "response", fn: (client: unknown, statusCode: number, bytes: number, ms: number) => void): void;
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (opts: AutocannonOptions) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

export default async function httpLoad(task: HttpLoadTask): Promise<HttpLoadResult> {
  await new Promise((r) => setTimeout(r, Math.max(0, task.startAt - Date.now())));
  const hist = newHistogram();
  // At a fixed rate each connection sends every connections / rate seconds.
  const expectedUs = task.overallRate ? Math.round((task.connections / task.overallRate) * 1e6) : 0;
  const instance = autocannon({
    url: task.url,
    method: task.method,
    headers: {
      authorization: `Bearer ${task.token}`,
      ...(task.body ? { "content-type": "application/json" } : {}),
    },
    ...(task.body ? { body: task.body } : {}),
    connections: task.connections,
    duration: task.durationSec,
    ...(task.overallRate ? { overallRate: task.overallRate } : {}),
    ...(task.warmupSec > 0 ? { warmup: { connections: task.connections, duration: task.warmupSec } } : {}),
  });
  // The returned instance tracks the measured run only (the warm-up has its own tracker).
  instance.on("response", (_client, status, _bytes, ms) => {
    if (status < 200 || status >= 300) return;
    const us = Math.max(1, Math.round(ms * 1000));
    if (expectedUs > 0) hist.recordValueWithExpectedInterval(us, expectedUs);
    else hist.recordValue(us);
  });
  const r = await instance;
  return {
    ok: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors,
    durationSec: r.duration,
    histogram: encodeHistogram(hist),
    statuses: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, Number(v.count)])),
  };
}
