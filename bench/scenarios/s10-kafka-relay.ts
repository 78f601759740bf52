/**
 * S10, the Kafka relay under S3's load (runs only when named: `--only S10`). A real Kafka
 * (4.1.1, KRaft, one broker: test/support/kafka.ts) and two Colinks on Postgres with S3's
 * default W = 2, one with `KAFKA_BROKERS` (its `stream` log follower relays every channel
 * event to Kafka, docs/events.md) and one without, loaded alternately in the same session
 * with S3's send load (S3's `prepare` and `runColink`: 100 senders over 200 channels, 16
 * sends in flight each, acked after commit). Quick: 12 s of load after 1 s of warm-up;
 * `--full`: 60 s after 2 s. One unmeasured run on each server comes first.
 *
 * While the relayed server is loaded:
 * - **Lag in events**: `GET /ready` every 250 ms, `checks.stream.lagEvents` (the backlog
 *   the actor threads' relays saw when their current poll began, less what they relayed
 *   since: under load it reads far below the real lag, see bench/benchmarks-notes.md), and
 *   beside it the lag as the database has it, every 250 ms: the channels' log positions
 *   less the relay's positions (moved once Kafka has acknowledged).
 * - **Records into Kafka and their delay**: a consumer in its own process
 *   (bench/generators/kafka-count.ts) reads the channel events' topics as records arrive.
 *   Those topics are created here before the server starts (3 partitions, as the server
 *   would make them) with `message.timestamp.type=LogAppendTime`, so each record carries
 *   the broker's clock when it was appended. Relay events/s: records appended within the measuring window.
 *   Lag in ms: append time less the event's `time` (taken when the channel actor appended
 *   the event to the batch that was then committed; the ack follows that commit), for
 *   every event of the window. Both clocks are this machine's, and neither the consumer's
 *   speed nor its fetch wait can change the figure. The ack itself is later than `time`
 *   by the commit, so a probe measures from the ack exactly: one more sender here, one
 *   `msg.send` every 50 ms on a channel of its own, each ack's time kept and matched with
 *   its record's append time by the event id (`<channelId>:<seq>`, seq from the ack).
 * - **Drain**: from the end of the load until `/ready` shows the lag at 0 for good, and
 *   until the last record was appended (the consumer's clock). Then the run waits until the
 *   relay's positions in the database equal the logs (everything in Kafka), and the next
 *   run starts only once both servers' log followers have caught up.
 * - **Position writes**: rows written to `log_feed_positions` in the run and its catch-up
 *   (Postgres's statistics), on both servers: one commit per follower and run of a channel.
 * - Every event the run logged (the sum of the channels' log positions, after less before)
 *   must reach Kafka: the consumer counts the distinct ones (`missing` must be 0;
 *   `duplicates` are records resent, which the relay may do).
 *
 * **At a fixed offered rate** (`--rate N` msgs/s, default 5,000: a fraction of what S3's
 * closed loop reaches here). S3's closed loop saturates the server, so its lag is the lag
 * of a server at its limit. Each round therefore also loads both servers open loop: the
 * same senders and channels share N sends per second, each on its own evenly spaced
 * schedule whether or not its acks came (bench/generators/durable-load.ts), and the same
 * figures are taken (events/s into Kafka, lag in ms from the broker's append time, ack
 * latency from each send's intended time). These rows carry `offeredPerSec`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import { defaultWorkers } from "../../core/config.js";
import { streamTopicOf } from "../../core/stream-records.js";
import { startKafka, type TestKafka } from "../../test/support/kafka.js";
import { localDatabaseUrl } from "../../test/support/processes.js";
import type { KafkaCountExpect, KafkaCountResult, KafkaCountTask } from "../generators/kafka-count.js";
import { type ColinkTarget, withColink } from "../lib/colink-target.js";
import { startGenerators } from "../lib/generators.js";
import { CpuMeter, cpuOverWindow } from "../lib/proc.js";
import { channel, runPrefix, users } from "../lib/provision.js";
import { Rendezvous } from "../lib/rendezvous.js";
import {
  type BenchContext,
  type BenchRecord,
  measure,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import { mergeEncoded, summarise } from "../lib/stats.js";
import { WireClient } from "../lib/wire.js";
import { type Prepared, prepare, runColink, type Shape } from "./s3-durable.js";

const consumerModule = "generators/kafka-count.ts";
const readyEveryMs = 250;
const probeEveryMs = 50;
/** Longest wait for a server's log followers to catch up (between runs, and the drain). */
const catchUpTimeoutMs = 10 * 60_000;

