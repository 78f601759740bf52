/**
 * Generator for S9: pings a server's `GET /` at a constant rate from `startAt` until the
 * server answers 410 (its window is over), refuses after it has answered (it has closed),
 * or `maxMs` passes. The latency of each 204 answer (the window; it answers others before)
 * is measured from the ping's intended send time, so a stalled event loop counts in full however long the stall (no
 * coordinated omission). Keep-alive connections, as many as the pings in flight need.
 */
import { Agent, request } from "node:http";
import { encodeHistogram, newHistogram } from "../lib/stats.js";

export interface PingLoadTask {
  url: string;
  startAt: number;
  ratePerSec: number;
  /** The longest the window may last. */
  maxMs: number;
}

export interface PingLoadResult {
  /** Pings answered 204. */
  pings: number;
  /** Pings that failed before the window was over (a connection reset …). */
  errors: number;
  elapsedMs: number;
  /** This process's CPU time over its run, in cores. */
  cores: number;
  /** Latency from the intended send time, microseconds, compressed. */
  histogram: string;
}

export default async function pingLoad(task: PingLoadTask): Promise<PingLoadResult> {
  await new Promise((r) => setTimeout(r, Math.max(0, task.startAt - Date.now())));
  const agent = new Agent({ keepAlive: true });
  const hist = newHistogram();
  const intervalMs = 1000 / task.ratePerSec;
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  let pings = 0;
  let up = false;
  let ended = false;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const ping = (intended: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const req = request(task.url, { agent }, (res) => {
        res.resume();
        up = true;
        if (res.statusCode === 410) ended = true;
        res.once("end", () => {
          if (!ended && res.statusCode === 204) {
            pings++;
            hist.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
          }
          resolve();
        });
      });
      req.once("error", (err: NodeJS.ErrnoException) => {
        // Refused before it has answered: it is not listening yet; after: it has closed.
        if (err.code === "ECONNREFUSED") ended ||= up;
        else if (!ended) errors++;
        resolve();
      });
      req.end();
    });
  let next = start;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (ended || now - start >= task.maxMs) return resolve();
      while (next <= now) {
        const p = ping(next);
        inFlight.add(p);
        p.then(() => inFlight.delete(p));
        next += intervalMs;
      }
      setTimeout(tick, Math.max(1, Math.min(next - performance.now(), 20)));
    };
    tick();
  });
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, 5000))]);
  agent.destroy();
  return {
    pings,
    errors,
    elapsedMs: Math.round(elapsedMs),
    cores: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100) / 100,
    histogram: encodeHistogram(hist),
  };
}
