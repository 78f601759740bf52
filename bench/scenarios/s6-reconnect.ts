/**
 * S6, reconnect storm: thousands of subscribed clients drop at once (no close
 * handshake) while a publisher keeps posting into their channels, then reconnect with
 * the SDK's jitter and resume every channel with `sub {channelId, sinceSeq}`.
 *
 * Measured:
 * - `catchUpMs`: from the drop until every client had every event of its channels that
 *   was published (acknowledged to the publisher) before the storm ended, the storm
 *   ending when the last client had its `sub` replies;
 * - `resumedMs`: from the drop until the last client had its `sub` replies, and each
 *   client's time to that point (p50, p99);
 * - `lost` (a seq a client should have had and never got) and `duplicated` (a seq a
 *   client got twice); both must be 0 (invariant 5). For these and the other failure
 *   counts (`subTimeouts`, `resyncs`, `unresumed` …) a record shows the *worst* run, not
 *   the median, and any non-zero is flagged;
 * - where the reconnect time goes: each client's WebSocket upgrade and its `sub` replies
 *   (p50, p99), and the kernel's listen-queue overflows and SYN retransmissions;
 * - the CPU of Colink, Postgres, every generator process and the publisher.
 *
 * Points (`S6_POINTS=instant` or `=deep` runs one of them):
 * - `instant`: the clients come back at once with the SDK's default jitter; the gap is
 *   small and replayed from the channel actor's memory. 1,000 clients in the quick suite,
 *   10,000 in the full one (target: every client caught up in under 15 s).
 * - `deep`: the clients stay down while more events than a channel actor keeps in memory
 *   (512) pile up in busy channels, so the replay comes from the store. 200 clients (quick)
 *   or 400 (full).
 * Every client subscribes to 2 of a few channels and signs in as one of a few users.
 * Colink runs on Postgres with COLINK_REPLAY_LIMIT at its maximum, so no resume should
 * need a resync; resyncs are counted if they happen. Against a remote target (--target),
 * --tokens must hold one token per user plus one for the publisher (17, or 33 with --full).
 *
 * Processes meet through a rendezvous directory (bench/lib/rendezvous.ts): the
 * subscriber generators post `ready-i`, the publisher `publisher-ready`; this process
 * posts `go` (the drop time), waits for every `resumed-i`, posts `stop` to the publisher,
 * reads each channel's final seq and posts it as `final`.
 */

