/**
 * S12, fairness: what one user's flood does to everyone else. Quiet users each send
 * `msg.send` to a channel of their own at a human pace (constant rate, latency from each
 * send's intended time), while one flooding user sends to two channels of their own as
 * fast as the server answers, on 50 connections with 32 requests in flight each, from
 * another source address, ignoring every `retryAfterMs` and opening a connection again
 * 100 ms after the server closes or refuses it (bench/generators/flood-load.ts).
 * The two flooded channels sit on different actor threads, so every quiet channel shares
 * its thread with one of them.
 *
 * Four conditions, run alternately round by round on three servers that are up side by
 * side (Postgres, W = 2, the server's default):
 *
 * - `alone`: the quiet users only, on the server with the default limits: the floor;
 * - `flood, limits off`: the flood, on a server with every rate limit and connection cap
 *   off (`COLINK_RATE_*=0`, `COLINK_MAX_CONNS_*=0`): what the review measured;
 * - `flood, default limits`: the flood, on the server with the default limits (the
 *   flooder gets 20 of its 50 connections and 50 sends per 10 s);
 * - `flood elsewhere`: the same flood on a third server with the default limits, while the
 *   quiet users use the first: what the flood costs them through the shared machine alone
 *   (the flooder's process, the other server's work, the kernel), the control for the
 *   previous condition.
 *
 * Measured: the quiet users' ack latency p50 / p99 / p999 / max, their errors (a quiet
 * user within the limits must get none), and what the flooder got through (acks/s,
 * `rate_limited` answers/s, connections). Runs only when named (`--only S12`; quick: 8 s
 * windows, `--full`: 20 s).
 */

