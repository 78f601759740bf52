/**
 * S2 fan-out generator (a long-lived process, see bench/lib/gen-session.ts). It holds
 * subscriber connections, publisher connections, or both, for any of the systems, and
 * runs measured windows on command:
 *
 * - `publish`: a constant-rate schedule over the publishers (one per channel). Each
 *   message carries its key and its *intended* send time, so a late publisher or a slow
 *   server cannot hide a stall (no coordinated omission). Colink acks are counted and
 *   timed.
 * - `receive`: counts deliveries that arrive inside the window, and for each message sent
 *   inside the window keeps the earliest and latest delivery latency seen here and how many
 *   subscribers here got it. The scenario merges processes: first = min, last = max.
 *
 * Connections are kept per group: the system's name by default, or `group` (S7 keeps one
 * Colink cluster per group, each connection on the node its spec names). A spec's `tag`
 * splits the latencies: deliveries per subscriber tag, acks per publisher tag.
 *
 * Clocks: send and arrival times are wall-clock (performance.timeOrigin + now), which
 * agree across processes on one machine to a few microseconds.
 */

import type { Histogram } from "hdr-histogram-js";
import { type Endpoint, FanConn, type SystemName } from "../lib/fanout-proto.js";
import { serveCommands } from "../lib/gen-session.js";
import { encodeHistogram, newHistogram } from "../lib/stats.js";

/** One subscriber connection to open. */
export interface SubSpec {
  channels: string[];
  token?: string;
  localAddress?: string;
  /** Where this connection goes (default: the command's endpoint). */
  endpoint?: Endpoint;
  /** Deliveries to this connection count under this tag (default "all"). */
  tag?: string;
}

/** One publisher connection: it publishes to `channel`. */
export interface PubSpec {
  channel: string;
  token?: string;
  /** Where this connection goes (default: the command's endpoint). */
  endpoint?: Endpoint;
  /** Acks of this connection count under this tag (default "all"). */
  tag?: string;
}

export interface ConnectCmd {
  kind: "subscribers" | "publishers";
  endpoint: Endpoint;
  /** The connection set's name (default: the endpoint's system). */
  group?: string;
  subs?: SubSpec[];
  pubs?: PubSpec[];
  /** Connections opened at once. */
  concurrency: number;
}

export interface WindowSpec {
  system: SystemName;
  /** The connection set (default: `system`). */
  group?: string;
  /** Wall-clock ms when the schedule starts; the window opens `warmupMs` later. */
  t0Ms: number;
  warmupMs: number;
  durationMs: number;
}

export interface PublishCmd extends WindowSpec {
  kind: "publish";
  /** Publishes per second over all channels. */
  ratePerSec: number;
  textBytes: number;
  /** Makes Colink's idempotency keys unique per run. */
  runTag: string;
  /** How long to wait for outstanding Colink acks after the window. */
  ackWaitMs: number;
}

export interface PublishResult {
  sent: number;
  sentInWindow: number;
  acks: number;
  errors: number;
  /** Acks still missing after the wait. */
  unacked: number;
  /** Colink ack latency from the intended send time, µs (compressed HDR). */
  ackHistogram: string;
  /** The same, per publisher tag. */
  ackByTag: Record<string, string>;
  /** The publisher's largest delay behind its schedule, ms. */
  maxLagMs: number;
}

export interface ReceiveCmd extends WindowSpec {
  kind: "receive";
  /** Keys to track (the publisher's counter stays below). */
  keys: number;
  /** After the window: return when no delivery came for this long… */
  quietMs: number;
  /** …or after this long at most. */
  maxDrainMs: number;
}

