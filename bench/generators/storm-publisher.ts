/**
 * The publisher of S6 (reconnect storm): one connection that keeps posting `msg.send`
 * into every channel at a steady rate, on an open-loop schedule, while the subscribers
 * drop and come back. It never drops itself. With a backlog, it also posts that many
 * extra messages per channel while the subscribers are down, so that the gap they
 * resume over is as deep as asked (beyond the channel actor's in-memory window, the
 * replay comes from the store).
 *
 * Rendezvous notes (bench/lib/rendezvous.ts): posts `publisher-ready` once connected;
 * reads `go` ({dropAt, downMs}) for the backlog window; stops at `stop`. Its result holds
 * every acknowledged seq with the time of its ack, so the scenario can tell which
 * messages were published before the storm ended.
 */
import { Rendezvous, wallNow } from "../lib/rendezvous.js";
import { WireClient } from "../lib/wire.js";

/** What the publisher does. */
export interface PublisherTask {
  wsUrl: string;
  token: string;
  channels: string[];
  /** Steady messages per second, per channel. */
  ratePerChannel: number;
  /** Extra messages per channel, posted while the subscribers are down (needs `downMs` > 0). */
  backlogPerChannel: number;
  textBytes: number;
  rendezvous: string;
  /** Hard stop, whatever the notes say. */
  maxMs: number;
}

/** What it did. */
export interface PublisherResult {
  sent: number;
  acked: number;
  errors: number;
  /** First error messages, for the report. */
  errorSamples: string[];
  /** Sends not acknowledged when it stopped waiting. */
  unanswered: number;
  /** Messages per second actually acknowledged, over the whole run. */
  ackedPerSec: number;
  /** Per channel id: the acknowledged seqs and the wall-clock time of each ack. */
  acks: Record<string, { seq: number[]; at: number[] }>;
}

export default async function stormPublisher(task: PublisherTask): Promise<PublisherResult> {
  const rv = new Rendezvous(task.rendezvous);
  const conn = await WireClient.connect(task.wsUrl, task.token);
  const text = "x".repeat(task.textBytes);
  const acks: PublisherResult["acks"] = Object.fromEntries(
    task.channels.map((c) => [c, { seq: [] as number[], at: [] as number[] }]),
  );
  let sent = 0;
  let acked = 0;
  let errors = 0;
  let inFlight = 0;
  const errorSamples: string[] = [];
  const send = (channelId: string) => {
    sent++;
    inFlight++;
    conn.request("msg.send", { channelId, text, clientMsgId: `p${process.pid}-${sent}` }).then(
      (r) => {
        inFlight--;
        acked++;
        const seq = (r.message as { seq: number }).seq;
        const a = acks[channelId]!;
        a.seq.push(seq);
        a.at.push(wallNow());
      },
      (err: unknown) => {
        inFlight--;
        errors++;
        if (errorSamples.length < 5) errorSamples.push(String(err));
      },
    );
  };

  rv.post("publisher-ready", { at: wallNow() });
  const start = performance.now();
  const steadyMs = 1000 / task.ratePerChannel;
  const next = task.channels.map((_, i) => start + (i * steadyMs) / task.channels.length);
  let backlog: { from: number; every: number; left: number[]; next: number[] } | null = null;
  let go: { dropAt: number; downMs: number } | undefined;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now - start > task.maxMs || rv.read("stop") !== undefined) return resolve();
      if (!go) {
        go = rv.read<{ dropAt: number; downMs: number }>("go");
        if (go && task.backlogPerChannel > 0 && go.downMs > 0) {
          // Spread the backlog over the first 80% of the time the subscribers are down.
          const from = go.dropAt - wallNow() + now;
          const every = (go.downMs * 0.8) / task.backlogPerChannel;
          backlog = {
            from,
            every,
            left: task.channels.map(() => task.backlogPerChannel),
            next: task.channels.map(() => from),
          };
        }
      }
      // Open loop: send what the schedule says is due, however slow the acks are. A
      // bound on what is in flight keeps a stalled server from filling the memory.
      for (let i = 0; i < task.channels.length; i++) {
        while (next[i]! <= now && inFlight < 10_000) {
          send(task.channels[i]!);
          next[i]! += steadyMs;
        }
        if (backlog) {
          while (backlog.left[i]! > 0 && backlog.next[i]! <= now && inFlight < 10_000) {
            send(task.channels[i]!);
            backlog.left[i]!--;
            backlog.next[i]! += backlog.every;
          }
        }
      }
      setTimeout(tick, 5);
    };
    tick();
  });
  const elapsedMs = performance.now() - start;
  const drainUntil = performance.now() + 10_000;
  while (inFlight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 10));
  const unanswered = inFlight;
  conn.close();
  return {
    sent,
    acked,
    errors,
    errorSamples,
    unanswered,
    ackedPerSec: Math.round((acked / elapsedMs) * 1000),
    acks,
  };
}
