/**
 * The request schedule shared by the request/reply generators (Colink's S1 senders and the
 * raw Postgres floor): closed loop (send, await the answer, repeat) finds the peak; a
 * constant-rate schedule gives every send an *intended* time, so that latency measured from
 * it counts a slow server's stalls instead of letting them slow the generator down (no
 * coordinated omission).
 */

/** How the senders send. */
export interface LoadSchedule {
  senders: number;
  mode: "closed" | "rate";
  /** Total sends per second over all senders (rate mode). */
  ratePerSec: number;
  warmupMs: number;
  durationMs: number;
}

/** The measuring window: sends intended before `from` are warm-up, none is made after `to`. */
export interface LoadWindow {
  from: number;
  to: number;
}

/** The window of a schedule starting now. */
export function loadWindow(s: LoadSchedule): LoadWindow {
  const start = performance.now();
  return { from: start + s.warmupMs, to: start + s.warmupMs + s.durationMs };
}

/**
 * Calls `send(sender, intended)` on the schedule until `window` ends (in rate mode, then
 * waits up to 5 s for the answers still due). `intended` is a `performance.now()` time; an
 * answer counts in the measurement when its send was intended at or after `window.from`.
 */
export async function driveLoad(
  s: LoadSchedule,
  window: LoadWindow,
  send: (sender: number, intended: number) => Promise<void>,
): Promise<void> {
  const start = window.from - s.warmupMs;
  if (s.mode === "closed") {
    await Promise.all(
      Array.from({ length: s.senders }, async (_, i) => {
        while (performance.now() < window.to) await send(i, performance.now());
      }),
    );
    return;
  }
  // Open loop: every tick, send what is due by the schedule, however late the answers are.
  const intervalMs = 1000 / (s.ratePerSec / s.senders);
  const next = Array.from({ length: s.senders }, (_, i) => start + (i * intervalMs) / s.senders);
  const inFlight: Array<Promise<void>> = [];
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now >= window.to) return resolve();
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
}