export interface ReceiveResult {
  /** Deliveries that arrived inside the window. */
  windowDeliveries: number;
  /** Deliveries of messages sent inside the window (whenever they arrived). */
  sentInWindowDeliveries: number;
  /** Latency of every delivery of a message sent inside the window, µs (compressed HDR), per subscriber tag. */
  byTag: Record<string, string>;
  /** Per key: earliest and latest latency (ms) here, and how many subscribers here got it. */
  first: Float32Array;
  last: Float32Array;
  count: Uint16Array;
  /** Subscriber connections closed by the server during the run (e.g. slow consumer). */
  closed: number;
  closeCodes: number[];
  /** Deliveries from earlier runs that arrived during this one. */
  stale: number;
  drainMs: number;
}

const subscribers = new Map<string, { endpoint: Endpoint; specs: SubSpec[]; conns: FanConn[] }>();
const publishers = new Map<string, { endpoint: Endpoint; specs: PubSpec[]; conns: FanConn[] }>();
let closes: number[] = [];

interface Rx {
  t0Us: number;
  fromUs: number;
  toUs: number;
  keys: number;
  first: Float32Array;
  last: Float32Array;
  count: Uint16Array;
  windowDeliveries: number;
  sentInWindowDeliveries: number;
  stale: number;
  lastArrival: number;
  byTag: Map<string, Histogram>;
}
let rx: Rx | null = null;

function deliver(key: number, sentUs: number, tag: string): void {
  const r = rx;
  if (!r || sentUs < r.t0Us) {
    if (r) r.stale++;
    return;
  }
  const now = performance.now();
  r.lastArrival = now;
  const nowUs = (performance.timeOrigin + now) * 1000;
  if (nowUs >= r.fromUs && nowUs < r.toUs) r.windowDeliveries++;
  if (sentUs >= r.fromUs && sentUs < r.toUs && key < r.keys) {
    r.sentInWindowDeliveries++;
    let hist = r.byTag.get(tag);
    if (!hist) {
      hist = newHistogram();
      r.byTag.set(tag, hist);
    }
    hist.recordValue(Math.max(1, Math.round(nowUs - sentUs)));
    const ms = (nowUs - sentUs) / 1000;
    if (r.count[key] === 0) {
      r.first[key] = ms;
      r.last[key] = ms;
    } else {
      if (ms < r.first[key]!) r.first[key] = ms;
      if (ms > r.last[key]!) r.last[key] = ms;
    }
    r.count[key]!++;
  }
}

async function openAll<S>(
  specs: S[],
  concurrency: number,
  open: (spec: S, i: number) => Promise<FanConn>,
): Promise<FanConn[]> {
  const out: FanConn[] = new Array(specs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, specs.length) }, async () => {
      while (next < specs.length) {
        const i = next++;
        out[i] = await open(specs[i]!, i);
      }
    }),
  );
  return out;
}

/** Connection attempts that failed and were retried (reported with the connect result). */
let retries = 0;

/** Runs `attempt` up to 3 times: a server may drop a connection it just opened. */
async function withRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= 3) throw err;
      retries++;
      await new Promise((r) => setTimeout(r, 50 * i));
    }
  }
}

function openSubscriber(endpoint: Endpoint, spec: SubSpec): Promise<FanConn> {
  return withRetry(async () => {
    const conn = await FanConn.open(spec.endpoint ?? endpoint, spec);
    const tag = spec.tag ?? "all";
    conn.onDelivery = (key, sentUs) => deliver(key, sentUs, tag);
    try {
      await conn.subscribe(spec.channels);
    } catch (err) {
      conn.ws.destroy();
      throw err;
    }
    conn.onClose = (code) => closes.push(code);
    return conn;
  });
}

function openPublisher(endpoint: Endpoint, spec: PubSpec): Promise<FanConn> {
  return withRetry(async () => {
    const conn = await FanConn.open(spec.endpoint ?? endpoint, spec.token ? { token: spec.token } : {});
    try {
      await conn.preparePublisher(spec.channel);
    } catch (err) {
      conn.ws.destroy();
      throw err;
    }
    return conn;
  });
}

