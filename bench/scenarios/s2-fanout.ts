/**
 * S2, fan-out: one publisher per channel; 10, 100 and 1,000 subscribers per channel; 1
 * and 100 channels. Colink (every message a real `msg.send`, persisted and acked after
 * commit; subscribers `sub`scribed to the channels) against the peers: bare uWS pub/sub,
 * a plain `ws` broadcast loop, Socket.IO rooms. All systems are up at once, loaded by the
 * same generator code, and run alternately (colink, uws, ws, socketio, colink, …).
 *
 * - **Ladder** (one run per step): the offered rate grows geometrically, the same steps
 *   for every system, until deliveries stop keeping up (< 90% of offered), latency to the
 *   last subscriber explodes (its median > 100 ms), deliveries go missing, or the server closes
 *   subscribers; a step that saturated near the edge is run once more before the system
 *   stops climbing (a shared machine stalls now and then). Gives p99 against offered load.
 * - **Peak**: the best ladder step; the full suite measures it again with repeats (offered:
 *   what the system carried at that step, +10%).
 * - **Fixed rates** on a constant-rate schedule (latency from the intended send time, so
 *   no coordinated omission): 25/50/80% (quick: 50%) of the *common peak*, the lower of
 *   Colink's and bare uWS's, for every system that can carry it (the same offered load, so
 *   latencies compare); the full suite adds 25/50/80% of each system's own peak.
 * - **Ratios** (records with system `colink/<peer>`): peak deliveries, and the p99
 *   difference at the same offered rates; the issue's targets are checked and flagged.
 *
 * Deliveries/s counts deliveries that arrived inside the window. Latency: for each message
 * sent inside the window, to its first and to its last subscriber (a message not received
 * by every subscriber of its channel is counted `incomplete`, not in `last`).
 * With 100 channels there are at most 1,000 subscriber connections per system: each
 * subscribes to `channelsPerConn` channels (params say so).
 */
