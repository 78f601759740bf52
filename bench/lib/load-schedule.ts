/**
 * The request schedule shared by the request/reply generators (Colink's S1 senders and the
 * raw Postgres floor): closed loop (send, await the answer, repeat) finds the peak; a
 * constant-rate schedule gives every send an *intended* time, so that latency measured from
 * it counts a slow server's stalls instead of letting them slow the generator down (no
 * coordinated omission).
 */
import { encodeHistogram, newHistogram } from "./stats.js";

/** How the senders send. */
export interface LoadSchedule {
  senders: number;
  mode: "closed" | "rate";
  /** Total sends per second over all senders (rate mode). */
  ratePerSec: number;
  warmupMs: number;
  durationMs: number;
}

/** What a schedule measured: answers to sends intended after the warm-up. */
export interface LoadMeasurement {
  acks: number;
  errors: number;
  elapsedMs: number;
  /** Latency histogram (from the intended send time), microseconds, compressed. */
  histogram: string;
}

/**
 * Calls `request(sender)` on the schedule until the window ends (in rate mode, then waits
 * up to 5 s for the answers still due), and measures every answer to a send intended
 * after the warm-up from that intended time.
 */
export async function measureLoad(
  s: LoadSchedule,
  request: (sender: number) => Promise<unknown>,
): Promise<LoadMeasurement> {
  const start = performance.now();
  const from = start + s.warmupMs;
  const to = from + s.durationMs;
  const hist = newHistogram();
  let acks = 0;
  let errors = 0;
  const send = (sender: number, intended: number): Promise<void> =>
    request(sender).then(
      () => {
        if (intended < from) return;
        acks++;
        hist.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
      },
      () => {
        if (intended >= from) errors++;
      },
    );
  const result = (): LoadMeasurement => ({
    acks,
    errors,
    elapsedMs: Math.min(performance.now(), to) - from,
    histogram: encodeHistogram(hist),
  });
  if (s.mode === "closed") {
    await Promise.all(
      Array.from({ length: s.senders }, async (_, i) => {
        while (performance.now() < to) await send(i, performance.now());
      }),
    );
    return result();
  }
  // Open loop: every tick, send what is due by the schedule, however late the answers are.
  const intervalMs = 1000 / (s.ratePerSec / s.senders);
  const next = Array.from({ length: s.senders }, (_, i) => start + (i * intervalMs) / s.senders);
  const inFlight: Array<Promise<void>> = [];
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now >= to) return resolve();
      for (let i = 0; i < s.senders; i++) {
        while (next[i]! <= now) {
          inFlight.push(send(i, next[i]!));
          next[i]! += intervalMs;
        }
      }
      if (inFlight.length > 10_000) inFlight.splice(0, inFlight.length - 10_000);
      // Sleep until the next send is due (timers tick at about 1 ms) instead of spinning
      // a core; lateness of the tick counts in the latency, measured from the schedule.
      const wait = Math.min(...next) - performance.now();
      setTimeout(tick, Math.max(1, Math.min(wait, 20)));
    };
    tick();
  });
  await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, 5000))]);
  return result();
}