/** The topics of channel events (the server's other topics, of users and presence, are not read). */
const channelTopics = [...new Set(Object.values(streamTopicOf))];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** S10's offered rate for its open-loop rows: `--rate N` (msgs/s), default 5,000. */
function offeredRate(): number {
  const i = process.argv.indexOf("--rate");
  const value = i < 0 ? 5000 : Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error("S10: --rate wants a positive number of msgs/s");
  return value;
}

/** What a sample read, and when its answer arrived (epoch ms). */
type Sample<T> = T & { at: number };

/** One answer of `GET /ready`. */
interface ReadySample {
  /** Whether it answered 200 (ready); 503 while a thread's store ping fails or takes over 2 s. */
  ready: boolean;
  /** `checks.stream.lagEvents`, or null without a relay (or when the request failed). */
  stream: number | null;
  streamFailing: boolean;
  /** `checks.search.lagEvents`. */
  search: number | null;
}

interface ReadyBody {
  checks?: {
    search?: { lagEvents: number };
    stream?: { status: "ok" | "failing"; lagEvents: number };
  };
}

/** Calls `take` every `everyMs` (or back to back when it takes longer) until stopped; keeps every answer. */
function sampleEvery<T extends object>(
  everyMs: number,
  take: () => Promise<T>,
): { samples: Array<Sample<T>>; stop(): Promise<void> } {
  const samples: Array<Sample<T>> = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = Date.now();
      const value = await take();
      samples.push({ ...value, at: Date.now() });
      await sleep(Math.max(0, t0 + everyMs - Date.now()));
    }
  })();
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Asks `GET /ready` every `everyMs` until stopped. */
function sampleReady(baseUrl: string, everyMs: number): ReturnType<typeof sampleEvery<ReadySample>> {
  return sampleEvery<ReadySample>(everyMs, async () => {
    try {
      const res = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as ReadyBody;
      return {
        ready: res.status === 200,
        stream: body.checks?.stream?.lagEvents ?? null,
        streamFailing: body.checks?.stream?.status === "failing",
        search: body.checks?.search?.lagEvents ?? null,
      };
    } catch {
      return { ready: false, stream: null, streamFailing: false, search: null };
    }
  });
}

/** Nearest-rank percentile of ascending numbers (NaN when empty). */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const ascending = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** The pids of the Kafka broker this process started (a child JVM running `kafka.Kafka`). */
function kafkaPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").includes("kafka.Kafka")) {
        out.push(Number(name));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Creates the channel events' topics as the server would (3 partitions, one replica here)
 * but stamped with the broker's append time, so that a record says when it arrived in
 * Kafka. The server creates its other topics (users, presence) itself.
 */