async function connect(cmd: ConnectCmd): Promise<{ opened: number; retries: number; ms: number }> {
  const started = performance.now();
  retries = 0;
  const system = cmd.group ?? cmd.endpoint.system;
  if (cmd.kind === "subscribers") {
    const specs = cmd.subs ?? [];
    const conns = await openAll(specs, cmd.concurrency, (spec) => openSubscriber(cmd.endpoint, spec));
    subscribers.set(system, { endpoint: cmd.endpoint, specs, conns });
    return { opened: conns.length, retries, ms: performance.now() - started };
  }
  const specs = cmd.pubs ?? [];
  const conns = await openAll(specs, cmd.concurrency, (spec) => openPublisher(cmd.endpoint, spec));
  publishers.set(system, { endpoint: cmd.endpoint, specs, conns });
  return { opened: conns.length, retries, ms: performance.now() - started };
}

/**
 * Reopens connections the server closed (e.g. Colink's slow-consumer close after an
 * overload); the scenario calls it before every run.
 */
async function repair(system: string): Promise<{ reopened: number }> {
  const subs = subscribers.get(system);
  let reopened = 0;
  if (subs) {
    for (let i = 0; i < subs.conns.length; i++) {
      if (!subs.conns[i]!.closed) continue;
      subs.conns[i] = await openSubscriber(subs.endpoint, subs.specs[i]!);
      reopened++;
    }
  }
  const pubs = publishers.get(system);
  if (pubs) {
    for (let i = 0; i < pubs.conns.length; i++) {
      if (!pubs.conns[i]!.closed) continue;
      pubs.conns[i] = await openPublisher(pubs.endpoint, pubs.specs[i]!);
      reopened++;
    }
  }
  return { reopened };
}

const sleepUntil = (perfMs: number) =>
  new Promise((r) => setTimeout(r, Math.max(0, perfMs - performance.now())));

