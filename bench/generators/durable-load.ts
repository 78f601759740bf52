/**
 * Generator for durable throughput (S3): many senders, each one connection posting
 * `msg.send` round-robin over the channels it owns, with a window of several sends in
 * flight, as fast as the acks allow. Counts the acks that arrive in the measuring window;
 * after it stops sending it waits for every send in flight, so that the scenario can check
 * the acks against what the database holds.
 *
 * With `ratePerSec` it is open loop instead (S10 at a fixed offered rate): the senders share
 * that rate, each sending on its own schedule (evenly spaced, the senders' phases spread)
 * without waiting for acks, and a send's latency counts from its intended time.
 */
import { encodeHistogram, newHistogram } from "../lib/stats.js";
import { WireClient, WireError } from "../lib/wire.js";

/** What one generator process does. */
export interface DurableLoadTask {
  wsUrl: string;
  /**
   * When the load starts (epoch ms), after the connections are open, so that the caller
   * can measure CPU over exactly the window (startAt + warmupMs … + durationMs).
   */
  startAt: number;
  /** One connection each, posting to its own channels in turn. */
  senders: Array<{ token: string; channelIds: string[] }>;
  /** Sends in flight per sender. */
  window: number;
  warmupMs: number;
  durationMs: number;
  /** Longest wait for the acks still in flight after the window. */
  drainMs: number;
  textBytes: number;
  /** Sends per second over this generator's senders, on a schedule; absent, closed loop with `window`. */
  ratePerSec?: number;
}

/** What it measured. */
export interface DurableLoadResult {
  /** Acks that arrived within the measuring window. */
  acks: number;
  elapsedMs: number;
  /** Every send, warm-up and tail included. */
  sent: number;
  /** Every ack, warm-up and tail included. */
  acked: number;
  /** Every error reply (or send lost to a closed connection). */
  errors: number;
  /** Error replies by code. */
  errorCodes: Record<string, number>;
  /** Sends still unanswered when the drain timed out. */
  unanswered: number;
  /** Ack latency of the window's sends (closed loop, at saturation), microseconds, compressed. */
  histogram: string;
}

export default async function durableLoad(task: DurableLoadTask): Promise<DurableLoadResult> {
  const clients = await Promise.all(task.senders.map((s) => WireClient.connect(task.wsUrl, s.token)));
  const open = clients.map(() => true);
  clients.forEach((c, i) => {
    c.onClose = () => {
      open[i] = false;
    };
  });
  await new Promise((r) => setTimeout(r, Math.max(0, task.startAt - Date.now())));
  const text = "x".repeat(task.textBytes);
  const hist = newHistogram();
  const errorCodes: Record<string, number> = {};
  let acks = 0;
  let sent = 0;
  let acked = 0;
  let errors = 0;
  let seq = 0;
  const start = performance.now();
  const measureFrom = start + task.warmupMs;
  const stopAt = measureFrom + task.durationMs;
  const tag = `d${process.pid.toString(36)}${Date.now().toString(36)}-`;

  // One loop per slot of a sender's window: send, await the ack, send the next.
  const slot = async (i: number, first: number) => {
    const client = clients[i]!;
    const channels = task.senders[i]!.channelIds;
    let k = first;
    while (open[i] && performance.now() < stopAt) {
      const channelId = channels[k++ % channels.length]!;
      const at = performance.now();
      sent++;
      try {
        await client.requestAck("msg.send", { channelId, text, clientMsgId: `${tag}${seq++}` });
        acked++;
        const now = performance.now();
        if (now >= measureFrom && now < stopAt) {
          acks++;
          if (at >= measureFrom) hist.recordValue(Math.max(1, Math.round((now - at) * 1000)));
        }
      } catch (err) {
        errors++;
        const code = err instanceof WireError ? err.code : "other";
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        // A refusal (rate_limited, unavailable) is not retried at once: back off a little.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  /**
   * Open loop: sender `i` sends its `n`-th message at start + (n·senders + i)/rate, whatever
   * the acks do; each send's latency counts from that intended time.
   */
  const scheduled = async (i: number) => {
    const client = clients[i]!;
    const channels = task.senders[i]!.channelIds;
    const intervalMs = (1000 * clients.length) / task.ratePerSec!;
    const pending: Promise<void>[] = [];
    for (let n = 0; open[i]; n++) {
      const intended = start + n * intervalMs + (i * intervalMs) / clients.length;
      if (intended >= stopAt) break;
      const wait = intended - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const channelId = channels[n % channels.length]!;
      sent++;
      pending.push(
        client.requestAck("msg.send", { channelId, text, clientMsgId: `${tag}${seq++}` }).then(
          () => {
            acked++;
            const now = performance.now();
            if (intended >= measureFrom && now < stopAt + task.drainMs) {
              acks++;
              hist.recordValue(Math.max(1, Math.round((now - intended) * 1000)));
            }
          },
          (err: unknown) => {
            errors++;
            const code = err instanceof WireError ? err.code : "other";
            errorCodes[code] = (errorCodes[code] ?? 0) + 1;
          },
        ),
      );
    }
    await Promise.all(pending);
  };
  const loops =
    task.ratePerSec === undefined
      ? clients.flatMap((_, i) => Array.from({ length: task.window }, (_, w) => slot(i, w)))
      : clients.map((_, i) => scheduled(i));
  // The slots stop sending at stopAt; the acks still in flight get drainMs to arrive.
  await Promise.race([
    Promise.all(loops),
    new Promise<void>((resolve) => {
      const check = () => {
        if (performance.now() > stopAt + task.drainMs) resolve();
        else setTimeout(check, 50).unref();
      };
      check();
    }),
  ]);
  const elapsedMs = Math.min(performance.now(), stopAt) - measureFrom;
  for (const c of clients) c.close();
  return {
    acks,
    elapsedMs,
    sent,
    acked,
    errors,
    errorCodes,
    unanswered: sent - acked - errors,
    histogram: encodeHistogram(hist),
  };
}