async function createTopics(brokers: string): Promise<void> {
  const admin = new Kafka({
    clientId: "colink-bench-s10",
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: channelTopics.map((topic) => ({
        topic,
        numPartitions: 3,
        replicationFactor: 1,
        configEntries: [{ name: "message.timestamp.type", value: "LogAppendTime" }],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** Reads a server's schema: its logs' total length and how far its log followers are behind. */
class SchemaWatch {
  constructor(
    private readonly sql: postgres.Sql,
    private readonly schema: string,
  ) {}

  /** Every event logged so far (the sum of the channels' log positions). */
  async logged(): Promise<number> {
    const [row] = await this.sql.unsafe<Array<{ n: number }>>(
      `SELECT coalesce(sum(last_seq), 0)::float8 AS n FROM "${this.schema}".channels`,
    );
    return row!.n;
  }

  /** Events `follower` has not handled yet (its positions against the logs). */
  async behind(follower: string): Promise<number> {
    const [row] = await this.sql.unsafe<Array<{ n: number }>>(
      `SELECT coalesce(sum(c.last_seq - least(coalesce(p.seq, 0), c.last_seq)), 0)::float8 AS n
       FROM "${this.schema}".channels c
       LEFT JOIN "${this.schema}".log_feed_positions p ON p.follower = $1 AND p.channel_id = c.id`,
      [follower],
    );
    return row!.n;
  }

  /**
   * Rows written to `log_feed_positions` so far (Postgres's statistics, flushed by a
   * backend within a second or so of its transactions): each is one follower's commit of
   * its position after a run of one channel, the search indexer's and the relay's together.
   */
  async positionWrites(): Promise<number> {
    const [row] = await this.sql<Array<{ n: number }>>`
      SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0)::float8 AS n FROM pg_stat_user_tables
      WHERE schemaname = ${this.schema} AND relname = 'log_feed_positions'`;
    return row!.n;
  }

  /** Resolves once every follower named has caught up with the logs. */
  async caughtUp(followers: string[], what: string): Promise<void> {
    const deadline = Date.now() + catchUpTimeoutMs;
    for (;;) {
      const behind = await Promise.all(followers.map((f) => this.behind(f)));
      if (behind.every((n) => n === 0)) return;
      if (Date.now() > deadline) {
        throw new Error(`S10: ${what}: ${followers.join(", ")} still ${behind.join(", ")} events behind`);
      }
      await sleep(50);
    }
  }
}

/** The relayed server with what S10 adds to S3's set-up: the probe sender and the schema watch. */
interface Relayed {
  p: Prepared;
  watch: SchemaWatch;
  probe: WireClient;
  probeChannelId: string;
  brokers: string;
}

/**
 * Sends one probe message every `probeEveryMs` from `from` until `until` (epoch ms), on a
 * schedule (not waiting for the previous ack); resolves with [seq, sent at, acked at] of
 * each acked probe once all are answered.
 */
async function probeSends(
  client: WireClient,
  channelId: string,
  from: number,
  until: number,
): Promise<Array<[number, number, number]>> {
  const acks: Array<[number, number, number]> = [];
  const pending: Promise<void>[] = [];
  await sleep(Math.max(0, from - Date.now()));
  for (let n = 0; from + n * probeEveryMs < until; n++) {
    await sleep(Math.max(0, from + n * probeEveryMs - Date.now()));
    const sentAt = Date.now();
    pending.push(
      client
        .request("msg.send", {
          channelId,
          text: `probe ${n}`,
          clientMsgId: `s10probe-${from.toString(36)}-${n}`,
        })
        .then(
          (result) => {
            acks.push([(result.message as { seq: number }).seq, sentAt, Date.now()]);
          },
          () => {
            // A refused probe has no record to match; the load's own errors are in S3's figures.
          },
        ),
    );
  }
  await Promise.all(pending);
  return acks;
}

/**
 * What `/ready` said in the measuring window: how many answers came back, how many were
 * not ready (503), and the search indexer's lag (p99).
 */
function readyFigures(
  samples: ReadonlyArray<Sample<ReadySample>>,
  measureFrom: number,
  stopAt: number,
): Record<string, number> {
  const inWindow = samples.filter((s) => s.at >= measureFrom && s.at < stopAt);
  const searchLags = ascending(inWindow.flatMap((s) => (s.search === null ? [] : [s.search])));
  return {
    readyAnswers: inWindow.length,
    notReady: inWindow.filter((s) => !s.ready).length,
    searchLagP99: percentile(searchLags, 99),
  };
}

/**
 * The position writes since `before`, once the followers have caught up: read after 2 s
 * (backends flush their statistics about once a second while busy).
 */
async function settledPositionWrites(watch: SchemaWatch, before: number): Promise<number> {
  await sleep(2000);
  return (await watch.positionWrites()) - before;
}

/** One run of S3's load on the relayed server, with the relay measured alongside. */
async function runRelayed(
  ctx: BenchContext,
  r: Relayed,
  shape: Shape,
): Promise<RunOutcome & { note?: string }> {
  const rv = Rendezvous.create("s10");
  let consumerPid = 0;
  let consumerDone = false;
  try {
    const sinceMs = Date.now();
    const task: KafkaCountTask = {
      brokers: r.brokers,
      topics: channelTopics,
      rendezvous: rv.dir,
      sinceMs,
      probeChannelId: r.probeChannelId,
      drainTimeoutMs: catchUpTimeoutMs,
    };
    const [consumer] = startGenerators<KafkaCountTask, KafkaCountResult>(consumerModule, [task]);
    consumerPid = consumer!.pid;
    let consumerFailed: string | null = null;
    consumer!.result.then(
      () => {
        consumerDone = true;
      },
      (err: unknown) => {
        consumerDone = true;
        consumerFailed = String(err);
      },
    );
    await rv.wait("consumer-ready", 60_000, { abort: () => consumerFailed });
    const before = await r.watch.logged();
    const positionsBefore = await r.watch.positionWrites();

    const sampler = sampleReady(r.p.target.baseUrl, readyEveryMs);
    // The lag as the database has it: the logs against the relay's positions (moved once Kafka has the records).
    const dbSampler = sampleEvery(readyEveryMs, async () => ({ behind: await r.watch.behind("stream") }));
    let startAt = 0;
    let probing: Promise<Array<[number, number, number]>> = Promise.resolve([]);
    let cpuKafka: Promise<Record<string, number>> = Promise.resolve({});
    const outcome = await runColink(r.p, shape, (at) => {
      startAt = at;
      const measureFrom = at + shape.warmupMs;
      probing = probeSends(r.probe, r.probeChannelId, at, measureFrom + shape.durationMs);
      cpuKafka = cpuOverWindow(
        new CpuMeter({ kafka: kafkaPids, consumer: () => [consumer!.pid] }),
        measureFrom,
        shape.durationMs,
      );
    });
    const measureFrom = startAt + shape.warmupMs;
    const stopAt = measureFrom + shape.durationMs;
    const probeAcks = await probing;
    ctx.progress("S10 load over; waiting for the relay to catch up");
    await r.watch.caughtUp(["stream"], "the relay after the load");
    // A second of answers after the positions caught up: the relay's lag reads 0 by then.
    await sleep(1000);
    await sampler.stop();
    await dbSampler.stop();
    const logged = (await r.watch.logged()) - before;
    const positionWrites = await settledPositionWrites(r.watch, positionsBefore);
    rv.post("expect", { events: logged, measureFrom, stopAt } satisfies KafkaCountExpect);
    const got = await consumer!.result;

    // Lag in events: the answers inside the measuring window.
    const samples = sampler.samples;
    const inWindow = samples.filter((s) => s.at >= measureFrom && s.at < stopAt && s.stream !== null);
    const lags = ascending(inWindow.map((s) => s.stream!));
    const dbLags = ascending(
      dbSampler.samples.filter((s) => s.at >= measureFrom && s.at < stopAt).map((s) => s.behind),
    );
    // Drained: the first answer after the last one (since the load stopped) with a lag above 0.
    const after = samples.filter((s) => s.at >= stopAt);
    let lastBehind = -1;
    after.forEach((s, i) => {
      if ((s.stream ?? 1) > 0) lastBehind = i;
    });
    const drainedAt = lastBehind < 0 ? stopAt : (after[lastBehind + 1]?.at ?? Number.NaN);

    // Ack → append, for the probes sent in the window.
    const appended = new Map(got.probes.map(([seq, appendAt]) => [seq, appendAt]));
    const probeDelays = ascending(
      probeAcks
        .filter(([seq, sentAt]) => sentAt >= measureFrom && sentAt < stopAt && appended.has(seq))
        .map(([seq, , ackAt]) => appended.get(seq)! - ackAt),
    );
    const toKafka = summarise(mergeEncoded([got.toKafka]));
    const toConsumer = summarise(mergeEncoded([got.toConsumer]));
    const seconds = shape.durationMs / 1000;
    const cpu = { ...outcome.cpu, ...(await cpuKafka) };
    const missing = Math.max(0, logged - got.events);
    const notes = [
      ...(outcome.note ? [outcome.note] : []),
      ...(got.complete ? [] : [`${missing} of ${logged} events not read from Kafka`]),
      ...(got.duplicates > 0 ? [`${got.duplicates} records resent`] : []),
      ...(samples.some((s) => s.streamFailing) ? ["/ready said the stream was failing"] : []),
    ];
    return {
      metrics: {
        ...outcome.metrics,
        relayEventsPerSec: Math.round(got.appendedInWindow / seconds),
        relayPeakPerSec: got.peakPerSec,
        // The relay's rate once the load stopped, until the last record (none left: 0).
        drainEventsPerSec:
          got.lastAppendAt > stopAt
            ? Math.round((got.appendedAfterStop * 1000) / (got.lastAppendAt - stopAt))
            : 0,
        lagEventsP50: percentile(lags, 50),
        lagEventsP99: percentile(lags, 99),
        lagEventsMax: lags.at(-1) ?? Number.NaN,
        dbLagEventsP50: percentile(dbLags, 50),
        dbLagEventsP99: percentile(dbLags, 99),
        dbLagEventsMax: dbLags.at(-1) ?? Number.NaN,
        lagMsP50: toKafka.p50,
        lagMsP99: toKafka.p99,
        lagMsMax: toKafka.max,
        ackToKafkaMsP50: percentile(probeDelays, 50),
        ackToKafkaMsP99: percentile(probeDelays, 99),
        ackToKafkaMsMax: probeDelays.at(-1) ?? Number.NaN,
        probes: probeDelays.length,
        toConsumerMsP50: toConsumer.p50,
        toConsumerMsP99: toConsumer.p99,
        drainMs: Math.round(drainedAt - stopAt),
        lastInKafkaMs: got.lastAppendAt - stopAt,
        ...readyFigures(samples, measureFrom, stopAt),
        streamLagSamples: lags.length,
        positionWrites,
        logged,
        relayed: got.events,
        missing,
        duplicates: got.duplicates,
      },
      cpu,
      ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
    };
  } finally {
    // A run that failed before its `expect` note leaves the consumer waiting: end it (our child).
    if (consumerPid && !consumerDone) {
      try {
        process.kill(consumerPid, "SIGTERM");
      } catch {
        // gone already
      }
    }
    rv.remove();
  }
}

/** One run of S3's load on the server without Kafka, sampling `/ready` the same way. */
async function runPlain(
  p: Prepared,
  watch: SchemaWatch,
  shape: Shape,
): Promise<RunOutcome & { note?: string }> {
  const positionsBefore = await watch.positionWrites();
  const sampler = sampleReady(p.target.baseUrl, readyEveryMs);
  let startAt = 0;
  const outcome = await runColink(p, shape, (at) => {
    startAt = at;
  });
  await sampler.stop();
  const measureFrom = startAt + shape.warmupMs;
  const stopAt = measureFrom + shape.durationMs;
  await watch.caughtUp(["search"], "the indexer after the load");
  return {
    ...outcome,
    metrics: {
      ...outcome.metrics,
      ...readyFigures(sampler.samples, measureFrom, stopAt),
      positionWrites: await settledPositionWrites(watch, positionsBefore),
    },
  };
}

/** A record of the medians of outcomes already measured, their notes as flags. */
async function recordOf(
  base: Omit<BenchRecord, "metrics" | "runs" | "cpu" | "flags">,
  outcomes: Array<RunOutcome & { note?: string }>,
): Promise<BenchRecord> {
  let i = 0;
  const rec = await measure(base, outcomes.length, async () => outcomes[i++]!);
  const sum = (k: string) => outcomes.reduce((s, o) => s + (o.metrics[k] ?? 0), 0);
  if (sum("lost") > 0) rec.flags.push(`${sum("lost")} acked messages not found in the database`);
  if (sum("missing") > 0) rec.flags.push(`${sum("missing")} logged events never reached Kafka`);
  const notes = outcomes.flatMap((o, r) => (o.note ? [`run ${r + 1}: ${o.note}`] : []));
  if (notes.length > 0) rec.flags.push(notes.join("; "));
  return rec;
}

export const s10: Scenario = {
  id: "S10",
  title: "Kafka relay: events/s into Kafka and its lag under S3's load (Postgres, W=2)",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    if (ctx.target.kind === "remote") {
      ctx.progress("S10 starts its own Kafka and servers: skipped against a remote target");
      return [];
    }
    const workers = Number(process.env.COLINK_WORKERS || defaultWorkers(true));
    const shape: Shape = {
      channels: 200,
      senders: 100,
      window: 16,
      warmupMs: ctx.quick ? 1000 : 2000,
      durationMs: ctx.quick ? 12_000 : 60_000,
      textBytes: 64,
      generators: 1,
    };
    const params = {
      store: "postgres",
      workers,
      channels: shape.channels,
      senders: shape.senders,
      inFlight: shape.senders * shape.window,
      loadSec: shape.durationMs / 1000,
    };
    const rate = offeredRate();
    const rateShape: Shape = { ...shape, ratePerSec: rate };
    const rateParams = {
      store: "postgres",
      workers,
      channels: shape.channels,
      senders: shape.senders,
      offeredPerSec: rate,
      loadSec: shape.durationMs / 1000,
    };
    ctx.progress("S10 starting Kafka 4.1.1 (KRaft, one broker)");
    const kafka: TestKafka = await startKafka();
    const sql = postgres(localDatabaseUrl, { max: 2, onnotice: () => {} });
    try {
      await createTopics(kafka.brokers);
      return await withColink(
        ctx,
        { store: "postgres", workers, env: { KAFKA_BROKERS: kafka.brokers } },
        (relayedTarget: ColinkTarget) =>
          withColink(ctx, { store: "postgres", workers, env: { KAFKA_BROKERS: "" } }, async (plainTarget) => {
            const relayedP = await prepare(ctx, relayedTarget, "postgres", shape);
            const plainP = await prepare(ctx, plainTarget, "postgres", shape);
            const [prober] = await users(relayedTarget.baseUrl, runPrefix("s10probe"), 1);
            const probeChannelId = await channel(relayedTarget.baseUrl, prober!, runPrefix("s10probe"));
            const probe = await WireClient.connect(relayedTarget.wsUrl, prober!.token);
            const relayed: Relayed = {
              p: relayedP,
              watch: new SchemaWatch(sql, relayedTarget.schema!),
              probe,
              probeChannelId,
              brokers: kafka.brokers,
            };
            const plainWatch = new SchemaWatch(sql, plainTarget.schema!);
            const quiet = async () => {
              await relayed.watch.caughtUp(["stream", "search"], "the relayed server");
              await plainWatch.caughtUp(["search"], "the server without Kafka");
            };
            const withRelay: Array<RunOutcome & { note?: string }> = [];
            const without: Array<RunOutcome & { note?: string }> = [];
            const atRateWithRelay: Array<RunOutcome & { note?: string }> = [];
            const atRateWithout: Array<RunOutcome & { note?: string }> = [];
            try {
              // A run of the load on each server first, not measured: without it the relayed
              // server's first run tended to be its slowest (the broker's JVM and the relay's
              // code paths warming up under load).
              const warmUp: Shape = { ...shape, durationMs: ctx.quick ? 5000 : 10_000 };
              for (const [name, p] of [
                ["with the Kafka relay", relayedP],
                ["without Kafka", plainP],
              ] as const) {
                await quiet();
                ctx.progress(`S10 warm-up ${name} (${warmUp.durationMs / 1000} s, not measured)`);
                await runColink(p, warmUp);
              }
              for (let r = 0; r < ctx.repeats; r++) {
                // Alternately first, so that neither always runs on the warmer (or noisier) turn.
                const order = r % 2 === 0 ? (["relay", "plain"] as const) : (["plain", "relay"] as const);
                for (const which of order) {
                  await quiet();
                  ctx.progress(
                    `S10 ${which === "relay" ? "with the Kafka relay" : "without Kafka"}, W=${workers}, ${shape.channels} channels (run ${r + 1}/${ctx.repeats})`,
                  );
                  if (which === "relay") withRelay.push(await runRelayed(ctx, relayed, shape));
                  else without.push(await runPlain(plainP, plainWatch, shape));
                }
                const w = withRelay[r]!.metrics;
                const o = without[r]!.metrics;
                ctx.progress(
                  `S10 round ${r + 1}: ${w.msgsPerSec} msgs/s with the relay (${w.relayEventsPerSec} events/s into Kafka, lag p99 ${w.lagEventsP99} events / ${w.lagMsP99} ms, drained ${w.drainMs} ms after), ${o.msgsPerSec} without`,
                );
                // The same round at the fixed offered rate (open loop), in the same alternation.
                for (const which of order) {
                  await quiet();
                  ctx.progress(
                    `S10 ${which === "relay" ? "with the Kafka relay" : "without Kafka"} at ${rate} msgs/s offered (run ${r + 1}/${ctx.repeats})`,
                  );
                  if (which === "relay") atRateWithRelay.push(await runRelayed(ctx, relayed, rateShape));
                  else atRateWithout.push(await runPlain(plainP, plainWatch, rateShape));
                }
                const wr = atRateWithRelay[r]!.metrics;
                const or = atRateWithout[r]!.metrics;
                ctx.progress(
                  `S10 round ${r + 1} at ${rate} msgs/s: ${wr.msgsPerSec} msgs/s with the relay (${wr.relayEventsPerSec} events/s into Kafka, lag p50 ${wr.lagMsP50} ms / p99 ${wr.lagMsP99} ms, ack p99 ${wr.p99} ms), ${or.msgsPerSec} without (ack p99 ${or.p99} ms)`,
                );
              }
            } finally {
              probe.close();
              await relayedP.close();
              await plainP.close();
            }
            const records = [
              await recordOf(
                { scenario: "S10", system: "colink", params: { ...params, kafka: "none" } },
                without,
              ),
              await recordOf(
                { scenario: "S10", system: "colink", params: { ...params, kafka: "relay" } },
                withRelay,
              ),
            ];
            // Round by round: the relayed server's rate over the other's, and what the relay added per message.
            const ratios: RunOutcome[] = withRelay.map((w, r) => {
              const o = without[r]!;
              const m = (k: string) => (w.metrics[k] ?? 0) - (o.metrics[k] ?? 0);
              return {
                metrics: {
                  msgsPerSecRatio:
                    Math.round((w.metrics.msgsPerSec! / Math.max(1, o.metrics.msgsPerSec!)) * 1000) / 1000,
                  colinkUsPerMsgDelta: m("colinkUsPerMsg"),
                  pgUsPerMsgDelta: m("pgUsPerMsg"),
                  ackP99Delta: Math.round(m("p99") * 100) / 100,
                  positionWritesDelta: m("positionWrites"),
                },
                cpu: {},
              };
            });
            records.push(
              await recordOf(
                { scenario: "S10", system: "relay/none", params: { ...params, kafka: "ratio" } },
                ratios,
              ),
              await recordOf(
                { scenario: "S10", system: "colink", params: { ...rateParams, kafka: "none" } },
                atRateWithout,
              ),
              await recordOf(
                { scenario: "S10", system: "colink", params: { ...rateParams, kafka: "relay" } },
                atRateWithRelay,
              ),
            );
            return records;
          }),
      );
    } finally {
      await sql.end({ timeout: 5 });
      await kafka.cleanup();
    }
  },
};
