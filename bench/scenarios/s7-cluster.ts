/**
 * S7, the cost of the Redis hop: the S2 fan-out (1 publisher per channel, 10 channels ×
 * 100 subscribers) on two Colink clusters that are up side by side and run alternately:
 *
 * - **1-node**: one node with Postgres *and* Redis (REDIS_URL set, so it runs the cluster
 *   machinery: leases, events published on Redis), every client on it;
 * - **2-node**: two nodes sharing a schema and a Redis; each channel's subscribers half on
 *   its owner and half on the other node, its publisher on the owner for half of the
 *   channels and on the other node for the other half. So about half of the deliveries
 *   cross Redis (event published by the owner, delivered by the other node) and half of
 *   the sends are forwarded (request and reply over Redis). The channels are picked so
 *   that each node owns half of them.
 *
 * Both clusters settle first (every shard leased, each node holding some). Measured:
 *
 * - **Ladder and peak** of deliveries/s, as S2 (the same offered steps for both,
 *   alternately, until deliveries stop keeping up; a step saturated near the edge runs
 *   once more, in the quick form (`npm run bench -- --only S7`, ~25 s) once per cluster at most); the full suite
 *   measures each peak again with repeats.
 * - **Fixed rates**: publish→deliver latency at 50% (full: 25/50/80%) of the common peak
 *   (the lower of the two), on a constant-rate schedule: every delivery (`all`), split by
 *   where the subscriber is (`local`: on the channel's owner; `remote`: on the other node,
 *   via Redis), and to the first and the last subscriber of each message.
 * - **Request and reply**: `msg.send` ack latency at a fixed rate on channels without
 *   subscribers, each channel sent to from a connection on its owner (`owner`) and from one
 *   on the other node (`forwarded`, over Redis both ways); on 1-node both are on the node.
 * - **Ratio** (system `2-node/1-node`): peak deliveries 2-node/1-node, and the p99
 *   differences (2-node − 1-node) at the same offered rates; the forwarded − owner ack p99.
 *
 * All of it runs on one machine: the 2-node cluster has two server processes, where the
 * 1-node has one, sharing the same cores with Redis, Postgres and the generators, so its
 * peak shows the hop's CPU cost, not the capacity a second machine would add.
 */