async function receive(cmd: ReceiveCmd): Promise<ReceiveResult> {
  const fromMs = cmd.t0Ms + cmd.warmupMs;
  const toMs = fromMs + cmd.durationMs;
  const r: Rx = {
    t0Us: cmd.t0Ms * 1000,
    fromUs: fromMs * 1000,
    toUs: toMs * 1000,
    keys: cmd.keys,
    first: new Float32Array(cmd.keys),
    last: new Float32Array(cmd.keys),
    count: new Uint16Array(cmd.keys),
    windowDeliveries: 0,
    sentInWindowDeliveries: 0,
    stale: 0,
    lastArrival: 0,
    byTag: new Map(),
  };
  closes = [];
  rx = r;
  await sleepUntil(toMs - performance.timeOrigin);
  const drainFrom = performance.now();
  while (performance.now() - drainFrom < cmd.maxDrainMs) {
    if (performance.now() - Math.max(r.lastArrival, drainFrom) >= cmd.quietMs) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const drainMs = performance.now() - drainFrom;
  rx = null;
  let used = r.keys;
  while (used > 0 && r.count[used - 1] === 0) used--;
  return {
    windowDeliveries: r.windowDeliveries,
    sentInWindowDeliveries: r.sentInWindowDeliveries,
    first: r.first.slice(0, used),
    last: r.last.slice(0, used),
    count: r.count.slice(0, used),
    closed: closes.length,
    closeCodes: [...new Set(closes)],
    stale: r.stale,
    drainMs: Math.round(drainMs),
    byTag: Object.fromEntries([...r.byTag].map(([tag, h]) => [tag, encodeHistogram(h)])),
  };
}

async function publish(cmd: PublishCmd): Promise<PublishResult> {
  const pubs = publishers.get(cmd.group ?? cmd.system);
  if (!pubs) throw new Error(`no publishers for ${cmd.group ?? cmd.system}`);
  const conns = pubs.conns;
  const channels = pubs.specs.map((s) => s.channel);
  const hist = newHistogram();
  const tags = pubs.specs.map((s) => s.tag ?? "all");
  const tagHists = new Map(tags.map((t) => [t, newHistogram()]));
  const origin = performance.timeOrigin;
  const start = cmd.t0Ms - origin;
  const stopAt = start + cmd.warmupMs + cmd.durationMs;
  // In the window exactly as the receivers decide it: by the stamped µs.
  const fromUs = (cmd.t0Ms + cmd.warmupMs) * 1000;
  const toUs = fromUs + cmd.durationMs * 1000;
  const intervalMs = (1000 * conns.length) / cmd.ratePerSec;
  const next = conns.map((_, i) => start + (i * intervalMs) / conns.length);
  // Colink: intended send time of each request in flight, by connection and id.
  const pending = conns.map(() => new Map<number, number>());
  let acks = 0;
  let errors = 0;
  let sent = 0;
  let sentInWindow = 0;
  let maxLagMs = 0;
  let key = 0;
  conns.forEach((conn, i) => {
    conn.onReply = (id, ok) => {
      const intended = pending[i]!.get(id);
      if (intended === undefined) return;
      pending[i]!.delete(id);
      if (intended < 0) return;
      if (ok) {
        acks++;
        const us = Math.max(1, Math.round((performance.now() - intended) * 1000));
        hist.recordValue(us);
        tagHists.get(tags[i]!)!.recordValue(us);
      } else errors++;
    };
  });
  await sleepUntil(start);
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now >= stopAt) return resolve();
      for (let i = 0; i < conns.length; i++) {
        let due = next[i]!;
        if (due > now) continue;
        const conn = conns[i]!;
        conn.cork();
        maxLagMs = Math.max(maxLagMs, now - due);
        while (due <= now && due < stopAt) {
          const k = key++;
          const sentUs = Math.round((origin + due) * 1000);
          const id = conn.publish(channels[i]!, k, sentUs, cmd.textBytes, `${cmd.runTag}-${k}`);
          const inWindow = sentUs >= fromUs && sentUs < toUs;
          if (id) pending[i]!.set(id, inWindow ? due : -1);
          sent++;
          if (inWindow) sentInWindow++;
          due += intervalMs;
        }
        next[i] = due;
      }
      // Sleep until the next send is due (timers tick at about 1 ms) instead of spinning.
      let soonest = Number.POSITIVE_INFINITY;
      for (const t of next) if (t < soonest) soonest = t;
      setTimeout(tick, Math.max(0, Math.min(soonest - performance.now(), 20)));
    };
    tick();
  });
  const waitUntil = performance.now() + cmd.ackWaitMs;
  while (pending.some((p) => p.size > 0) && performance.now() < waitUntil) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const unacked = pending.reduce((s, p) => s + p.size, 0);
  for (const conn of conns) conn.onReply = null;
  return {
    sent,
    sentInWindow,
    acks,
    errors,
    unacked,
    ackHistogram: encodeHistogram(hist),
    ackByTag: Object.fromEntries([...tagHists].map(([tag, h]) => [tag, encodeHistogram(h)])),
    maxLagMs: Math.round(maxLagMs),
  };
}

function disconnect(system: string): { closed: number } {
  let closed = 0;
  for (const c of subscribers.get(system)?.conns ?? []) {
    c.onClose = null;
    c.close();
    closed++;
  }
  for (const c of publishers.get(system)?.conns ?? []) {
    c.close();
    closed++;
  }
  subscribers.delete(system);
  publishers.delete(system);
  return { closed };
}

serveCommands(async (cmd) => {
  switch (cmd.kind) {
    case "subscribers":
    case "publishers":
      return connect(cmd as unknown as ConnectCmd);
    case "repair":
      return repair((cmd.group ?? cmd.system) as string);
    case "receive":
      return receive(cmd as unknown as ReceiveCmd);
    case "publish":
      return publish(cmd as unknown as PublishCmd);
    case "disconnect":
      return disconnect((cmd.group ?? cmd.system) as string);
    default:
      throw new Error(`unknown command ${cmd.kind}`);
  }
});