import { shardOf } from "../../actors/runtime/placement.js";
import { defaultLimits } from "../../core/config.js";
import { allLimitsOff, defaultRateLimits } from "../../test/support/limits.js";
import type { FloodResult, FloodTask } from "../generators/flood-load.js";
import type { SendLoadResult, SendLoadTask } from "../generators/send-load.js";
import { type ColinkTarget, withColink } from "../lib/colink-target.js";
import { startGenerators } from "../lib/generators.js";
import { CpuMeter, cpuOverWindow, postgresPids } from "../lib/proc.js";
import { type BenchUser, channel, runPrefix, users } from "../lib/provision.js";
import {
  type BenchContext,
  type BenchRecord,
  measureAlternately,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import { mergeEncoded, summarise } from "../lib/stats.js";

const workers = 2;
const shards = 1024;
const quietUsers = 16;
/** Each quiet user's sends per second: a busy human, within the default send budget (5/s). */
const quietRatePerUser = 2;
const floodConnections = 50;
const floodInFlight = 32;
/** How soon the flooder opens a connection again after a close or a refused upgrade. */
const floodReconnectDelayMs = 100;
/** Time for the generators to start (tsx) and open their connections before the load. */
const leadMs = 4000;
const warmupMs = 1000;
const restMs = 2000;

/** The per-connection in-flight cap at its default (withColink raises it for load tests). */
const defaultInFlight = { COLINK_MAX_PENDING_REQUESTS: String(defaultLimits.maxPendingRequests) };

/** One server's quiet senders and the flooder's channels. */
interface Setup {
  target: ColinkTarget;
  quiet: Array<{ token: string; channelId: string }>;
  flooder: BenchUser;
  floodChannels: string[];
}

/** Users and channels on a server: a channel per quiet user, two flooded ones on different threads. */
async function provision(target: ColinkTarget): Promise<Setup> {
  const prefix = runPrefix("s12");
  const all = await users(target.baseUrl, prefix, quietUsers + 1, target.tokens);
  const flooder = all[quietUsers]!;
  const quiet = await Promise.all(
    all.slice(0, quietUsers).map(async (u, i) => ({
      token: u.token,
      channelId: await channel(target.baseUrl, u, `${prefix}q${i}`),
    })),
  );
  const byThread = new Map<number, string>();
  for (let i = 0; byThread.size < workers && i < 20; i++) {
    const id = await channel(target.baseUrl, flooder, `${prefix}flood${i}`);
    const thread = shardOf(id, shards) % workers;
    if (!byThread.has(thread)) byThread.set(thread, id);
  }
  return { target, quiet, flooder, floodChannels: [...byThread.values()] };
}

/**
 * One run: the quiet users of `setup` for the window, with the flood on `flooded`'s
 * server (the same server, another one, or none).
 */
async function runOnce(setup: Setup, flooded: Setup | null, windowMs: number): Promise<RunOutcome> {
  const startAt = Date.now() + leadMs;
  const quietTask: SendLoadTask = {
    wsUrl: setup.target.wsUrl,
    senders: setup.quiet,
    mode: "rate",
    ratePerSec: quietUsers * quietRatePerUser,
    warmupMs,
    durationMs: windowMs,
    textBytes: 64,
    startAt,
  };
  const [quietGen] = startGenerators<SendLoadTask, SendLoadResult>("generators/send-load.ts", [quietTask]);
  const floodGen = flooded
    ? startGenerators<FloodTask, FloodResult>("generators/flood-load.ts", [
        {
          wsUrl: flooded.target.wsUrl,
          token: flooded.flooder.token,
          channelIds: flooded.floodChannels,
          connections: floodConnections,
          inFlightPerConnection: floodInFlight,
          localAddress: "127.0.0.2",
          startAt,
          stopAt: startAt + warmupMs + windowMs + 500,
          reconnectDelayMs: floodReconnectDelayMs,
          textBytes: 64,
        },
      ])[0]
    : null;
  const meter = new CpuMeter({
    colink: () => setup.target.pids(),
    ...(flooded && flooded !== setup ? { "colink-flooded": () => flooded.target.pids() } : {}),
    postgres: postgresPids,
    "generator-quiet": () => [quietGen!.pid],
    ...(floodGen ? { "generator-flood": () => [floodGen.pid] } : {}),
  });
  const cpu = await cpuOverWindow(meter, startAt + warmupMs, windowMs);
  const quiet = await quietGen!.result;
  const flood = floodGen ? await floodGen.result : null;
  await new Promise((r) => setTimeout(r, restMs));
  const lat = summarise(mergeEncoded([quiet.histogram]));
  const perSec = (n: number) => Math.round((n / (flood?.elapsedMs ?? 1)) * 1000);
  return {
    metrics: {
      quietP50: lat.p50,
      quietP99: lat.p99,
      quietP999: lat.p999,
      quietMax: lat.max,
      quietAcks: quiet.acks,
      quietErrors: quiet.errors,
      ...(flood
        ? {
            floodConnects: flood.connects,
            floodRefusedConnects: flood.refusedConnects,
            floodClosedByServer: flood.closedByServer,
            floodAcksPerSec: perSec(flood.acks),
            floodRateLimitedPerSec: perSec(flood.rateLimited),
            floodOtherErrors: flood.otherErrors,
          }
        : {}),
    },
    cpu,
  };
}

export const s12: Scenario = {
  id: "S12",
  title: "fairness: a quiet user's acks under another user's flood",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    if (ctx.target.kind === "remote") {
      ctx.progress("S12 starts its own servers (limits on and off): skipped against a remote target");
      return [];
    }
    const windowMs = ctx.quick ? 8000 : 20_000;
    const base = (condition: string) => ({
      scenario: "S12",
      system: "colink",
      params: {
        condition,
        workers,
        quiet: `${quietUsers} users × ${quietRatePerUser}/s`,
        flood:
          condition === "alone" ? "none" : `1 user, ${floodConnections} conns × ${floodInFlight} in flight`,
      },
    });
    const limitedEnv = { ...defaultInFlight, ...defaultRateLimits };
    return withColink(ctx, { store: "postgres", workers, env: limitedEnv }, (limited) =>
      withColink(ctx, { store: "postgres", workers, env: { ...defaultInFlight, ...allLimitsOff } }, (open) =>
        withColink(ctx, { store: "postgres", workers, env: limitedEnv }, async (elsewhere) => {
          ctx.progress("S12 provisioning the three servers");
          const withLimits = await provision(limited);
          const withoutLimits = await provision(open);
          const other = await provision(elsewhere);
          ctx.progress(`S12 ${ctx.repeats} rounds of the four conditions`);
          return measureAlternately(
            [
              { base: base("alone"), once: () => runOnce(withLimits, null, windowMs) },
              {
                base: base("flood, limits off"),
                once: () => runOnce(withoutLimits, withoutLimits, windowMs),
              },
              { base: base("flood, default limits"), once: () => runOnce(withLimits, withLimits, windowMs) },
              { base: base("flood elsewhere"), once: () => runOnce(withLimits, other, windowMs) },
            ],
            ctx.repeats,
          );
        }),
      ),
    );
  },
};
