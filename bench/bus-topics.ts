/**
 * Issue 5, cluster bus: a Redis pub/sub channel per Colink channel, or one per virtual
 * shard? `npx tsx bench/bus-topics.ts` (under a minute; stops by itself).
 *
 * Starts its own redis-server (loopback) and forks 3 "node" processes, each with one ioredis
 * subscriber connection, and 1 publisher process with one ioredis connection, so that no
 * process measures another's work. For each point (scheme × C channels × interest), every
 * node subscribes to the topics its wanted channels need, one SUBSCRIBE call per topic
 * (as BusTopicInterest.want does), then the publisher sends M payloads of ~200 bytes
 * round-robin over the channels, pipelined (up to WINDOW PUBLISHes in flight, like a
 * node's command connection), then an end marker on a control channel; Redis delivers in
 * order, so a node that sees the marker has seen everything. Nodes filter each message
 * by its Colink channel (read from the Redis channel name, or from the payload in the
 * shard scheme) against their wanted set. Counts are checked against what Redis reported
 * delivering. CPU comes from /proc/<pid>/stat. Every point runs `repeats` times; the
 * table shows medians.
 *
 *   --messages M (default 200000)   --repeats N (default 3)   --json FILE (raw runs)
 */
import { type ChildProcess, fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { shardOf } from "../actors/runtime/placement.js";
import { newId } from "../core/ids.js";
import { startRedis } from "../test/support/processes.js";
import { prng } from "./lib/prng.js";
import { cpuSeconds } from "./lib/proc.js";
import { machine } from "./lib/report.js";
import { median } from "./lib/stats.js";

type Scheme = "channel" | "shard";

const SHARDS = 1024;
const NODES = 3;
const PAYLOAD_BYTES = 200;
const WINDOW = 1000;
const CTL = "colink:bench:end";
const HARD_STOP_MS = 120_000;

/** The Redis channel a Colink channel's events go to, in each scheme. */
function redisTopic(scheme: Scheme, channelId: string): string {
  return scheme === "channel" ? `colink:t:ch:${channelId}` : `colink:t:shard:${shardOf(channelId, SHARDS)}`;
}

/** The bus payload: [origin length][origin][topic length][topic "ch:<id>"][body], PAYLOAD_BYTES in all. */
function payloadFor(channelId: string): Buffer {
  const origin = Buffer.from("publisher-node");
  const topic = Buffer.from(`ch:${channelId}`);
  const head = Buffer.concat([Buffer.from([origin.length]), origin, Buffer.from([topic.length]), topic]);
  return Buffer.concat([head, Buffer.alloc(Math.max(0, PAYLOAD_BYTES - head.length), 0x61)]);
}

// ---- messages between the coordinator and its children ----

type ToChild =
  | { t: "setup"; scheme: Scheme; topics: string[]; wanted: string[] }
  | { t: "reset" }
  | { t: "publish"; scheme: Scheme; channels: string[]; messages: number }
  | { t: "quit" };

type FromChild =
  | { t: "up" }
  | { t: "ready"; setupMs: number; subscribeCalls: number; subscriptions: number }
  | { t: "done"; received: number; useful: number; discarded: number }
  | { t: "published"; ms: number; sent: number; deliveries: number }
  | { t: "reset-done" };

// ---- child: a node's subscriber connection ----

async function nodeProcess(url: string): Promise<void> {
  const sub = new Redis(url, { maxRetriesPerRequest: null });
  const ctl = Buffer.from(CTL);
  let scheme: Scheme = "channel";
  let wanted = new Set<string>();
  let topics: string[] = [];
  let received = 0;
  let useful = 0;
  let discarded = 0;
  const topicPrefix = "colink:".length;
  sub.on("messageBuffer", (channel: Buffer, message: Buffer) => {
    if (channel.equals(ctl)) {
      send({ t: "done", received, useful, discarded });
      return;
    }
    received++;
    // What RedisBus + ClusterNode do: skip the origin, find the Colink topic, look up local subscribers.
    let topic: string;
    if (scheme === "channel") {
      topic = channel.toString().slice(topicPrefix + "t:".length);
    } else {
      const at = 1 + message[0]!;
      topic = message.toString("latin1", at + 1, at + 1 + message[at]!);
    }
    if (wanted.has(topic)) useful++;
    else discarded++;
  });
  await sub.subscribe(CTL);
  process.on("message", async (msg: ToChild) => {
    if (msg.t === "setup") {
      scheme = msg.scheme;
      wanted = new Set(msg.wanted.map((id) => `ch:${id}`));
      topics = msg.topics;
      received = useful = discarded = 0;
      const t0 = performance.now();
      // One SUBSCRIBE per topic, issued together, as many clients arriving at once would.
      const counts = await Promise.all(topics.map((t) => sub.subscribe(t)));
      const setupMs = performance.now() - t0;
      // Redis's own count of this connection's subscriptions, less the control channel.
      const subscriptions = Math.max(1, ...(counts as number[])) - 1;
      send({ t: "ready", setupMs, subscribeCalls: topics.length, subscriptions });
    } else if (msg.t === "reset") {
      for (let i = 0; i < topics.length; i += 1000) await sub.unsubscribe(...topics.slice(i, i + 1000));
      topics = [];
      send({ t: "reset-done" });
    } else if (msg.t === "quit") {
      sub.disconnect();
      process.exit(0);
    }
  });
  send({ t: "up" });
}

// ---- child: the publisher, a node's command connection ----

async function publisherProcess(url: string): Promise<void> {
  const pub = new Redis(url);
  await pub.ping();
  process.on("message", async (msg: ToChild) => {
    if (msg.t === "quit") {
      pub.disconnect();
      process.exit(0);
    }
    if (msg.t !== "publish") return;
    const topics = msg.channels.map((c) => redisTopic(msg.scheme, c));
    const payloads = msg.channels.map(payloadFor);
    let inFlight = 0;
    let deliveries = 0;
    let wake: (() => void) | null = null;
    const settled = (n: number) => {
      deliveries += n;
      inFlight--;
      if (wake && inFlight <= WINDOW / 2) {
        const w = wake;
        wake = null;
        w();
      }
    };
    const t0 = performance.now();
    for (let i = 0; i < msg.messages; i++) {
      const k = i % topics.length;
      inFlight++;
      pub.publish(topics[k]!, payloads[k]!).then(settled);
      if (inFlight >= WINDOW) await new Promise<void>((r) => (wake = r));
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
    const ms = performance.now() - t0;
    await pub.publish(CTL, "end");
    send({ t: "published", ms, sent: msg.messages, deliveries });
  });
  send({ t: "up" });
}

function send(msg: FromChild): void {
  process.send!(msg);
}

// ---- coordinator ----

/** A forked child and a way to wait for its next message of a kind. */
class Child {
  private waiting = new Map<string, (m: FromChild) => void>();
  private readonly proc: ChildProcess;
  readonly ready: Promise<FromChild>;

  constructor(role: "node" | "publisher", url: string) {
    this.proc = fork(fileURLToPath(import.meta.url), [role, url], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.proc.on("message", (m: FromChild) => {
      const w = this.waiting.get(m.t);
      this.waiting.delete(m.t);
      w?.(m);
    });
    this.ready = this.next("up");
  }

  get pid(): number {
    return this.proc.pid!;
  }

  next<K extends FromChild["t"]>(t: K): Promise<Extract<FromChild, { t: K }>> {
    return new Promise((resolve) => this.waiting.set(t, resolve as (m: FromChild) => void));
  }

  send(msg: ToChild): void {
    this.proc.send(msg);
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

interface Point {
  scheme: Scheme;
  channels: number;
  /** Share of the channels each node wants. */
  interest: number;
}

interface RunResult {
  subscriptionsPerNode: number;
  setupMs: number;
  redisMemSubsMiB: number;
  publishPerSec: number;
  publisherCores: number;
  receivedPerNode: number;
  usefulPerNode: number;
  discardedShare: number;
  redisNetOutMB: number;
  usefulDeliveredPerSec: number;
  redisCores: number;
  redisUsPerMsg: number;
  nodeCores: number;
  nodeUsPerUseful: number;
  ok: boolean;
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function coordinator(): Promise<void> {
  const messages = option("messages", 200_000);
  const repeats = option("repeats", 3);
  const jsonIdx = process.argv.indexOf("--json");
  const jsonFile = jsonIdx >= 0 ? process.argv[jsonIdx + 1] : undefined;

  const redis = await startRedis();
  const admin = new Redis(redis.url);
  const children: Child[] = [];
  const hardStop = setTimeout(() => {
    console.error("bus-topics: hard stop");
    for (const c of children) c.kill();
    void redis.kill().then(() => process.exit(1));
  }, HARD_STOP_MS);
  try {
    const redisPid = Number(/process_id:(\d+)/.exec(await admin.info("server"))![1]);
    // A node that lags more than the default 32 MB would be disconnected; this measures
    // throughput, not that limit (see the README).
    await admin.config("SET", "client-output-buffer-limit", "pubsub 512mb 256mb 60");
    const nodes = Array.from({ length: NODES }, () => new Child("node", redis.url));
    const publisher = new Child("publisher", redis.url);
    children.push(...nodes, publisher);
    await Promise.all(children.map((c) => c.ready));

    const ids = new Map<number, string[]>();
    const channelIds = (n: number) => {
      if (!ids.has(n))
        ids.set(
          n,
          Array.from({ length: n }, () => newId("C")),
        );
      return ids.get(n)!;
    };
    const points: Point[] = [];
    for (const channels of [100, 10_000])
      for (const interest of [1 / 3, 1])
        for (const scheme of ["channel", "shard"] as const) points.push({ scheme, channels, interest });

    const netOutput = async () => Number(/total_net_output_bytes:(\d+)/.exec(await admin.info("stats"))![1]);
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);

    const runPoint = async (p: Point, seed: number): Promise<RunResult> => {
      const all = channelIds(p.channels);
      const rand = prng(seed);
      const wanted = nodes.map(() => all.filter(() => p.interest >= 1 || rand() < p.interest));
      const topics = wanted.map((w) => [...new Set(w.map((c) => redisTopic(p.scheme, c)))]);
      // What each node must receive: every message on a topic it subscribed to.
      const expected = topics.map((ts) => {
        const set = new Set(ts);
        let n = 0;
        for (let i = 0; i < messages; i++) if (set.has(redisTopic(p.scheme, all[i % all.length]!))) n++;
        return n;
      });

      const memBefore = await usedMemory();
      const readies = nodes.map((n) => n.next("ready"));
      nodes.forEach((n, i) => {
        n.send({ t: "setup", scheme: p.scheme, topics: topics[i]!, wanted: wanted[i]! });
      });
      const ready = await Promise.all(readies);
      const memSubs = (await usedMemory()) - memBefore;
      const netOut0 = await netOutput();

      const pids = { redis: [redisPid], nodes: nodes.map((n) => n.pid), publisher: [publisher.pid] };
      const cpu = (ps: number[]) => ps.reduce((s, pid) => s + cpuSeconds(pid), 0);
      const cpu0 = { redis: cpu(pids.redis), nodes: cpu(pids.nodes), publisher: cpu(pids.publisher) };
      const dones = nodes.map((n) => n.next("done"));
      const published = publisher.next("published");
      const t0 = performance.now();
      publisher.send({ t: "publish", scheme: p.scheme, channels: all, messages });
      const [pub, done] = await Promise.all([published, Promise.all(dones)]);
      const wallS = (performance.now() - t0) / 1000;
      const redisCpu = cpu(pids.redis) - cpu0.redis;
      const nodeCpu = cpu(pids.nodes) - cpu0.nodes;
      const publisherCpu = cpu(pids.publisher) - cpu0.publisher;

      const netOut = (await netOutput()) - netOut0;
      const resets = nodes.map((n) => n.next("reset-done"));
      for (const n of nodes) n.send({ t: "reset" });
      await Promise.all(resets);

      const received = done.reduce((s, d) => s + d.received, 0);
      const useful = done.reduce((s, d) => s + d.useful, 0);
      const ok =
        ready.every((r) => r.subscriptions === r.subscribeCalls) &&
        done.every((d, i) => d.received === expected[i]) &&
        pub.deliveries === received &&
        pub.sent === messages;
      if (!ok)
        console.error(
          `mismatch: expected ${expected}, got ${done.map((d) => d.received)}, redis ${pub.deliveries}`,
        );
      return {
        subscriptionsPerNode: Math.round(ready.reduce((s, r) => s + r.subscriptions, 0) / NODES),
        setupMs: Math.max(...ready.map((r) => r.setupMs)),
        redisMemSubsMiB: memSubs / 2 ** 20,
        publishPerSec: messages / (pub.ms / 1000),
        publisherCores: publisherCpu / (pub.ms / 1000),
        receivedPerNode: received / NODES,
        usefulPerNode: useful / NODES,
        redisNetOutMB: netOut / 1e6,
        discardedShare: received > 0 ? (received - useful) / received : 0,
        usefulDeliveredPerSec: useful / wallS,
        redisCores: redisCpu / wallS,
        redisUsPerMsg: (redisCpu * 1e6) / messages,
        nodeCores: nodeCpu / wallS,
        nodeUsPerUseful: useful > 0 ? (nodeCpu * 1e6) / useful : 0,
        ok,
      };
    };

    const runs = new Map<Point, RunResult[]>(points.map((p) => [p, []]));
    const started = performance.now();
    const loadBefore = loadavg()[0]!;
    // Repeats outermost, so that noise spreads over every point instead of hitting one.
    for (let r = 0; r < repeats; r++) {
      for (const p of points) {
        // Both schemes of a repeat get the same subsets; each repeat draws new ones.
        const res = await runPoint(p, p.channels * 10 + Math.round(p.interest * 3) + 100_003 * r);
        runs.get(p)!.push(res);
        process.stderr.write(
          `run ${r + 1}/${repeats} ${p.scheme} C=${p.channels} interest=${label(p.interest)}: ` +
            `${Math.round(res.usefulDeliveredPerSec)} useful/s${res.ok ? "" : " (MISMATCH)"}\n`,
        );
      }
    }
    const m = machine();
    console.log(
      `\nM = ${messages} messages of ${PAYLOAD_BYTES} B per run, ${NODES} nodes, ${SHARDS} shards, ` +
        `${repeats} runs per point (medians); ${m.cpus} × ${m.model}, Node ${m.node}, ` +
        `redis ${(await admin.info("server")).match(/redis_version:(\S+)/)?.[1]}; ` +
        `${Math.round((performance.now() - started) / 1000)} s; load average ` +
        `${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after\n`,
    );
    console.log(report(points, runs));
    if (jsonFile) writeFileSync(jsonFile, JSON.stringify([...runs].map(([p, rs]) => ({ ...p, runs: rs }))));
  } finally {
    clearTimeout(hardStop);
    for (const c of children) c.send({ t: "quit" });
    admin.disconnect();
    await redis.kill();
  }
}

function label(interest: number): string {
  return interest >= 1 ? "all" : `1/${Math.round(1 / interest)}`;
}

/** A report column: its heading and how a run's median is shown. */
type Column = [heading: string, value: (r: RunResult) => number, digits?: number, suffix?: string];

const setupColumns: Column[] = [
  ["subscriptions / node", (r) => r.subscriptionsPerNode],
  ["subscribe set-up (ms)", (r) => r.setupMs],
  ["Redis memory for them (MiB)", (r) => r.redisMemSubsMiB, 1],
  ["received / node", (r) => r.receivedPerNode],
  ["discarded", (r) => r.discardedShare * 100, 0, "%"],
  ["Redis net out (MB)", (r) => r.redisNetOutMB],
];

const speedColumns: Column[] = [
  ["publish msgs/s", (r) => r.publishPerSec],
  ["publisher CPU (cores)", (r) => r.publisherCores, 2],
  ["useful deliveries/s", (r) => r.usefulDeliveredPerSec],
  ["Redis CPU (cores)", (r) => r.redisCores, 2],
  ["Redis µs / publish", (r) => r.redisUsPerMsg, 1],
  ["nodes' CPU (cores, 3 nodes)", (r) => r.nodeCores, 2],
  ["node µs / useful msg", (r) => r.nodeUsPerUseful, 1],
];

/** Two Markdown tables of medians: subscriptions and traffic, then speed and CPU. */
function report(points: Point[], runs: Map<Point, RunResult[]>): string {
  const fmt = (v: number, digits = 0) =>
    v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const table = (columns: Column[], check?: [heading: string, cell: (rs: RunResult[]) => string]) => {
    const head = [
      "scheme",
      "C",
      "each node wants",
      ...columns.map((c) => c[0]),
      ...(check ? [check[0]] : []),
    ];
    const rows = points.map((p) => {
      const rs = runs.get(p)!;
      const cells = columns.map(([, f, digits, suffix]) => fmt(median(rs.map(f)), digits) + (suffix ?? ""));
      return [p.scheme, fmt(p.channels), label(p.interest), ...cells, ...(check ? [check[1](rs)] : [])];
    });
    return [line(head), line(head.map(() => "---")), ...rows.map(line)];
  };
  const ok = (rs: RunResult[]) => (rs.every((r) => r.ok) ? "yes" : "NO");
  return [...table(setupColumns, ["counts ok", ok]), "", ...table(speedColumns)].join("\n");
}

const role = process.argv[2];
if (role === "node") await nodeProcess(process.argv[3]!);
else if (role === "publisher") await publisherProcess(process.argv[3]!);
else await coordinator();
