/**
 * Generator for request/reply load: each sender is one connection posting `msg.send` to
 * its channel. Closed loop (send, await the ack, repeat) finds the peak; a constant-rate
 * schedule measures latency from each send's *intended* time, so a slow server cannot
 * hide its stalls by slowing the generator down (no coordinated omission).
 */
import { encodeHistogram, newHistogram } from "../lib/stats.js";
import { WireClient } from "../lib/wire.js";

/** What one generator process does. */
export interface SendLoadTask {
  wsUrl: string;
  senders: Array<{ token: string; channelId: string }>;
  mode: "closed" | "rate";
  /** Total sends per second of this generator (rate mode). */
  ratePerSec: number;
  warmupMs: number;
  durationMs: number;
  textBytes: number;
}

/** What it measured in the window after the warm-up. */
export interface SendLoadResult {
  acks: number;
  errors: number;
  elapsedMs: number;
  /** Ack latency histogram, microseconds, compressed. */
  histogram: string;
}

export default async function sendLoad(task: SendLoadTask): Promise<SendLoadResult> {
  const clients = await Promise.all(task.senders.map((s) => WireClient.connect(task.wsUrl, s.token)));
  const text = "x".repeat(task.textBytes);
  const hist = newHistogram();
  let acks = 0;
  let errors = 0;
  let measuring = false;
  let seq = 0;
  const start = performance.now();
  const measureFrom = start + task.warmupMs;
  const stopAt = measureFrom + task.durationMs;
  const send = (i: number, intended: number) => {
    const s = task.senders[i]!;
    return clients[i]!.request("msg.send", {
      channelId: s.channelId,
      text,
      clientMsgId: `g${process.pid}-${seq++}`,
    }).then(
      () => {
        if (!measuring || intended < measureFrom) return;
        acks++;
        hist.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
      },
      () => {
        if (measuring) errors++;
      },
    );
  };
  const timer = setTimeout(() => {
    measuring = true;
  }, task.warmupMs);
  if (task.mode === "closed") {
    await Promise.all(
      clients.map(async (_, i) => {
        while (performance.now() < stopAt) await send(i, performance.now());
      }),
    );
  } else {
    // Open loop: every tick, send what is due by the schedule, however late the acks are.
    const perSender = task.ratePerSec / clients.length;
    const intervalMs = 1000 / perSender;
    const next = clients.map((_, i) => start + (i * intervalMs) / clients.length);
    const inFlight: Array<Promise<void>> = [];
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (now >= stopAt) return resolve();
        for (let i = 0; i < clients.length; i++) {
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
  clearTimeout(timer);
  const elapsedMs = Math.min(performance.now(), stopAt) - measureFrom;
  for (const c of clients) c.close();
  return { acks, errors, elapsedMs, histogram: encodeHistogram(hist) };
}
