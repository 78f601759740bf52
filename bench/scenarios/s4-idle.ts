/**
 * S4, idle connections: 10,000 and 18,000 authenticated, subscribed, idle WebSockets
 * (2,000 in the quick suite), against Colink and each peer, alternately, each run on a
 * freshly started server. Measures the server's RSS per connection ((RSS after − RSS
 * before) / connections, KiB) and the time to connect them all.
 *
 * - Colink: a token at the upgrade (16 dev users' tokens shared: a user may have many
 *   sessions, each a presence session), then `sub` to one of 10 public channels.
 * - Peers: uws subscribes to a topic, ws joins a room Set, Socket.IO joins a room.
 * - Clients come from several generator processes (one process holds < 20,000 open
 *   files), with sources spread over 127.0.4.x. "Before" is taken after a warm-up of 50
 *   connections (opened and dropped), so one-time costs (code, actors) are not counted
 *   per connection; "after" once every connection is up and the server had 2 s to settle.
 *
 * First, on a local target, the idle server itself (bench/lib/idle-rss.ts): its RSS with
 * no connections after the first start on empty data and after a restart, embedded
 * (PGlite) and on Postgres, at W = 0 and the default W (the quick suite: the defaults
 * only, once each).
 */
import { defaultWorkers } from "../../core/config.js";
import type { StoreKind } from "../../test/support/processes.js";
import type { OpenCmd, OpenResult } from "../generators/idle-conns.js";
import { withColink } from "../lib/colink-target.js";
import { colinkEndpoint, type Endpoint, peerNames, type SystemName } from "../lib/fanout-proto.js";
import { GenSession } from "../lib/gen-session.js";
import { idleServerPoint, measureIdleRss } from "../lib/idle-rss.js";
import { startPeer } from "../lib/peers.js";
import { CpuMeter, postgresPids, rssBytes } from "../lib/proc.js";
import { channel, runPrefix, users } from "../lib/provision.js";
import {
  type BenchContext,
  type BenchRecord,
  measure,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";

const generatorModule = "generators/idle-conns.ts";
/** Connections per generator process at most (the open-file limit is about 20,000). */
const perProcess = 6000;
const sourceAddresses = Array.from({ length: 64 }, (_, i) => `127.0.4.${i + 1}`);
const channelCount = 10;
const userCount = 16;
/** The target for Colink, KiB per idle connection. */
const targetKiB = 4;

/** The goal for the idle embedded server, MiB of RSS. */
const idleTargetMiB = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  endpoint: Endpoint;
  pids(): number[];
  tokens: string[];
  channels: string[];
  postgres: boolean;
}

export const s4: Scenario = {
  id: "S4",
  title: "Idle connections: server RSS per connection, time to connect",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    // Before the generators start: the idle measurement counts every process below this one.
    const idle = ctx.target.kind === "local" ? await idleServers(ctx) : [];
    const counts = ctx.quick ? [2000] : [10_000, 18_000];
    const names: SystemName[] = ctx.target.kind === "remote" ? ["colink"] : ["colink", ...peerNames];
    // At least two, so that the connect time is not one process's handshake rate.
    const processes = Math.max(2, Math.ceil(Math.max(...counts) / perProcess));
    const gens = await Promise.all(
      Array.from({ length: processes }, (_, i) => GenSession.start(`idle${i}`, generatorModule)),
    );
    const records: BenchRecord[] = [];
    try {
      for (const count of counts) {
        const used = gens.slice(0, Math.max(2, Math.ceil(count / perProcess)));
        const outcomes = new Map<SystemName, RunOutcome[]>(names.map((n) => [n, []]));
        let workers = -1;
        for (let rep = 0; rep < ctx.repeats; rep++) {
          for (const name of names) {
            ctx.progress(`S4 ${name}: ${count} idle connections (run ${rep + 1}/${ctx.repeats})`);
            const outcome =
              name === "colink"
                ? await withColink(ctx, { store: "postgres" }, async (target) => {
                    workers = target.workers;
                    const prefix = runPrefix("s4");
                    const all = await users(target.baseUrl, prefix, userCount, target.tokens);
                    const channels = await Promise.all(
                      Array.from({ length: channelCount }, (_, i) =>
                        channel(target.baseUrl, all[0]!, `${prefix}${i}`),
                      ),
                    );
                    return once(ctx, used, count, {
                      endpoint: colinkEndpoint(target.wsUrl),
                      pids: () => target.pids(),
                      tokens: all.map((u) => u.token),
                      channels,
                      postgres: ctx.target.kind === "local",
                    });
                  })
                : await (async () => {
                    const peer = await startPeer(name as Exclude<SystemName, "colink">);
                    try {
                      return await once(ctx, used, count, {
                        endpoint: { system: name, host: "127.0.0.1", port: peer.port },
                        pids: () => [peer.pid],
                        tokens: [],
                        channels: Array.from({ length: channelCount }, (_, i) => `r${i}`),
                        postgres: false,
                      });
                    } finally {
                      await peer.stop();
                    }
                  })();
            ctx.progress(
              `S4 ${name}: ${outcome.metrics.opened}/${count} in ${outcome.metrics.connectSec} s, ` +
                `${outcome.metrics.rssPerConnKiB} KiB per connection`,
            );
            outcomes.get(name)!.push(outcome);
          }
        }
        for (const name of names) {
          const list = outcomes.get(name)!;
          const rec = await measure(
            {
              scenario: "S4",
              system: name,
              params: {
                connections: count,
                generators: used.length,
                ...(name === "colink" ? { store: "postgres", workers } : {}),
              },
            },
            list.length,
            async () => list.shift()!,
          );
          if (name === "colink" && rec.metrics.rssPerConnKiB! > targetKiB)
            rec.flags.push(
              `target missed: ${rec.metrics.rssPerConnKiB} KiB per connection > ${targetKiB} KiB`,
            );
          if (rec.metrics.failed! > 0) rec.flags.push(`${rec.metrics.failed} connections failed`);
          records.push(rec);
        }
      }
    } finally {
      await Promise.all(gens.map((g) => g.stop()));
    }
    // Last, so that the connection records stay first for readers picking "colink".
    return [...records, ...idle];
  },
};