import { shardOf } from "../../actors/runtime/placement.js";
import { type Cluster, clusterSettled, leaseHolders, startCluster } from "../../test/support/cluster.js";
import { limitsOutOfReach } from "../../test/support/limits.js";
import type { ConnectCmd, PublishCmd, PublishResult, PubSpec, SubSpec } from "../generators/fanout.js";
import { defaultBenchWorkers } from "../lib/colink-target.js";
import { colinkEndpoint, wallMs } from "../lib/fanout-proto.js";
import { fanoutLoad, fmtRate, measureFanoutWindow, startFanoutGenerators } from "../lib/fanout-window.js";
import type { GenSession } from "../lib/gen-session.js";
import { CpuMeter, postgresPids } from "../lib/proc.js";
import { type BenchUser, channel, runPrefix, users } from "../lib/provision.js";
import {
  type BenchContext,
  type BenchRecord,
  measure,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import { median, mergeEncoded, summarise } from "../lib/stats.js";

const { subscriberUsers, sourceAddresses, textBytes } = fanoutLoad;

interface Settings {
  channels: number;
  subscribers: number;
  warmupMs: number;
  durationMs: number;
  ladderStart: number;
  ladderFactor: number;
  ladderMaxSteps: number;
  shares: number[];
  /** How many times per cluster a step saturated near the edge runs once more (quick: once, for its time budget). */
  edgeRetries: number;
  repeatPeak: boolean;
  /** Runs per fixed-rate and request/reply point. */
  repeats: number;
  /** Request and reply: channels, sends/s over all of them, window. */
  ackChannels: number;
  ackRatePerSec: number;
  ackDurationMs: number;
}

/** One of the two clusters, with its channels and who owns them. */
interface Setup {
  name: "1-node" | "2-node";
  cluster: Cluster;
  /** Fan-out channels and the index of the node owning each. */
  channels: string[];
  owners: number[];
  /** Request/reply channels and their owners. */
  ackChannels: string[];
  ackOwners: number[];
  /** The channels' creators (members, so they may send), fan-out channels first. */
  creators: BenchUser[];
}

interface RunResult extends RunOutcome {
  saturated: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const round3 = (n: number) => Math.round(n * 1000) / 1000;

export const s7: Scenario = {
  id: "S7",
  title: "Cluster: the cost of the Redis hop, 2 nodes + Redis against 1 node",
  fullSuiteOnly: true,
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    if (ctx.target.kind === "remote") {
      ctx.progress("S7 starts its own clusters: skipped against a remote target");
      return [];
    }
    const settings: Settings = ctx.quick
      ? {
          channels: 10,
          subscribers: 100,
          warmupMs: 300,
          durationMs: 1000,
          ladderStart: 150_000,
          ladderFactor: 2,
          ladderMaxSteps: 3,
          shares: [0.5],
          edgeRetries: 1,
          repeatPeak: false,
          repeats: 1,
          ackChannels: 8,
          ackRatePerSec: 1000,
          ackDurationMs: 1000,
        }
      : {
          channels: 10,
          subscribers: 100,
          warmupMs: 500,
          durationMs: 2000,
          ladderStart: 40_000,
          ladderFactor: 1.6,
          ladderMaxSteps: 10,
          shares: [0.25, 0.5, 0.8],
          edgeRetries: Number.POSITIVE_INFINITY,
          repeatPeak: true,
          repeats: ctx.repeats,
          ackChannels: 8,
          ackRatePerSec: 1000,
          ackDurationMs: 3000,
        };
    const started = Date.now();
    const env = {
      COLINK_WORKERS: String(defaultBenchWorkers),
      // Load tests open many connections from few users and send fast (see withColink).
      COLINK_MAX_PENDING_REQUESTS: "100000",
      ...limitsOutOfReach,
    };
    const clusters: Cluster[] = [];
    const gens: GenSession[] = [];
    const records: BenchRecord[] = [];
    try {
      // Side by side, each with its own Redis and schema; started at once to save time.
      const started2 = await Promise.allSettled([startCluster(1, { env }), startCluster(2, { env })]);
      for (const r of started2) if (r.status === "fulfilled") clusters.push(r.value);
      for (const r of started2) if (r.status === "rejected") throw r.reason;
      await Promise.all(
        clusters.map((c) => clusterSettled(c.nodes, c.redis.url, { shards: c.shards, timeoutMs: 60_000 })),
      );
      ctx.progress(`S7 clusters settled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      gens.push(...(await startFanoutGenerators()));
      const setups = await Promise.all(
        clusters.map(async (cluster, i) => {
          const setup = await provision(cluster, i === 0 ? "1-node" : "2-node", settings);
          await connect(ctx, setup, settings, gens);
          return setup;
        }),
      );
      await measureAll(ctx, settings, setups, gens, records);
    } finally {
      await Promise.all(gens.map((g) => g.stop()));
      await Promise.all(clusters.map((c) => c.cleanup()));
    }
    ctx.progress(`S7 done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return records;
  },
};

/** The owner's node index of each shard, as the leases say. */
async function ownerIndex(cluster: Cluster): Promise<(channelId: string) => number> {
  const holders = await leaseHolders(cluster.redis.url, cluster.shards);
  return (channelId) => {
    const holder = holders.get(shardOf(channelId, cluster.shards));
    const index = holder === undefined ? -1 : Number(holder.replace(/^node-/, ""));
    if (!(index >= 0 && index < cluster.nodes.length))
      throw new Error(`S7: no owner for channel ${channelId} (lease holder ${holder})`);
    return index;
  };
}

/**
 * Users and channels: channel i is owned by node i mod N (a channel landing elsewhere is
 * left unused and another one made), so that each node owns its share.
 */
async function provision(cluster: Cluster, name: Setup["name"], settings: Settings): Promise<Setup> {
  const base = cluster.nodes[0]!.baseUrl;
  const ownerOf = await ownerIndex(cluster);
  const prefix = runPrefix(`s7${cluster.nodes.length}`);
  const count = settings.channels + settings.ackChannels;
  const creators = await users(base, `${prefix}p`, count);
  let made = 0;
  const pick = async (creator: BenchUser, want: number) => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const id = await channel(base, creator, `${prefix}${made++}`);
      if (ownerOf(id) === want) return id;
    }
    throw new Error(`S7: no channel owned by node-${want} in 40 attempts`);
  };
  const channels: string[] = [];
  const owners: number[] = [];
  for (let i = 0; i < count; i++) {
    const want = i % cluster.nodes.length;
    channels.push(await pick(creators[i]!, want));
    owners.push(want);
  }
  return {
    name,
    cluster,
    channels: channels.slice(0, settings.channels),
    owners: owners.slice(0, settings.channels),
    ackChannels: channels.slice(settings.channels),
    ackOwners: owners.slice(settings.channels),
    creators,
  };
}

/** Opens the subscriber, publisher and request/reply connections of a setup. */
async function connect(
  ctx: BenchContext,
  setup: Setup,
  settings: Settings,
  gens: GenSession[],
): Promise<void> {
  const { cluster, name, creators } = setup;
  const n = cluster.nodes.length;
  const endpointOf = (node: number) => colinkEndpoint(cluster.nodes[node]!.wsUrl);
  const other = (node: number) => (node + 1) % n;
  const t = Date.now();
  const [pubGen, ...subGens] = gens as [GenSession, ...GenSession[]];
  const subTokens = (await users(cluster.nodes[0]!.baseUrl, `${runPrefix(`s7${n}`)}s`, subscriberUsers)).map(
    (u) => u.token,
  );

  // Subscriber k of channel c: on node k mod N (half on the owner, half on the other node).
  const C = setup.channels.length;
  const conns = C * settings.subscribers;
  const specs: SubSpec[][] = subGens.map(() => []);
  for (let j = 0; j < conns; j++) {
    const c = j % C;
    const node = Math.floor(j / C) % n;
    specs[j % subGens.length]!.push({
      channels: [setup.channels[c]!],
      endpoint: endpointOf(node),
      tag: node === setup.owners[c] ? "local" : "remote",
      localAddress: `127.0.2.${1 + (j % sourceAddresses)}`,
      token: subTokens[j % subTokens.length]!,
    });
  }
  // Publisher of channel i: on node ⌊i/2⌋ mod N; with channel i owned by node i mod N,
  // half of them are on the owner and the publishers are spread over the nodes.
  const pubs: PubSpec[] = setup.channels.map((ch, i) => {
    const node = Math.floor(i / 2) % n;
    return {
      channel: ch,
      token: creators[i]!.token,
      endpoint: endpointOf(node),
      tag: node === setup.owners[i] ? "owner" : "forwarded",
    };
  });
  // Request/reply: each channel from its owner and from the other node (on 1-node: twice from the node).
  const ackPubs: PubSpec[] = setup.ackChannels.flatMap((ch, i) => {
    const owner = setup.ackOwners[i]!;
    const token = creators[setup.channels.length + i]!.token;
    return [owner, other(owner)].map((node) => ({
      channel: ch,
      token,
      endpoint: endpointOf(node),
      tag: node === owner ? "owner" : "forwarded",
    }));
  });
  const endpoint = endpointOf(0);
  const connected = await Promise.all([
    ...subGens.map((g, i) =>
      g.call<{ retries: number }>({
        kind: "subscribers",
        endpoint,
        group: name,
        subs: specs[i]!,
        concurrency: 50,
      } satisfies ConnectCmd),
    ),
    pubGen.call<{ retries: number }>({
      kind: "publishers",
      endpoint,
      group: name,
      pubs,
      concurrency: 20,
    } satisfies ConnectCmd),
    pubGen.call<{ retries: number }>({
      kind: "publishers",
      endpoint,
      group: `${name} ack`,
      pubs: ackPubs,
      concurrency: 20,
    } satisfies ConnectCmd),
  ]);
  const retried = connected.reduce((s, r) => s + r.retries, 0);
  ctx.progress(
    `S7 ${name}: ${conns} subscribers, ${pubs.length} publishers, ${ackPubs.length} senders ready in ` +
      `${((Date.now() - t) / 1000).toFixed(1)} s${retried ? ` (${retried} retried)` : ""}`,
  );
}

/** The ladder, the peaks, the fixed rates, request/reply and the ratio. */
async function measureAll(
  ctx: BenchContext,
  settings: Settings,
  setups: Setup[],
  gens: GenSession[],
  records: BenchRecord[],
): Promise<void> {
  const [pubGen, ...subGens] = gens as [GenSession, ...GenSession[]];
  const { channels, subscribers } = settings;
  const params = { channels, subscribers, connections: channels * subscribers };
  const cpuGroups = (setup: Setup) => ({
    ...Object.fromEntries(setup.cluster.nodes.map((node, i) => [`node-${i}`, () => [node.pid]])),
    redis: () => [setup.cluster.redis.pid].filter((p) => p > 0),
    postgres: () => postgresPids(),
    "generator-pub": () => [pubGen.pid],
    ...Object.fromEntries(subGens.map((g) => [`generator-${g.name}`, () => [g.pid]])),
  });
  let runNo = 0;

  const fanOnce = async (setup: Setup, deliveriesPerSec: number): Promise<RunResult> => {
    const w = await measureFanoutWindow({
      system: "colink",
      group: setup.name,
      pubGen,
      subGens,
      ratePerSec: deliveriesPerSec / subscribers,
      channels,
      subscribers,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
      textBytes,
      runTagPrefix: `s7r${runNo++}`,
      cpu: cpuGroups(setup),
      tags: ["local", "remote"],
    });
    const { pub, first: f, last: l, saturated } = w;
    const { all, byTag } = w.tagged!;
    const ack = summarise(mergeEncoded([pub.ackHistogram]));
    const metrics: Record<string, number> = {
      offeredPerSec: Math.round(w.offered),
      deliveriesPerSec: Math.round(w.delivered),
      publishesPerSec: Math.round(w.publishesPerSec),
      allP50: all.p50,
      allP99: all.p99,
      localP99: byTag.local!.p99,
      ...(setup.cluster.nodes.length > 1
        ? { remoteP50: byTag.remote!.p50, remoteP99: byTag.remote!.p99 }
        : {}),
      firstP99: f.p99,
      lastP50: l.p50,
      lastP99: l.p99,
      ackP50: ack.p50,
      ackP99: ack.p99,
      missing: w.missing,
      incomplete: w.incomplete,
      closed: w.closed,
      errors: pub.errors,
      publisherLagMs: pub.maxLagMs,
      drainMs: w.drainMs,
      stale: w.stale,
      reopened: w.reopened,
    };
    ctx.progress(
      `S7 ${setup.name} offered ${fmtRate(w.offered)}/s: ${fmtRate(w.delivered)}/s, p99 all ${all.p99} ms, ` +
        `last ${l.p99} ms${saturated ? ` [${saturated}]` : ""}`,
    );
    return { metrics, cpu: w.cpu, saturated };
  };

  const ackOnce = async (setup: Setup): Promise<RunOutcome> => {
    const t0 = wallMs() + 200;
    const warmupMs = 300;
    const durationMs = settings.ackDurationMs;
    const meter = new CpuMeter(cpuGroups(setup));
    const pubP = pubGen.call<PublishResult>({
      kind: "publish",
      system: "colink",
      group: `${setup.name} ack`,
      t0Ms: t0,
      warmupMs,
      durationMs,
      ratePerSec: settings.ackRatePerSec,
      textBytes,
      runTag: `s7a${runNo++}t${Date.now().toString(36)}`,
      ackWaitMs: 5000,
    } satisfies PublishCmd);
    await sleep(t0 + warmupMs - wallMs());
    meter.begin();
    await sleep(t0 + warmupMs + durationMs - wallMs());
    const cpu = meter.end();
    const pub = await pubP;
    const all = summarise(mergeEncoded([pub.ackHistogram]));
    const metrics: Record<string, number> = {
      offeredPerSec: settings.ackRatePerSec,
      acksPerSec: Math.round(pub.acks / (durationMs / 1000)),
      p50: all.p50,
      p99: all.p99,
      errors: pub.errors,
      unacked: pub.unacked,
    };
    for (const [tag, h] of Object.entries(pub.ackByTag)) {
      const s = summarise(mergeEncoded([h]));
      metrics[`${tag}P50`] = s.p50;
      metrics[`${tag}P99`] = s.p99;
      metrics[`${tag}P999`] = s.p999;
    }
    ctx.progress(
      `S7 ${setup.name} request/reply at ${settings.ackRatePerSec}/s: ack p99 owner ${metrics.ownerP99} ms` +
        (metrics.forwardedP99 !== undefined ? `, forwarded ${metrics.forwardedP99} ms` : ""),
    );
    return { metrics, cpu };
  };

  const base = (setup: Setup, mode: string, extra: Record<string, string | number> = {}) => ({
    scenario: "S7",
    system: setup.name,
    params: {
      ...params,
      nodes: setup.cluster.nodes.length,
      workers: defaultBenchWorkers,
      mode,
      ...extra,
    },
  });
  const recordOf = (setup: Setup, mode: string, outcomes: RunOutcome[], extra = {}) =>
    measure(base(setup, mode, extra), outcomes.length, async () => outcomes.shift()!);

  // 1. The ladder, alternately, until each saturates (a step saturated near the edge runs again).
  const ladder = new Map<string, Array<{ offered: number; result: RunResult }>>();
  for (const s of setups) ladder.set(s.name, []);
  let active = [...setups];
  let offered = settings.ladderStart;
  const retried = new Map<string, number>();
  for (let step = 0; step < settings.ladderMaxSteps && active.length > 0; step++) {
    for (const setup of active) {
      const result = await fanOnce(setup, offered);
      ladder.get(setup.name)!.push({ offered, result });
      records.push(await recordOf(setup, "ladder", [result], { offered: Math.round(offered) }));
    }
    const again = active.filter((s) => {
      const { result } = ladder.get(s.name)!.at(-1)!;
      return (
        (retried.get(s.name) ?? 0) < settings.edgeRetries &&
        result.saturated !== null &&
        result.metrics.deliveriesPerSec! >= 0.7 * result.metrics.offeredPerSec!
      );
    });
    for (const setup of again) {
      retried.set(setup.name, (retried.get(setup.name) ?? 0) + 1);
      const result = await fanOnce(setup, offered);
      ladder.get(setup.name)!.push({ offered, result });
      records.push(await recordOf(setup, "ladder (again)", [result], { offered: Math.round(offered) }));
    }
    active = active.filter((s) => ladder.get(s.name)!.at(-1)!.result.saturated === null);
    offered *= settings.ladderFactor;
  }
  const unsaturated = active.map((s) => s.name);

  // 2. The peaks: the best ladder step (the full suite runs it again with repeats, alternately).
  const peakOffered = new Map<string, number>();
  const peakOutcomes = new Map<string, RunOutcome[]>();
  for (const setup of setups) {
    const best = ladder
      .get(setup.name)!
      .reduce((a, b) => (b.result.metrics.deliveriesPerSec! > a.result.metrics.deliveriesPerSec! ? b : a));
    peakOffered.set(setup.name, Math.min(best.offered, 1.1 * best.result.metrics.deliveriesPerSec!));
    peakOutcomes.set(setup.name, settings.repeatPeak ? [] : [best.result]);
  }
  if (settings.repeatPeak) {
    for (let rep = 0; rep < settings.repeats; rep++) {
      for (const setup of setups) {
        peakOutcomes.get(setup.name)!.push(await fanOnce(setup, peakOffered.get(setup.name)!));
      }
    }
  }
  const peakRuns = new Map<string, number[]>();
  const peak = new Map<string, number>();
  for (const setup of setups) {
    const outs = peakOutcomes.get(setup.name)!;
    peakRuns.set(
      setup.name,
      outs.map((o) => o.metrics.deliveriesPerSec!),
    );
    const rec = await recordOf(setup, "peak", [...outs], {
      offered: Math.round(peakOffered.get(setup.name)!),
    });
    if (unsaturated.includes(setup.name))
      rec.flags.push(`not saturated at the ladder's last step: the peak is at least this`);
    peak.set(setup.name, rec.metrics.deliveriesPerSec!);
    records.push(rec);
  }

  // 3. Fixed rates: shares of the common peak (the lower one), alternately.
  const common = Math.min(...peak.values());
  const atShare = new Map<string, RunOutcome[]>();
  for (const share of settings.shares) {
    const rate = common * share;
    const outcomes = setups.map(() => [] as RunOutcome[]);
    for (let rep = 0; rep < settings.repeats; rep++) {
      for (const [i, setup] of setups.entries()) outcomes[i]!.push(await fanOnce(setup, rate));
    }
    for (const [i, setup] of setups.entries()) {
      atShare.set(`${share}:${setup.name}`, [...outcomes[i]!]);
      records.push(
        await recordOf(setup, `${share * 100}% of common peak`, outcomes[i]!, {
          offered: Math.round(rate),
          commonPeak: Math.round(common),
        }),
      );
    }
  }

  // 4. Request and reply: owner against forwarded sends, alternately.
  const ackOutcomes = setups.map(() => [] as RunOutcome[]);
  for (let rep = 0; rep < settings.repeats; rep++) {
    for (const [i, setup] of setups.entries()) ackOutcomes[i]!.push(await ackOnce(setup));
  }
  const ackRecords: BenchRecord[] = [];
  for (const [i, setup] of setups.entries()) {
    const rec = await recordOf(setup, "request/reply", [...ackOutcomes[i]!], {
      offered: settings.ackRatePerSec,
      channels: settings.ackChannels,
      subscribers: 0,
      connections: settings.ackChannels * 2,
    });
    ackRecords.push(rec);
    records.push(rec);
  }

  // 5. The ratio of 2-node to 1-node, per alternate pair of runs, then medians.
  const one = setups[0]!.name;
  const two = setups[1]!.name;
  const p1 = peakRuns.get(one)!;
  const p2 = peakRuns.get(two)!;
  const ratios = p2.map((v, i) => (p1[i] ? v / p1[i]! : Number.NaN));
  const metrics: Record<string, number> = {
    peak1Node: Math.round(median(p1)),
    peak2Node: Math.round(median(p2)),
    peakRatio: round3(median(ratios)),
  };
  for (const share of settings.shares) {
    const a = atShare.get(`${share}:${one}`) ?? [];
    const b = atShare.get(`${share}:${two}`) ?? [];
    const diff = (key: string) =>
      round3(median(b.map((o, i) => o.metrics[key]! - (a[i]?.metrics[key] ?? Number.NaN))));
    metrics[`allP99DeltaMs@${share * 100}%`] = diff("allP99");
    metrics[`lastP99DeltaMs@${share * 100}%`] = diff("lastP99");
    metrics[`remoteMinusLocalP99Ms@${share * 100}%`] = round3(
      median(b.map((o) => o.metrics.remoteP99! - o.metrics.localP99!)),
    );
    metrics[`ackP99DeltaMs@${share * 100}%`] = diff("ackP99");
  }
  const ack2 = ackRecords[1]!.metrics;
  const ack1 = ackRecords[0]!.metrics;
  metrics.ackForwardedMinusOwnerP50Ms = round3(ack2.forwardedP50! - ack2.ownerP50!);
  metrics.ackForwardedMinusOwnerP99Ms = round3(ack2.forwardedP99! - ack2.ownerP99!);
  metrics.ack2NodeOwnerMinus1NodeP99Ms = round3(ack2.ownerP99! - ack1.ownerP99!);
  records.push({
    scenario: "S7",
    system: `${two}/${one}`,
    params: { ...params, mode: "ratio" },
    metrics,
    runs: ratios.map((r) => ({ peakRatio: r })),
    cpu: {},
    flags: [],
  });
}
