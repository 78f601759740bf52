/**
 * Generator for request/reply load: each sender is one connection posting `msg.send` to
 * its channel, on the schedule of bench/lib/load-schedule.ts (closed loop for the peak,
 * constant rate for latency measured from each send's intended time).
 */
import { type LoadMeasurement, type LoadSchedule, measureLoad } from "../lib/load-schedule.js";
import { WireClient } from "../lib/wire.js";

/** What one generator process does. */
export interface SendLoadTask extends Omit<LoadSchedule, "senders"> {
  wsUrl: string;
  senders: Array<{ token: string; channelId: string }>;
  textBytes: number;
  /** When the schedule starts (epoch ms), once connected; absent: at once. */
  startAt?: number;
}

/** What it measured in the window after the warm-up (ack latency). */
export type SendLoadResult = LoadMeasurement;

export default async function sendLoad(task: SendLoadTask): Promise<SendLoadResult> {
  const clients = await Promise.all(task.senders.map((s) => WireClient.connect(task.wsUrl, s.token)));
  const text = "x".repeat(task.textBytes);
  if (task.startAt) await new Promise((r) => setTimeout(r, Math.max(0, task.startAt! - Date.now())));
  let seq = 0;
  const result = await measureLoad({ ...task, senders: clients.length }, (i) =>
    clients[i]!.requestAck("msg.send", {
      channelId: task.senders[i]!.channelId,
      text,
      clientMsgId: `g${process.pid}-${seq++}`,
    }),
  );
  for (const c of clients) c.close();
  return result;
}