import { readFileSync } from "node:fs";
import type { StormResult, StormTask } from "../generators/reconnect-storm.js";
import type { PublisherResult, PublisherTask } from "../generators/storm-publisher.js";
import { type ColinkTarget, withColink } from "../lib/colink-target.js";
import { type Generator, startGenerators } from "../lib/generators.js";
import { CpuMeter, postgresPids } from "../lib/proc.js";
import { type BenchUser, channel, join, runPrefix, users } from "../lib/provision.js";
import { Rendezvous, wallNow } from "../lib/rendezvous.js";
import {
  type BenchContext,
  type BenchRecord,
  measure,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import { mergeEncoded, summarise } from "../lib/stats.js";

const stormModule = "generators/reconnect-storm.ts";
const publisherModule = "generators/storm-publisher.ts";

/** Most sockets per generator process (the hard limit on open files is 20,000 per process). */
const clientsPerGenerator = 2500;
/** Reconnect delays of the SDK's defaults (client/backoff.ts): full jitter, first ceiling 200 ms. */
const sdkJitter = { minDelayMs: 200, maxDelayMs: 10_000 };
/** The SDK's default request timeout: a `sub` unanswered this long is a failure. */
const subTimeoutMs = 10_000;
/** How much longer a timed-out `sub` is watched, to tell a late reply from none. */
const probeMs = 10_000;
/** The most COLINK_REPLAY_LIMIT allows. */
const replayLimit = 1_000_000;
/** Catch-up target for 10,000 clients (issue 4). */
const targetMs = 15_000;
/** Metrics that report the worst run (any failure must show), not the median. */
const worstOf = [
  "lost",
  "duplicated",
  "lossyClients",
  "duplicatingClients",
  "unresumed",
  "subTimeouts",
  "subNeverAnswered",
  "subErrors",
  "resyncs",
  "serverCloses",
  "connectFailures",
  "publishErrors",
];

/** One configuration of the storm. */
export interface StormPoint {
  name: "instant" | "deep";
  clients: number;
  channels: number;
  /** Channels each client subscribes to. */
  perClient: number;
  /** Distinct users the clients sign in as. */
  users: number;
  /** Steady messages per second into each channel. */
  ratePerChannel: number;
  /** Reconnect delays (full jitter: uniform in [0, min·2^attempt), capped at max). */
  jitter: { minDelayMs: number; maxDelayMs: number };
  /** How long the clients stay down before their jittered reconnect. */
  downMs: number;
  /** Extra messages per channel while they are down. */
  backlogPerChannel: number;
  /** Steady flow before the storm, and live events after it (shorter in the quick suite). */
  beforeMs: number;
  afterMs: number;
}

function points(quick: boolean): StormPoint[] {
  const only = process.env.S6_POINTS?.split(",");
  return allPoints(quick).filter((p) => !only || only.includes(p.name));
}

function allPoints(quick: boolean): StormPoint[] {
  const base = {
    channels: 4,
    perClient: 2,
    users: 16,
    jitter: sdkJitter,
    beforeMs: quick ? 800 : 1500,
    afterMs: quick ? 600 : 1000,
  };
  // The gap is replayed from the store: more events per channel than a channel actor
  // keeps in memory (512), posted while the clients are down, with a busy steady flow.
  const deep: StormPoint = {
    ...base,
    name: "deep",
    clients: quick ? 200 : 400,
    ratePerChannel: 50,
    downMs: quick ? 1500 : 3000,
    backlogPerChannel: 600,
  };
  if (quick) {
    return [
      { ...base, name: "instant", clients: 1000, ratePerChannel: 10, downMs: 0, backlogPerChannel: 0 },
      deep,
    ];
  }
  return [
    {
      ...base,
      name: "instant",
      clients: 10_000,
      channels: 8,
      users: 32,
      ratePerChannel: 2,
      downMs: 0,
      backlogPerChannel: 0,
    },
    deep,
  ];
}

/** Spreads sources over 127.0.6.x (local targets only): a few addresses per generator. */
function sourceAddresses(target: ColinkTarget, generator: number): string[] {
  if (!/^wss?:\/\/(127\.|localhost)/.test(target.wsUrl)) return [];
  return Array.from({ length: 4 }, (_, k) => `127.0.6.${10 + generator * 4 + k}`);
}

/**
 * Kernel TCP counters of this network namespace (Linux), zero elsewhere: listen-queue
 * overflows (a connection attempt the server's accept queue had no room for; the client
 * retries its SYN after 1 s, 3 s, 7 s …) and SYN retransmissions. They are shared by
 * every process on the machine, so a concurrent run elsewhere adds to them.
 */
function tcpCounters(): { listenOverflows: number; synRetrans: number } {
  try {
    const lines = readFileSync("/proc/net/netstat", "utf8").split("\n");
    const i = lines.findIndex((l) => l.startsWith("TcpExt:"));
    const keys = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/).map(Number);
    const get = (k: string) => values[keys.indexOf(k)] ?? 0;
    return { listenOverflows: get("ListenOverflows"), synRetrans: get("TCPSynRetrans") };
  } catch {
    return { listenOverflows: 0, synRetrans: 0 };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Each channel's last seq, as the server says. */
async function lastSeqs(
  baseUrl: string,
  owner: BenchUser,
  channels: string[],
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const id of channels) {
    const res = await fetch(`${baseUrl}/v1/channels/${id}`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    if (!res.ok) throw new Error(`GET /v1/channels/${id}: ${res.status}`);
    out[id] = ((await res.json()) as { channel: { lastSeq: number } }).channel.lastSeq;
  }
  return out;
}

/**
 * One storm against one Colink; returns the metrics and the CPU, and adds descriptions of
 * failures to `examples`. Exported for ad-hoc runs (a profiled server, say).
 */
export async function stormOnce(
  ctx: BenchContext,
  target: ColinkTarget,
  point: StormPoint,
  setup: { owner: BenchUser; tokens: string[]; channels: string[] },
  examples: string[],
): Promise<RunOutcome> {
  const rv = Rendezvous.create("s6");
  const started: Array<Generator<unknown>> = [];
  try {
    const gens = Math.ceil(point.clients / clientsPerGenerator);
    const tasks: StormTask[] = Array.from({ length: gens }, (_, g) => {
      const from = Math.floor((point.clients * g) / gens);
      const to = Math.floor((point.clients * (g + 1)) / gens);
      return {
        index: g,
        wsUrl: target.wsUrl,
        rendezvous: rv.dir,
        channels: setup.channels,
        tokens: setup.tokens,
        clients: Array.from({ length: to - from }, (_, j) => {
          const i = from + j;
          return {
            user: i % setup.tokens.length,
            channels: Array.from({ length: point.perClient }, (_, k) => (i + k) % point.channels),
          };
        }),
        localAddresses: sourceAddresses(target, g),
        jitter: point.jitter,
        downMs: point.downMs,
        connectConcurrency: 64,
        connectTimeoutMs: 10_000,
        subTimeoutMs,
        probeMs,
        setupTimeoutMs: 120_000,
        resumeDeadlineMs: point.downMs + 60_000,
        settleTimeoutMs: 15_000,
      };
    });
    const storm = startGenerators<StormTask, StormResult>(stormModule, tasks);
    started.push(...storm);
    let failure: string | null = null;
    for (const g of storm) {
      g.result.catch((err: unknown) => {
        failure ??= String(err);
      });
    }
    const abort = () => failure;
    const setupStart = performance.now();
    for (let g = 0; g < gens; g++) await rv.wait(`ready-${g}`, 180_000, { abort, pollMs: 50 });
    const setupMs = performance.now() - setupStart;
    ctx.progress(
      `S6 ${point.name}: ${point.clients} clients subscribed in ${(setupMs / 1000).toFixed(1)} s; publishing`,
    );

    const pubTask: PublisherTask = {
      wsUrl: target.wsUrl,
      token: setup.owner.token,
      channels: setup.channels,
      ratePerChannel: point.ratePerChannel,
      backlogPerChannel: point.backlogPerChannel,
      textBytes: 32,
      rendezvous: rv.dir,
      maxMs: 300_000,
    };
    const [publisher] = startGenerators<PublisherTask, PublisherResult>(publisherModule, [pubTask]);
    started.push(publisher!);
    publisher!.result.catch((err: unknown) => {
      failure ??= String(err);
    });
    await rv.wait("publisher-ready", 30_000, { abort });
    const meter = new CpuMeter({
      colink: () => target.pids(),
      postgres: postgresPids,
      ...Object.fromEntries(storm.map((g, i) => [`generator${i + 1}`, () => [g.pid]])),
      "generator-publisher": () => [publisher!.pid],
    });
    meter.begin();
    await sleep(point.beforeMs); // steady flow before the storm

    const tcpBefore = tcpCounters();
    const dropAt = wallNow() + 300;
    rv.post("go", { dropAt, downMs: point.downMs });
    ctx.progress(`S6 ${point.name}: drop`);
    const resumed: Array<{ resumed: number; lastResumedAt: number }> = [];
    for (let g = 0; g < gens; g++) {
      resumed.push(await rv.wait(`resumed-${g}`, point.downMs + 120_000, { abort, pollMs: 20 }));
    }
    const stormEnd = Math.max(...resumed.map((r) => r.lastResumedAt));
    ctx.progress(
      `S6 ${point.name}: ${resumed.reduce((n, r) => n + r.resumed, 0)} clients resubscribed ${((stormEnd - dropAt) / 1000).toFixed(2)} s after the drop`,
    );
    await sleep(point.afterMs); // live events after the storm, then the publisher stops
    const cpu = meter.end(); // before the generators finish and exit
    const tcpAfter = tcpCounters();
    rv.post("stop", {});
    const pub = await publisher!.result;
    const finalSeq = await lastSeqs(target.baseUrl, setup.owner, setup.channels);
    rv.post("final", { lastSeq: finalSeq });
    const results = await Promise.all(storm.map((g) => g.result));

    // Catch-up: per channel, the newest seq acknowledged before the storm ended (or
    // announced by a resubscription reply); when the last client had it.
    let caughtUpAt = stormEnd;
    for (const ch of setup.channels) {
      const acks = pub.acks[ch]!;
      let wanted = Math.max(0, ...results.map((r) => r.replyLastSeq[ch] ?? 0));
      for (let k = 0; k < acks.seq.length; k++)
        if (acks.at[k]! <= stormEnd) wanted = Math.max(wanted, acks.seq[k]!);
      for (const r of results) {
        const a = r.arrivals[ch];
        const at = a ? a.at[wanted - a.base] : null;
        if (typeof at === "number") caughtUpAt = Math.max(caughtUpAt, at);
      }
    }
    for (const r of results) examples.push(...r.examples);
    examples.push(...pub.errorSamples.map((e) => `publisher: ${e}`));
    const sum = (pick: (r: StormResult) => number) => results.reduce((n, r) => n + pick(r), 0);
    const lost = sum((r) => r.gapLost + r.tailLost);
    const unresumed = point.clients - sum((r) => r.resumed);
    // Clients that lost events or never came back never caught up: no time to report.
    const complete = lost === 0 && unresumed === 0;
    const resume = summarise(mergeEncoded(results.map((r) => r.resumeHistogram)));
    const connect = summarise(mergeEncoded(results.map((r) => r.connectHistogram)));
    const subs = summarise(mergeEncoded(results.map((r) => r.subHistogram)));
    const ms = (x: number) => Math.round(x);
    return {
      metrics: {
        catchUpMs: complete ? ms(caughtUpAt - dropAt) : Number.NaN,
        resumedMs: unresumed === 0 ? ms(stormEnd - dropAt) : Number.NaN,
        resumeP50Ms: resume.p50,
        resumeP99Ms: resume.p99,
        connectP50Ms: connect.p50,
        connectP99Ms: connect.p99,
        subP50Ms: subs.p50,
        subP99Ms: subs.p99,
        lost,
        duplicated: sum((r) => r.duplicates),
        lossyClients: sum((r) => r.lossyClients),
        duplicatingClients: sum((r) => r.duplicatingClients),
        unresumed,
        subTimeouts: sum((r) => r.subTimeouts),
        subNeverAnswered: sum((r) => r.subNeverAnswered),
        subLate: sum((r) => r.subLate),
        subErrors: sum((r) => r.subErrors),
        resyncs: sum((r) => r.resyncs),
        serverCloses: sum((r) => r.serverCloses),
        connectFailures: sum((r) => r.connectFailures),
        replayed: sum((r) => r.replayed),
        events: sum((r) => r.events),
        publishedPerSec: pub.ackedPerSec,
        publishErrors: pub.errors + pub.unanswered,
        // The server's accept queue is on this machine only with a local target.
        listenOverflows:
          ctx.target.kind === "local" ? tcpAfter.listenOverflows - tcpBefore.listenOverflows : Number.NaN,
        synRetrans: tcpAfter.synRetrans - tcpBefore.synRetrans,
        setupS: Math.round(setupMs / 100) / 10,
        dropMs: Math.max(...results.map((r) => r.dropMs)),
      },
      cpu,
    };
  } catch (err) {
    // Stop whatever is still running of this storm (only the processes it started).
    for (const g of started) {
      try {
        process.kill(g.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    throw err;
  } finally {
    rv.remove();
  }
}

export const s6: Scenario = {
  id: "S6",
  title: "Reconnect storm: subscribed clients drop at once and resume with sinceSeq",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const records: BenchRecord[] = [];
    for (const point of points(ctx.quick)) {
      await withColink(
        ctx,
        { store: "postgres", env: { COLINK_REPLAY_LIMIT: String(replayLimit) } },
        async (target) => {
          const prefix = runPrefix("s6");
          const all = await users(target.baseUrl, prefix, point.users + 1, target.tokens);
          const owner = all[0]!;
          const members = all.slice(1);
          const channels: string[] = [];
          for (let c = 0; c < point.channels; c++) {
            const id = await channel(target.baseUrl, owner, `${prefix}${c}`);
            await join(target.baseUrl, id, members);
            channels.push(id);
          }
          const setup = { owner, tokens: members.map((m) => m.token), channels };
          const examples: string[] = [];
          ctx.progress(
            `S6 ${point.name}: ${point.clients} clients × ${point.perClient} of ${point.channels} channels, ${point.ratePerChannel} msg/s per channel${point.downMs ? `, down ${point.downMs} ms with ${point.backlogPerChannel} more events per channel` : ""}`,
          );
          const rec = await measure(
            {
              scenario: "S6",
              system: "colink",
              params: {
                point: point.name,
                store: "postgres",
                workers: target.workers,
                clients: point.clients,
                channels: point.channels,
                perClient: point.perClient,
                users: point.users,
                msgPerSecPerChannel: point.ratePerChannel,
                downMs: point.downMs,
                backlog: point.backlogPerChannel,
                jitter: `full jitter [0, ${point.jitter.minDelayMs} ms), x2 per retry, cap ${point.jitter.maxDelayMs / 1000} s`,
                generators: Math.ceil(point.clients / clientsPerGenerator),
                replayLimit,
              },
            },
            ctx.repeats,
            () => stormOnce(ctx, target, point, setup, examples),
          );
          for (const k of worstOf) {
            if (k in rec.metrics) rec.metrics[k] = Math.max(...rec.runs.map((r) => r[k] ?? 0));
          }
          // A run that never caught up makes the point's catch-up "never" (NaN), not a median.
          for (const k of ["catchUpMs", "resumedMs"]) {
            if (rec.runs.some((r) => Number.isNaN(r[k]))) rec.metrics[k] = Number.NaN;
          }
          const m = rec.metrics;
          const loud: string[] = [];
          if (m.lost! > 0 || m.duplicated! > 0) {
            loud.push(
              `FAIL (invariant 5, resume without loss): ${m.lost} events lost (at ${m.lossyClients} clients), ${m.duplicated} duplicated (at ${m.duplicatingClients} clients), worst run`,
            );
          }
          if (m.unresumed! > 0) loud.push(`FAIL: ${m.unresumed} clients never resumed`);
          if (m.subNeverAnswered! > 0) {
            loud.push(
              `FAIL: ${m.subNeverAnswered} resubscriptions never answered (not in ${(subTimeoutMs + probeMs) / 1000} s): without a client-side timeout those channels stay silent`,
            );
          }
          if (m.subTimeouts! > 0) {
            loud.push(
              `${m.subTimeouts} resubscriptions unanswered after ${subTimeoutMs / 1000} s (the SDK's timeout; the client reconnected)`,
            );
          }
          if (m.subErrors! > 0) loud.push(`${m.subErrors} resubscriptions answered with an error`);
          if (m.resyncs! > 0)
            loud.push(`${m.resyncs} resubscriptions answered resync (gap beyond the replay limit)`);
          if (m.serverCloses! > 0)
            loud.push(`${m.serverCloses} connections closed by the server after resuming`);
          if (m.publishErrors! > 0) loud.push(`${m.publishErrors} publishes failed or went unanswered`);
          if (point.clients >= 10_000 && m.catchUpMs! > targetMs) {
            loud.push(
              `target missed: catch-up of ${point.clients} clients took ${m.catchUpMs} ms (target < ${targetMs} ms)`,
            );
          }
          if (loud.length && examples.length) loud.push(`examples: ${examples.slice(0, 6).join(" | ")}`);
          rec.flags.unshift(...loud);
          for (const line of loud) ctx.progress(`S6 !!! ${line}`);
          records.push(rec);
        },
      );
    }
    return records;
  },
};
