/**
 * docs/benchmarks.md from a full run: the machine and command, the targets of issue 4
 * with what was measured, the cost of the cluster's Redis hop (S7), one table per scenario, the latency chart (SVG beside the
 * page) and the top costs of a CPU profile.
 */
import { writeFileSync } from "node:fs";
import { lineChart, type Series } from "./chart.js";
import { idleServerPoint } from "./idle-rss.js";
import type { Cost } from "./profile.js";
import { type BenchRun, table } from "./report.js";
import type { BenchRecord } from "./scenario.js";

/** A target of the issue, checked against the records. */
interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

const fmt = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n) ? "n/a" : n.toLocaleString("en", { maximumFractionDigits: digits });

function find(
  records: BenchRecord[],
  scenario: string,
  system: string,
  where: (r: BenchRecord) => boolean = () => true,
) {
  return records.filter((r) => r.scenario === scenario && r.system === system && where(r));
}

/** Checks what the records allow; a target with no matching record says so. */
function checkTargets(records: BenchRecord[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const best = (rs: BenchRecord[], metric: string) =>
    Math.max(...rs.map((r) => r.metrics[metric] ?? Number.NaN));
  // S2: the ratio records (system "colink/<peer>") pair each Colink run with a peer run.
  const ratio = (peer: string, subs: number) =>
    records.filter(
      (r) => r.scenario === "S2" && r.system === `colink/${peer}` && Number(r.params.subscribers) === subs,
    );
  for (const [peer, subs, need, label] of [
    ["uws", 1000, 0.7, "≥ 70% of bare uWS"],
    ["uws", 100, 0.5, "≥ 50% of bare uWS"],
    ["socketio", 1000, 4, "≥ 4× Socket.IO"],
  ] as const) {
    const rs = ratio(peer, subs);
    const got = rs.map(
      (r) =>
        `${fmt((r.metrics.peakRatio ?? Number.NaN) * (peer === "uws" ? 100 : 1))}${peer === "uws" ? "%" : "×"} (${r.params.channels} ch)`,
    );
    out.push({
      target: `S2 deliveries/s at ${subs} subscribers per channel ${label}`,
      measured: got.join(", ") || "n/a",
      met: rs.length ? rs.every((r) => (r.metrics.peakRatio ?? 0) >= need) : null,
    });
  }
  const deltas = records
    .filter((r) => r.scenario === "S2" && r.system === "colink/uws")
    .map((r) => r.metrics["lastP99DeltaMs@50%"])
    .filter((d): d is number => d !== undefined && Number.isFinite(d));
  out.push({
    target: "S2 publish→deliver p99 ≤ bare uWS p99 + 5 ms at the same offered rate (50% of the common peak)",
    measured: deltas.length ? `+${fmt(Math.max(...deltas), 2)} ms (worst point)` : "n/a",
    met: deltas.length ? Math.max(...deltas) <= 5 : null,
  });
  const s3 = find(records, "S3", "colink", (r) => r.params.store === "postgres");
  const ceilingPct = best(s3, "ofInsertCeilingPct");
  out.push({
    target: "S3 persisted msgs/s ≥ 50% of 1,000-row batched INSERTs",
    measured: `${fmt(best(s3, "msgsPerSec"), 0)} msgs/s, ${fmt(ceilingPct)}% of the ceiling`,
    met: Number.isFinite(ceilingPct) ? ceilingPct >= 50 : null,
  });
  // One line per W measured on Postgres; the best decides.
  const s1 = find(
    records,
    "S1",
    "colink",
    (r) => r.params.store === "postgres" && r.params.mode === "50% of peak",
  ).sort((a, b) => (a.metrics.p99 ?? Number.NaN) - (b.metrics.p99 ?? Number.NaN));
  const p99 = s1[0]?.metrics.p99 ?? Number.NaN;
  out.push({
    target: "S1 ack p99 ≤ 10 ms at 50% of peak",
    measured: s1.length
      ? s1
          .map((r) => {
            const floorP99 = r.metrics.floorP99;
            return (
              `${fmt(r.metrics.p99, 2)} ms` +
              (r.params.workers === undefined ? "" : ` at W=${r.params.workers}`) +
              (floorP99 === undefined
                ? ""
                : ` (raw Postgres, one message committed per request at the same rate: ${fmt(floorP99, 2)} ms)`)
            );
          })
          .join("; ")
      : "n/a",
    met: Number.isFinite(p99) ? p99 <= 10 : null,
  });
  const s4 = find(records, "S4", "colink", (r) => !isIdleServer(r));
  const perConn = Math.max(...s4.map((r) => r.metrics.rssPerConnKiB ?? Number.NaN));
  out.push({
    target: "S4 ≤ 4 KiB RSS per idle connection",
    measured: `${fmt(perConn, 2)} KiB`,
    met: Number.isFinite(perConn) ? perConn <= 4 : null,
  });
  const idle = find(records, "S4", "colink", (r) => isIdleServer(r) && r.params.store === "pglite");
  const worstIdle = Math.max(...idle.map((r) => r.metrics.idleMiB ?? Number.NaN));
  out.push({
    target: "S4 idle embedded server ≤ 200 MiB RSS, first start and restart",
    measured: idle.length
      ? idle
          .map((r) => `${fmt(r.metrics.idleMiB, 0)} MiB (W=${r.params.workers}, ${r.params.start})`)
          .join(", ")
      : "n/a",
    met: Number.isFinite(worstIdle) ? worstIdle <= 200 : null,
  });
  const s6 = find(records, "S6", "colink");
  const lost = Math.max(...s6.map((r) => (r.metrics.lost ?? 0) + (r.metrics.duplicated ?? 0)));
  const catchUp =
    Math.max(
      ...s6.filter((r) => Number(r.params.clients) >= 10_000).map((r) => r.metrics.catchUpMs ?? Number.NaN),
    ) / 1000;
  out.push({
    target: "S6 zero lost or duplicated events",
    measured: `${fmt(lost, 0)}`,
    met: s6.length ? lost === 0 : null,
  });
  out.push({
    target: "S6 10,000 clients caught up in < 15 s",
    measured: `${fmt(catchUp, 2)} s`,
    met: Number.isFinite(catchUp) ? catchUp < 15 : null,
  });
  return out;
}

/** An S4 record of the idle server (no connections) rather than of a connection count. */
function isIdleServer(r: BenchRecord): boolean {
  return r.scenario === "S4" && r.params.point === idleServerPoint;
}

/** S4's idle-server records as their own table: what the server holds before any load. */
function idleServerTable(records: BenchRecord[]): string[] {
  const idle = records.filter(isIdleServer);
  if (idle.length === 0) return [];
  return [
    "Idle server, no connections (bench/lib/idle-rss.ts): RSS a few seconds after the first start on empty data (PGlite's initdb or a new Postgres schema, and the migrations) and after a restart on the same data; the peak is the server process's VmHWM, and with its children (PGlite's initdb runs in a child process that exits) sampled every 100 ms. On Postgres the database server's own memory is not counted.",
    "",
    "| store | W | start | idle RSS (MiB) | peak RSS (MiB) | peak with children (MiB) | start (s) |",
    "|---|---|---|---|---|---|---|",
    ...idle.map(
      (r) =>
        `| ${r.params.store === "pglite" ? "embedded (PGlite)" : "Postgres"} | ${r.params.workers} | ${r.params.start} | ${fmt(r.metrics.idleMiB, 0)} | ${fmt(r.metrics.peakMiB, 0)} | ${fmt(r.metrics.withChildrenPeakMiB, 0)} | ${fmt(r.metrics.startSec, 2)} |`,
    ),
    "",
  ];
}

/**
 * S7 has no target: it measures what the Redis hop costs. Lines from its ratio record
 * (2-node/1-node) and its request/reply records.
 */
function clusterCost(records: BenchRecord[]): string[] {
  const ratio = records.find((r) => r.scenario === "S7" && r.system === "2-node/1-node");
  if (!ratio) return ["Not measured in this run."];
  const m = ratio.metrics;
  const ack = (system: string) =>
    records.find((r) => r.scenario === "S7" && r.system === system && r.params.mode === "request/reply")
      ?.metrics ?? {};
  const a1 = ack("1-node");
  const a2 = ack("2-node");
  const shares = Object.keys(m)
    .filter((k) => k.startsWith("allP99DeltaMs@"))
    .map((k) => k.slice("allP99DeltaMs@".length));
  return [
    `S7: the S2 fan-out (${ratio.params.channels} channels × ${ratio.params.subscribers} subscribers) on 2 nodes + Redis, half of every channel's subscribers and half of the publishers on the node that does not own it, against 1 node with Redis configured; both on this one machine.`,
    "",
    "| cost of the Redis hop | measured |",
    "|---|---|",
    `| peak deliveries/s, 2-node / 1-node | ${fmt(m.peak2Node, 0)} / ${fmt(m.peak1Node, 0)} = ${fmt(m.peakRatio, 3)} |`,
    ...shares.map(
      (s) =>
        `| publish→deliver p99 (every delivery), 2-node − 1-node at ${s} of the common peak | ${fmt(m[`allP99DeltaMs@${s}`], 2)} ms (to the last subscriber: ${fmt(m[`lastP99DeltaMs@${s}`], 2)} ms; 2-node subscribers via Redis − on the owner: ${fmt(m[`remoteMinusLocalP99Ms@${s}`], 2)} ms) |`,
    ),
    `| \`msg.send\` ack p50 / p99 at ${fmt(a2.offeredPerSec, 0)}/s: sender on the owner / forwarded over Redis (2-node) | ${fmt(a2.ownerP50, 2)} / ${fmt(a2.ownerP99, 2)} ms, ${fmt(a2.forwardedP50, 2)} / ${fmt(a2.forwardedP99, 2)} ms (1-node: ${fmt(a1.ownerP50, 2)} / ${fmt(a1.ownerP99, 2)} ms) |`,
  ];
}

/** p99 against offered load of S2's constant-rate points, one line per system and shape. */
function chartSeries(records: BenchRecord[]): Series[] {
  const bySeries = new Map<string, Series>();
  for (const r of records) {
    if (r.scenario !== "S2" || r.params.offered === undefined) continue;
    const name = `${r.system} ${r.params.channels}ch×${r.params.subscribers}`;
    const s = bySeries.get(name) ?? { name, points: [] };
    s.points.push({ x: Number(r.params.offered), y: r.metrics.lastP99 ?? Number.NaN });
    bySeries.set(name, s);
  }
  return [...bySeries.values()];
}

/** Writes docs/benchmarks.md and docs/benchmarks-s2-latency.svg. */
export function writeBenchmarksDoc(run: BenchRun, costs: Cost[], notes: string): void {
  const docs = new URL("../../docs/", import.meta.url).pathname;
  const { markdown, chartSvg } = renderBenchmarksDoc(run, costs, notes);
  writeFileSync(`${docs}benchmarks-s2-latency.svg`, chartSvg);
  writeFileSync(`${docs}benchmarks.md`, markdown);
}

/** The page (which links the chart as benchmarks-s2-latency.svg) and the chart. */
export function renderBenchmarksDoc(
  run: BenchRun,
  costs: Cost[],
  notes: string,
): { markdown: string; chartSvg: string } {
  const chartSvg = lineChart(
    "S2 publish→deliver p99 against offered load",
    "offered deliveries/s",
    "p99 to last subscriber (ms)",
    chartSeries(run.records),
  );
  const checks = checkTargets(run.records);
  const scenarios = [...new Set(run.records.map((r) => r.scenario))];
  const lines = [
    "# Benchmarks",
    "",
    "Generated by `npm run bench:full` (bench/run.ts); do not edit by hand.",
    "",
    `- Run: ${run.startedAt}, command \`${run.command}\``,
    `- Machine: ${run.machine.cpus} × ${run.machine.model}, ${run.machine.memoryGiB} GiB, Node ${run.machine.node}; server, generators, Postgres and peers share it.`,
    "- Every point is the median of its runs; Colink and each peer run alternately in the same session. CPU columns are cores used (1.0 = one core busy).",
    "",
    "## Targets",
    "",
    "| target | measured | met |",
    "|---|---|---|",
    ...checks.map(
      (c) =>
        `| ${c.target} | ${c.measured} | ${c.met === null ? "not measured" : c.met ? "yes" : "**no**"} |`,
    ),
    "",
    notes.trim(),
    "",
    "## Cluster: the cost of the Redis hop (S7)",
    "",
    ...clusterCost(run.records),
    "",
    "## Latency against offered load (S2)",
    "",
    "![p99 against offered load](benchmarks-s2-latency.svg)",
    "",
    "## Where Colink's time goes",
    "",
    "Self time per function in a CPU profile of Colink (`--cpu-prof`) under the S1 send load (closed loop, Postgres), idle excluded:",
    "",
    "| function | share of busy time |",
    "|---|---|",
    ...(costs.length > 0
      ? costs.map((c) => `| \`${c.where}\` | ${c.sharePct}% |`)
      : ["| not profiled in this run (`--no-profile`, or the pass did not finish) | |"]),
    "",
    ...scenarios.flatMap((s) => [
      `## ${s}`,
      "",
      ...(run.records.some((r) => r.scenario === s && !isIdleServer(r))
        ? [table(run.records.filter((r) => r.scenario === s && !isIdleServer(r)))]
        : []),
      ...(s === "S4" ? idleServerTable(run.records) : []),
      "",
    ]),
  ];
  return { markdown: `${lines.join("\n")}\n`, chartSvg };
}