/**
 * The idle server's RSS, first start and restart, one record each per store and W: the
 * defaults (PGlite W = 1, Postgres W = 2) and, in the full suite, W = 0 too.
 */
async function idleServers(ctx: BenchContext): Promise<BenchRecord[]> {
  const configs: Array<{ store: StoreKind; workers: number }> = [
    { store: "pglite", workers: defaultWorkers(false) },
    { store: "postgres", workers: defaultWorkers(true) },
    ...(ctx.quick
      ? []
      : [
          { store: "pglite" as const, workers: 0 },
          { store: "postgres" as const, workers: 0 },
        ]),
  ];
  const repeats = ctx.quick ? 1 : ctx.repeats;
  const settleMs = ctx.quick ? 3000 : 5000;
  const records: BenchRecord[] = [];
  for (const { store, workers } of configs) {
    const firsts: RunOutcome[] = [];
    const restarts: RunOutcome[] = [];
    for (let rep = 0; rep < repeats; rep++) {
      ctx.progress(
        `S4 idle server: ${store} W=${workers}, first start and restart (run ${rep + 1}/${repeats})`,
      );
      const got = await measureIdleRss(store, workers, settleMs);
      firsts.push(got.first);
      restarts.push(got.restart);
      ctx.progress(
        `S4 idle server: ${store} W=${workers}: ${got.first.metrics.idleMiB} MiB after the first start ` +
          `(peak ${got.first.metrics.withChildrenPeakMiB} with children), ${got.restart.metrics.idleMiB} MiB after a restart`,
      );
    }
    for (const [start, outcomes] of [
      ["first", firsts],
      ["restart", restarts],
    ] as const) {
      const rec = await measure(
        { scenario: "S4", system: "colink", params: { point: idleServerPoint, store, workers, start } },
        outcomes.length,
        async () => outcomes.shift()!,
      );
      if (store === "pglite" && rec.metrics.idleMiB! > idleTargetMiB)
        rec.flags.push(`goal missed: ${rec.metrics.idleMiB} MiB idle > ${idleTargetMiB} MiB`);
      records.push(rec);
    }
  }
  return records;
}

/** Opens `count` connections to a fresh server, measures, and drops them. */
async function once(
  ctx: BenchContext,
  gens: GenSession[],
  count: number,
  server: Server,
): Promise<RunOutcome> {
  const open = (g: GenSession, n: number) =>
    g.call<OpenResult>(
      {
        kind: "open",
        endpoint: server.endpoint,
        count: n,
        tokens: server.tokens,
        channels: server.channels,
        localAddresses: server.endpoint.host === "127.0.0.1" ? sourceAddresses : [],
        concurrency: 200,
      } satisfies OpenCmd,
      600_000,
    );
  try {
    // Warm-up: one-time costs (code paths, actors, pools) are not per connection.
    await open(gens[0]!, 50);
    await gens[0]!.call({ kind: "drop" });
    await sleep(ctx.quick ? 300 : 1000);
    const rss = () => server.pids().reduce((s, p) => s + rssBytes(p), 0);
    const before = rss();
    const meter = new CpuMeter({
      server: () => server.pids(),
      postgres: () => (server.postgres ? postgresPids() : []),
      ...Object.fromEntries(gens.map((g) => [`generator-${g.name}`, () => [g.pid]])),
    });
    meter.begin();
    const started = performance.now();
    const shares = gens.map((_, i) => Math.floor(count / gens.length) + (i < count % gens.length ? 1 : 0));
    const results = await Promise.all(gens.map((g, i) => open(g, shares[i]!)));
    const connectMs = performance.now() - started;
    const cpu = meter.end();
    await sleep(ctx.quick ? 700 : 2000);
    const after = rss();
    const stillOpen = (
      await Promise.all(gens.map((g) => g.call<{ open: number }>({ kind: "count" })))
    ).reduce((s, r) => s + r.open, 0);
    const opened = results.reduce((s, r) => s + r.opened, 0);
    const failed = results.reduce((s, r) => s + r.failed, 0);
    const error = results.find((r) => r.firstError)?.firstError;
    if (error) ctx.progress(`S4 ${server.endpoint.system}: ${failed} failed, first: ${error}`);
    return {
      metrics: {
        opened,
        failed,
        stillOpen,
        connectSec: Math.round(connectMs / 10) / 100,
        connectsPerSec: Math.round((opened / connectMs) * 1000),
        rssBeforeMiB: Math.round((before / 2 ** 20) * 10) / 10,
        rssAfterMiB: Math.round((after / 2 ** 20) * 10) / 10,
        // A remote target's memory is not visible from here.
        rssPerConnKiB:
          opened > 0 && server.pids().length > 0
            ? Math.round(((after - before) / opened / 1024) * 100) / 100
            : Number.NaN,
      },
      cpu,
    };
  } finally {
    await Promise.all(gens.map((g) => g.call({ kind: "drop" })));
  }
}
