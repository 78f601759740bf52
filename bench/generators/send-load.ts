/**
 * Generator for request/reply load: each sender is one connection posting `msg.send` to
 * its channel, on the schedule of bench/lib/load-schedule.ts (closed loop for the peak,
 * constant rate for latency measured from each send's intended time).
 */
import { driveLoad, type LoadSchedule, loadWindow } from "../lib/load-schedule.js";
import { encodeHistogram, newHistogram } from "../lib/stats.js";
import { WireClient } from "../lib/wire.js";

/** What one generator process does. */
export interface SendLoadTask extends Omit<LoadSchedule, "senders"> {
  wsUrl: string;
  senders: Array<{ token: string; channelId: string }>;
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
  let seq = 0;
  const schedule = { ...task, senders: clients.length };
  const window = loadWindow(schedule);
  await driveLoad(schedule, window, (i, intended) => {
    const s = task.senders[i]!;
    return clients[i]!.request("msg.send", {
      channelId: s.channelId,
      text,
      clientMsgId: `g${process.pid}-${seq++}`,
    }).then(
      () => {
        if (intended < window.from) return;
        acks++;
        hist.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
      },
      () => {
        if (intended >= window.from) errors++;
      },
    );
  });
  const elapsedMs = Math.min(performance.now(), window.to) - window.from;
  for (const c of clients) c.close();
  return { acks, errors, elapsedMs, histogram: encodeHistogram(hist) };
}