import type { Spawned } from "../../test/support/processes.js";
import type { ConnectCmd, PubSpec, SubSpec } from "../generators/fanout.js";
import { type ColinkTarget, withColink } from "../lib/colink-target.js";
import { colinkEndpoint, type Endpoint, peerNames, type SystemName } from "../lib/fanout-proto.js";
import { fanoutLoad, fmtRate, measureFanoutWindow, startFanoutGenerators } from "../lib/fanout-window.js";
import type { GenSession } from "../lib/gen-session.js";
import { ejabberdInstalled, startPeer } from "../lib/peers.js";
import { postgresPids } from "../lib/proc.js";
import { channel, runPrefix, users } from "../lib/provision.js";
import {
  type BenchContext,
  type BenchRecord,
  measure,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import { median, mergeEncoded, summarise } from "../lib/stats.js";

const { subscriberUsers, sourceAddresses, textBytes } = fanoutLoad;
/** Subscriber connections per system at most (more subscriptions: several channels per connection). */
const maxConnsPerSystem = 1000;
/** How long a system's connections may take to open and subscribe (ejabberd took 3.5 to
 * 7 minutes to fill 100 rooms of 1,000 occupants on the guests measured). */
const connectTimeoutMs = 600_000;
/** The publisher's limit: beyond this many publishes/s one process cannot keep the schedule. */
const maxPublishRate = 120_000;

interface Config {
  channels: number;
  subscribers: number;
}

interface Settings {
  warmupMs: number;
  durationMs: number;
  /** First ladder step and growth factor, in offered deliveries/s. */
  ladderStart: number;
  ladderFactor: number;
  ladderMaxSteps: number;
  /** Shares of a peak measured at a constant rate. */
  shares: number[];
  /** Whether peers are also run at their own shares (besides Colink's rates). */
  ownShares: boolean;
  /** Whether the peak is measured again with repeats (else the best ladder step). */
  repeatPeak: boolean;
}

/** One system under load: where it listens and which processes are its server. */
interface System {
  name: SystemName;
  endpoint: Endpoint;
  pids(): number[];
  /** Channel ids (Colink) or room names (peers), one per channel. */
  channels: string[];
}

/** What one run measured. */
interface RunResult extends RunOutcome {
  saturated: string | null;
}

export const s2: Scenario = {
  id: "S2",
  title: "Fan-out: publish to channels, deliveries/s and publish→deliver latency",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    // BENCH_S2_CONFIGS="100x1000,1x100" (channels×subscribers) picks points.
    const picked = process.env.BENCH_S2_CONFIGS?.split(",").map((c) => {
      const [channels, subscribers] = c.split("x").map(Number);
      return { channels: channels!, subscribers: subscribers! };
    });
    const configs: Config[] =
      picked ??
      (ctx.quick
        ? [{ channels: 1, subscribers: 100 }]
        : [1, 100].flatMap((channels) => [10, 100, 1000].map((subscribers) => ({ channels, subscribers }))));
    const settings: Settings = ctx.quick
      ? {
          warmupMs: 300,
          durationMs: 1000,
          ladderStart: 200_000,
          ladderFactor: 2,
          ladderMaxSteps: 6,
          shares: [0.5],
          ownShares: false,
          repeatPeak: false,
        }
      : {
          warmupMs: 500,
          durationMs: 2000,
          ladderStart: 40_000,
          ladderFactor: 1.6,
          ladderMaxSteps: 10,
          shares: [0.25, 0.5, 0.8],
          ownShares: true,
          repeatPeak: true,
        };
    const names: SystemName[] =
      ctx.target.kind === "remote"
        ? ["colink"]
        : ctx.quick
          ? ["colink", "uws"] // the quick point (1 channel × 100) has a target against uWS only
          : ["colink", ...peerNames, ...(ejabberdInstalled() ? (["ejabberd"] as const) : [])];
    if (!ctx.quick && ctx.target.kind === "local" && !ejabberdInstalled()) {
      ctx.progress("S2: ejabberd is not installed (apt-get install ejabberd): its peer is left out");
    }
    const records: BenchRecord[] = [];
    for (const cfg of configs) {
      const started = Date.now();
      await withColink(ctx, { store: "postgres" }, (target) =>
        runConfig(ctx, cfg, settings, names, target, records),
      );
      ctx.progress(
        `S2 ${cfg.channels}ch×${cfg.subscribers}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
    }
    return records;
  },
};

async function runConfig(
  ctx: BenchContext,
  cfg: Config,
  settings: Settings,
  names: SystemName[],
  target: ColinkTarget,
  records: BenchRecord[],
): Promise<void> {
  const label = `S2 ${cfg.channels}ch×${cfg.subscribers}`;
  const peers = new Map<SystemName, Spawned>();
  const gens: GenSession[] = [];
  /** Peers whose connections failed to open for this shape. */
  const leftOut: SystemName[] = [];
  try {
    // The systems: Colink with its channels, and the peers with rooms r0, r1, …
    const prefix = runPrefix("s2");
    const publishersUsers = await users(target.baseUrl, `${prefix}p`, cfg.channels, target.tokens);
    const subscriberTokens =
      target.tokens.length > 0
        ? publishersUsers.map((u) => u.token)
        : (await users(target.baseUrl, `${prefix}s`, subscriberUsers)).map((u) => u.token);
    const colinkChannels: string[] = [];
    for (let i = 0; i < cfg.channels; i += 20) {
      colinkChannels.push(
        ...(await Promise.all(
          publishersUsers.slice(i, i + 20).map((u, j) => channel(target.baseUrl, u, `${prefix}${i + j}`)),
        )),
      );
    }
    const systems: System[] = [];
    for (const name of names) {
      if (name === "colink") {
        systems.push({
          name,
          endpoint: colinkEndpoint(target.wsUrl),
          pids: () => target.pids(),
          channels: colinkChannels,
        });
      } else {
        const peer = await startPeer(name);
        peers.set(name, peer);
        systems.push({
          name,
          endpoint: { system: name, host: "127.0.0.1", port: peer.port },
          pids: () => [peer.pid],
          channels: Array.from({ length: cfg.channels }, (_, i) => `r${i}`),
        });
      }
    }

    // Generators: one publisher process, and subscriber processes.
    gens.push(...(await startFanoutGenerators()));
    const [pubGen, ...subGens] = gens as [GenSession, ...GenSession[]];

    // Subscriptions: connection j takes subscriptions j·k … j·k+k-1 (channel = index mod C).
    const subscriptions = cfg.channels * cfg.subscribers;
    const conns = Math.min(subscriptions, maxConnsPerSystem);
    const channelsPerConn = Math.ceil(subscriptions / conns);
    const params = {
      channels: cfg.channels,
      subscribers: cfg.subscribers,
      connections: conns,
      channelsPerConn,
    };
    for (const sys of [...systems]) {
      const t = Date.now();
      const specs: SubSpec[][] = subGens.map(() => []);
      for (let j = 0; j < conns; j++) {
        const channels = Array.from(
          { length: channelsPerConn },
          (_, i) => sys.channels[(j * channelsPerConn + i) % cfg.channels]!,
        );
        specs[j % subGens.length]!.push({
          channels,
          // Loopback targets: spread the sources over 127.0.2.x.
          ...(sys.endpoint.host === "127.0.0.1"
            ? { localAddress: `127.0.2.${1 + (j % sourceAddresses)}` }
            : {}),
          ...(sys.name === "colink" ? { token: subscriberTokens[j % subscriberTokens.length]! } : {}),
        });
      }
      const pubs: PubSpec[] = sys.channels.map((ch, i) => ({
        channel: ch,
        ...(sys.name === "colink" ? { token: publishersUsers[i]!.token } : {}),
      }));
      let connected: Array<{ retries: number }>;
      try {
        connected = await Promise.all([
          ...subGens.map((g, i) =>
            g.call<{ retries: number }>(
              {
                kind: "subscribers",
                endpoint: sys.endpoint,
                subs: specs[i]!,
                concurrency: 50,
              } satisfies ConnectCmd,
              connectTimeoutMs,
            ),
          ),
          pubGen.call<{ retries: number }>(
            {
              kind: "publishers",
              endpoint: sys.endpoint,
              pubs,
              concurrency: 20,
            } satisfies ConnectCmd,
            connectTimeoutMs,
          ),
        ]);
      } catch (err) {
        if (sys.name === "colink") throw err;
        // A peer that cannot take this shape (ejabberd's room joins slow down as rooms
        // fill) is left out of it, not the whole run. Stopping it ends the generators'
        // attempts; their connections to it are never measured.
        ctx.progress(
          `${label} ${sys.name}: left out of this shape, its connections failed: ${(err as Error).message.split("\n")[0]}`,
        );
        await peers.get(sys.name)?.stop();
        peers.delete(sys.name);
        systems.splice(systems.indexOf(sys), 1);
        leftOut.push(sys.name);
        continue;
      }
      const retried = connected.reduce((n, r) => n + r.retries, 0);
      ctx.progress(
        `${label} ${sys.name}: ${conns} subscriber connections × ${channelsPerConn} channels ready in ` +
          `${((Date.now() - t) / 1000).toFixed(1)} s${retried ? ` (${retried} dropped by the server and retried)` : ""}`,
      );
    }

    let runNo = 0;
    const runOnce = async (sys: System, deliveriesPerSec: number): Promise<RunResult> => {
      // Connections the server dropped since the last run are opened again first.
      const w = await measureFanoutWindow({
        system: sys.name,
        pubGen,
        subGens,
        ratePerSec: Math.min(maxPublishRate, deliveriesPerSec / cfg.subscribers),
        channels: cfg.channels,
        subscribers: cfg.subscribers,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
        textBytes,
        runTagPrefix: `r${runNo++}`,
        cpu: {
          server: () => sys.pids(),
          postgres: () => (sys.name === "colink" && ctx.target.kind === "local" ? postgresPids() : []),
          "generator-pub": () => [pubGen.pid],
          ...Object.fromEntries(subGens.map((g) => [`generator-${g.name}`, () => [g.pid]])),
        },
      });
      const { pub, first: f, last: l, saturated } = w;
      const seconds = settings.durationMs / 1000;
      const metrics: Record<string, number> = {
        offeredPerSec: Math.round(w.offered),
        deliveriesPerSec: Math.round(w.delivered),
        publishesPerSec: Math.round(w.publishesPerSec),
        firstP50: f.p50,
        firstP99: f.p99,
        firstP999: f.p999,
        lastP50: l.p50,
        lastP99: l.p99,
        lastP999: l.p999,
        missing: w.missing,
        incomplete: w.incomplete,
        closed: w.closed,
        publisherLagMs: pub.maxLagMs,
        drainMs: w.drainMs,
        stale: w.stale,
        reopened: w.reopened,
      };
      if (sys.name === "colink") {
        const ack = summarise(mergeEncoded([pub.ackHistogram]));
        Object.assign(metrics, {
          acksPerSec: Math.round(pub.acks / seconds),
          ackP50: ack.p50,
          ackP99: ack.p99,
          errors: pub.errors,
          unacked: pub.unacked,
        });
      }
      ctx.progress(
        `${label} ${sys.name} offered ${fmtRate(w.offered)}/s: ${fmtRate(w.delivered)}/s, ` +
          `p99 first ${f.p99} ms, last ${l.p99} ms${saturated ? ` [${saturated}]` : ""}`,
      );
      return { metrics, cpu: w.cpu, saturated };
    };

    const base = (sys: System, mode: string, extra: Record<string, string | number> = {}) => ({
      scenario: "S2",
      system: sys.name,
      params: {
        ...params,
        ...(sys.name === "colink" ? { store: "postgres", workers: target.workers } : {}),
        mode,
        ...extra,
      },
    });
    const recordOf = (sys: System, mode: string, outcomes: RunOutcome[], extra = {}) =>
      measure(base(sys, mode, extra), outcomes.length, async () => outcomes.shift()!);

    // 1. The ladder: the same offered rates for every system, alternately, until each saturates.
    const ladder = new Map<SystemName, Array<{ offered: number; result: RunResult }>>();
    for (const s of systems) ladder.set(s.name, []);
    let active = [...systems];
    let offered = settings.ladderStart;
    for (let step = 0; step < settings.ladderMaxSteps && active.length > 0; step++) {
      for (const sys of active) {
        const result = await runOnce(sys, offered);
        ladder.get(sys.name)!.push({ offered, result });
        records.push(await recordOf(sys, "ladder", [result], { offered: Math.round(offered) }));
      }
      // A step that saturated near the edge (≥ 70% delivered) runs once more, since on a
      // shared machine a process stalls now and then: a system stops climbing only when it
      // saturates twice at the same rate, or once far beyond what it can carry.
      const saturated = active.filter((s) => {
        const { result } = ladder.get(s.name)!.at(-1)!;
        return (
          result.saturated !== null && result.metrics.deliveriesPerSec! >= 0.7 * result.metrics.offeredPerSec!
        );
      });
      for (const sys of saturated) {
        const result = await runOnce(sys, offered);
        ladder.get(sys.name)!.push({ offered, result });
        records.push(await recordOf(sys, "ladder (again)", [result], { offered: Math.round(offered) }));
      }
      active = active.filter((s) => ladder.get(s.name)!.at(-1)!.result.saturated === null);
      if (offered / cfg.subscribers >= maxPublishRate) break;
      offered *= settings.ladderFactor;
    }

    // 2. The peak: the best ladder step (measured again with repeats in the full suite).
    const peakOutcomes = new Map<SystemName, RunOutcome[]>();
    const peakOffered = new Map<SystemName, number>();
    for (const sys of systems) {
      const steps = ladder.get(sys.name)!;
      const best = steps.reduce((a, b) =>
        b.result.metrics.deliveriesPerSec! > a.result.metrics.deliveriesPerSec! ? b : a,
      );
      // Offered: what the system carried at its best step (+10%), not the step's overload,
      // so that the repeats measure capacity without piling up seconds of backlog.
      peakOffered.set(sys.name, Math.min(best.offered, 1.1 * best.result.metrics.deliveriesPerSec!));
      peakOutcomes.set(sys.name, settings.repeatPeak ? [] : [best.result]);
    }
    if (settings.repeatPeak) {
      for (let rep = 0; rep < ctx.repeats; rep++) {
        for (const sys of systems) {
          peakOutcomes.get(sys.name)!.push(await runOnce(sys, peakOffered.get(sys.name)!));
        }
      }
    }
    const peak = new Map<SystemName, number>();
    const peakRuns = new Map<SystemName, number[]>();
    for (const sys of systems) {
      const outs = peakOutcomes.get(sys.name)!;
      peakRuns.set(
        sys.name,
        outs.map((o) => o.metrics.deliveriesPerSec!),
      );
      const rec = await recordOf(sys, "peak", [...outs], { offered: Math.round(peakOffered.get(sys.name)!) });
      if (sys.name === "colink")
        rec.flags.push(...leftOut.map((n) => `${n} left out of this shape: its connections did not open`));
      peak.set(sys.name, rec.metrics.deliveriesPerSec!);
      records.push(rec);
    }

    // 3. Constant rates. The common peak is the lower of Colink's and bare uWS's: every
    //    system runs at the same shares of it (the same offered load, so latencies compare),
    //    except where that is above its own peak. The full suite adds shares of each
    //    system's own peak (p99 against load up to each one's limit).
    const colinkPeak = peak.get("colink") ?? 0;
    const common = Math.min(
      colinkPeak || Number.POSITIVE_INFINITY,
      peak.get("uws") ?? Number.POSITIVE_INFINITY,
    );
    const atCommon = new Map<string, RunOutcome[]>();
    const skipped = new Map<SystemName, number[]>();
    for (const share of settings.shares) {
      const points: Array<{ sys: System; mode: string; offered: number }> = [];
      for (const sys of systems) {
        const own = peak.get(sys.name)!;
        if (Number.isFinite(common)) {
          if (common * share <= own)
            points.push({ sys, mode: `${share * 100}% of common peak`, offered: common * share });
          else skipped.set(sys.name, [...(skipped.get(sys.name) ?? []), share]);
        }
        if (settings.ownShares && own !== common)
          points.push({ sys, mode: `${share * 100}% of own peak`, offered: own * share });
      }
      const outcomes = points.map(() => [] as RunOutcome[]);
      for (let rep = 0; rep < ctx.repeats; rep++) {
        for (const [i, p] of points.entries()) outcomes[i]!.push(await runOnce(p.sys, p.offered));
      }
      for (const [i, p] of points.entries()) {
        if (p.mode.includes("common peak")) atCommon.set(`${share}:${p.sys.name}`, [...outcomes[i]!]);
        records.push(
          await recordOf(p.sys, p.mode, outcomes[i]!, {
            offered: Math.round(p.offered),
            ...(p.mode.includes("common peak") ? { commonPeak: Math.round(common) } : {}),
          }),
        );
      }
    }

    // 4. Ratios of Colink to each peer, per repeat pair (the runs alternate), then medians.
    if (peak.has("colink")) {
      for (const sys of systems.filter((s) => s.name !== "colink")) {
        const rec = ratioRecord(cfg, params, sys.name, peakRuns, atCommon, settings.shares);
        for (const share of skipped.get(sys.name) ?? [])
          rec.flags.push(`${sys.name} not run at ${share * 100}% of the common peak: above its own peak`);
        records.push(rec);
      }
    }
  } finally {
    await Promise.all(gens.map((g) => g.stop()));
    await Promise.all([...peers.values()].map((p) => p.stop()));
  }
}

/** Colink against one peer: peak deliveries ratio, and p99 differences at the same offered rates. */
function ratioRecord(
  cfg: Config,
  params: Record<string, number>,
  peer: SystemName,
  peakRuns: Map<SystemName, number[]>,
  atCommon: Map<string, RunOutcome[]>,
  shares: number[],
): BenchRecord {
  const c = peakRuns.get("colink")!;
  const p = peakRuns.get(peer)!;
  const ratios = c.map((v, i) => (p[i] ? v / p[i]! : Number.NaN));
  const metrics: Record<string, number> = {
    colinkPeak: Math.round(median(c)),
    peerPeak: Math.round(median(p)),
    peakRatio: Math.round(median(ratios) * 1000) / 1000,
  };
  const runs: Array<Record<string, number>> = ratios.map((r) => ({ peakRatio: r }));
  for (const share of shares) {
    const co = atCommon.get(`${share}:colink`) ?? [];
    const pe = atCommon.get(`${share}:${peer}`) ?? [];
    if (co.length === 0 || pe.length === 0) continue;
    const diff = (key: string) =>
      Math.round(median(co.map((o, i) => o.metrics[key]! - (pe[i]?.metrics[key] ?? Number.NaN))) * 1000) /
      1000;
    metrics[`lastP99DeltaMs@${share * 100}%`] = diff("lastP99");
    metrics[`firstP99DeltaMs@${share * 100}%`] = diff("firstP99");
  }
  const flags: string[] = [];
  const target =
    peer === "uws"
      ? cfg.subscribers === 1000
        ? 0.7
        : cfg.subscribers === 100
          ? 0.5
          : 0
      : peer === "socketio" && cfg.subscribers === 1000
        ? 4
        : 0;
  if (target > 0) {
    metrics.peakRatioTarget = target;
    if (!(metrics.peakRatio! >= target))
      flags.push(`target missed: colink/${peer} peak deliveries ${metrics.peakRatio} < ${target}`);
  }
  if (peer === "uws") {
    for (const share of shares) {
      const d = metrics[`lastP99DeltaMs@${share * 100}%`]!;
      if (d > 5)
        flags.push(
          `target missed: p99 to last subscriber ${d} ms above uWS at ${share * 100}% of the common peak (> 5 ms)`,
        );
    }
  }
  return {
    scenario: "S2",
    system: `colink/${peer}`,
    params: { ...params, mode: "ratio" },
    metrics,
    runs,
    cpu: {},
    flags,
  };
}
