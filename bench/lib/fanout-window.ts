/**
 * One measured fan-out window (S2 and S7): the publisher generator publishes at a constant
 * rate while every subscriber generator receives over the same window, the CPU of the
 * given process groups is measured over it, and the subscriber processes are merged into
 * latency to the first and to the last subscriber of each message. Also the generator
 * layout both scenarios share: one publisher process and a few subscriber processes.
 */
import type { PublishCmd, PublishResult, ReceiveCmd, ReceiveResult } from "../generators/fanout.js";
import { type SystemName, wallMs } from "./fanout-proto.js";
import { GenSession } from "./gen-session.js";
import { CpuMeter, type ProcessGroups } from "./proc.js";
import { type LatencySummary, mergeEncoded, newHistogram, summarise } from "./stats.js";

/** A rate for progress lines: 1234 → "1k". */
export const fmtRate = (n: number) => (n >= 1000 ? `${Math.round(n / 1000)}k` : String(Math.round(n)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The load S2 and S7 share: generator processes, the subscribers' users and source addresses, the text. */
export const fanoutLoad = {
  /** Subscriber generator processes (each holds a share of every system's subscribers). */
  subscriberProcesses: 2,
  /** Dev users whose tokens the subscriber connections share (a user may have many sessions). */
  subscriberUsers: 16,
  /** Source addresses for subscriber connections: 127.0.2.1 … */
  sourceAddresses: 32,
  /** Bytes of each published message's text. */
  textBytes: 64,
} as const;

/** Starts the fan-out generators: the publisher (`pub`) first, then the subscriber processes (`sub0`, …). */
export function startFanoutGenerators(): Promise<GenSession[]> {
  return Promise.all(
    ["pub", ...Array.from({ length: fanoutLoad.subscriberProcesses }, (_, i) => `sub${i}`)].map((n) =>
      GenSession.start(n, "generators/fanout.ts"),
    ),
  );
}

export interface FanoutWindowOptions {
  system: SystemName;
  /** The generators' connection set (default: `system`). */
  group?: string;
  /** The publisher generator, and the subscriber generators holding the subscriptions. */
  pubGen: GenSession;
  subGens: GenSession[];
  /** Publishes per second over all channels. */
  ratePerSec: number;
  /** Channels published to (for the number of keys to track). */
  channels: number;
  /** Subscribers per channel: a message that fewer received is `incomplete`. */
  subscribers: number;
  warmupMs: number;
  durationMs: number;
  textBytes: number;
  /** Makes the run tag unique per scenario run (the time is appended). */
  runTagPrefix: string;
  /** Process groups whose CPU use is measured over the window. */
  cpu: ProcessGroups;
  /** Subscriber tags to summarise deliveries for (see `tagged`). */
  tags?: string[];
}

/** What one window measured. */
export interface FanoutWindow {
  pub: PublishResult;
  cpu: Record<string, number>;
  /** Connections the generators opened again before the window (the server had dropped them). */
  reopened: number;
  /** Offered deliveries/s (publishes/s × subscribers). */
  offered: number;
  /** Deliveries that arrived inside the window, per second. */
  delivered: number;
  publishesPerSec: number;
  /** Latency to the first and to the last subscriber of each message sent inside the window. */
  first: LatencySummary;
  last: LatencySummary;
  /** Messages sent inside the window that not every subscriber received. */
  incomplete: number;
  /** Deliveries of messages sent inside the window (not refused) that never came. */
  expected: number;
  missing: number;
  /** Subscriber connections the server closed, and its close codes. */
  closed: number;
  closeCodes: number[];
  drainMs: number;
  stale: number;
  /** With `tags`: every delivery's latency, and per tag. */
  tagged?: { all: LatencySummary; byTag: Record<string, LatencySummary> };
  /** Why the system looks saturated in this window, or null. */
  saturated: string | null;
}

/**
 * Runs one window: connections dropped since the last one are opened again, then the
 * publisher and the subscribers start together at t0 and the CPU meter covers the window.
 * The subscriber processes merge per key: first = min, last = max, count = sum.
 */
export async function measureFanoutWindow(o: FanoutWindowOptions): Promise<FanoutWindow> {
  const { pubGen, subGens, subscribers, warmupMs, durationMs } = o;
  const target = { system: o.system, ...(o.group !== undefined ? { group: o.group } : {}) };
  const repaired = await Promise.all(
    [pubGen, ...subGens].map((g) => g.call<{ reopened: number }>({ kind: "repair", ...target })),
  );
  const reopened = repaired.reduce((s, r) => s + r.reopened, 0);
  const rate = o.ratePerSec;
  const t0 = wallMs() + 200;
  const keys = Math.ceil((rate * (warmupMs + durationMs)) / 1000) + o.channels + 16;
  const meter = new CpuMeter(o.cpu);
  const window = { ...target, t0Ms: t0, warmupMs, durationMs };
  const pubP = pubGen.call<PublishResult>({
    kind: "publish",
    ...window,
    ratePerSec: rate,
    textBytes: o.textBytes,
    runTag: `${o.runTagPrefix}t${Date.now().toString(36)}`,
    ackWaitMs: 5000,
  } satisfies PublishCmd);
  const rxP = subGens.map((g) =>
    g.call<ReceiveResult>({
      kind: "receive",
      ...window,
      keys,
      quietMs: 250,
      // After an overload the subscribers may hold seconds of backlog: wait it out, so
      // that the next run starts clean (bounded; `stale` counts what still came late).
      maxDrainMs: 30_000,
    } satisfies ReceiveCmd),
  );
  await sleep(t0 + warmupMs - wallMs());
  meter.begin();
  await sleep(t0 + warmupMs + durationMs - wallMs());
  const cpu = meter.end();
  const [pub, rx] = await Promise.all([pubP, Promise.all(rxP)]);

  // Merge the subscriber processes: first = min, last = max, count = sum.
  const first = newHistogram();
  const last = newHistogram();
  const len = Math.max(0, ...rx.map((r) => r.count.length));
  let incomplete = 0;
  for (let k = 0; k < len; k++) {
    let n = 0;
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (const r of rx) {
      const c = r.count[k] ?? 0;
      if (c === 0) continue;
      n += c;
      if (r.first[k]! < lo) lo = r.first[k]!;
      if (r.last[k]! > hi) hi = r.last[k]!;
    }
    if (n === 0) continue;
    first.recordValue(Math.max(1, Math.round(lo * 1000)));
    if (n >= subscribers) last.recordValue(Math.max(1, Math.round(hi * 1000)));
    else incomplete++;
  }
  const tagged = o.tags
    ? {
        all: summarise(mergeEncoded(rx.flatMap((r) => Object.values(r.byTag)))),
        byTag: Object.fromEntries(
          o.tags.map((tag) => [
            tag,
            summarise(mergeEncoded(rx.map((r) => r.byTag[tag]).filter((h): h is string => h !== undefined))),
          ]),
        ),
      }
    : undefined;
  const seconds = durationMs / 1000;
  const delivered = rx.reduce((s, r) => s + r.windowDeliveries, 0) / seconds;
  // Publishes the server refused (Colink: a full mailbox answers `unavailable`) are
  // counted as errors, not as missing deliveries.
  const expected = (pub.sentInWindow - pub.errors) * subscribers;
  const missing = Math.max(0, expected - rx.reduce((s, r) => s + r.sentInWindowDeliveries, 0));
  const closed = rx.reduce((s, r) => s + r.closed, 0);
  const closeCodes = rx.flatMap((r) => r.closeCodes);
  const l = summarise(last);
  const offered = rate * subscribers;
  let saturated: string | null = null;
  if (closed > 0) saturated = `${closed} subscribers closed (${closeCodes.join(",")})`;
  else if (missing > expected * 0.01) saturated = `${missing} deliveries missing`;
  else if (delivered < offered * 0.9) saturated = `delivered ${fmtRate(delivered)}/s < 90% of offered`;
  // Queueing: the median itself grows (a p99 spike on a shared machine is not enough).
  else if (l.p50 > 100) saturated = `median latency to last ${l.p50} ms`;
  else if (pub.maxLagMs > 200) saturated = `publisher ${pub.maxLagMs} ms behind schedule`;
  return {
    pub,
    cpu,
    reopened,
    offered,
    delivered,
    publishesPerSec: pub.sentInWindow / seconds,
    first: summarise(first),
    last: l,
    incomplete,
    expected,
    missing,
    closed,
    closeCodes,
    drainMs: Math.max(...rx.map((r) => r.drainMs)),
    stale: rx.reduce((s, r) => s + r.stale, 0),
    tagged,
    saturated,
  };
}
