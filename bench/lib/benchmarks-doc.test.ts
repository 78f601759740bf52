import { describe, expect, it } from "vitest";
import { renderBenchmarksDoc } from "./benchmarks-doc.js";
import type { BenchRun } from "./report.js";
import type { BenchRecord } from "./scenario.js";

function record(
  scenario: string,
  system: string,
  params: BenchRecord["params"],
  metrics: BenchRecord["metrics"],
): BenchRecord {
  return { scenario, system, params, metrics, runs: [metrics], cpu: { colink: 0.5 }, flags: [] };
}

const s2Point = (system: string, offered: number, lastP99: number) =>
  record("S2", system, { channels: 1, subscribers: 100, mode: "50% of common peak", offered }, { lastP99 });

const records: BenchRecord[] = [
  record(
    "S1",
    "colink",
    { store: "postgres", workers: 0, mode: "50% of peak", offered: 5000 },
    { p99: 12.5, floorP99: 9.25 },
  ),
  record("S1", "colink", { store: "postgres", workers: 2, mode: "50% of peak", offered: 5600 }, { p99: 31 }),
  record("S1", "colink", { store: "pglite", mode: "50% of peak", offered: 3000 }, { p99: 4 }),
  record(
    "S2",
    "colink/uws",
    { channels: 1, subscribers: 1000 },
    { peakRatio: 1.9, "lastP99DeltaMs@50%": 7.4 },
  ),
  record("S2", "colink/uws", { channels: 1, subscribers: 100 }, { peakRatio: 0.4, "lastP99DeltaMs@50%": 2 }),
  record("S2", "colink/socketio", { channels: 1, subscribers: 1000 }, { peakRatio: 14 }),
  s2Point("colink", 100_000, 6),
  s2Point("colink", 200_000, 9),
  s2Point("uws", 100_000, 1.5),
  s2Point("uws", 200_000, 2.5),
  record("S3", "colink", { store: "postgres", workers: 2 }, { msgsPerSec: 25_500, ofInsertCeilingPct: 52.8 }),
  record("S3", "colink", { store: "postgres", workers: 0 }, { msgsPerSec: 20_500, ofInsertCeilingPct: 42.2 }),
  record("S4", "colink", { connections: 10_000 }, { rssPerConnKiB: 3.39 }),
  record("S4", "colink", { connections: 18_000 }, { rssPerConnKiB: 2.59 }),
  ...(["first", "restart"] as const).map((start, i) =>
    record(
      "S4",
      "colink",
      { point: "idle server", store: "pglite", workers: 1, start },
      { idleMiB: 190 + i * 15, peakMiB: 210, withChildrenPeakMiB: 700 - i * 480, startSec: 9 - i * 7 },
    ),
  ),
  record(
    "S4",
    "colink",
    { point: "idle server", store: "postgres", workers: 2, start: "restart" },
    { idleMiB: 150, peakMiB: 160, withChildrenPeakMiB: 160, startSec: 1.5 },
  ),
  record("S6", "colink", { point: "instant", clients: 10_000 }, { lost: 0, duplicated: 0, catchUpMs: 3900 }),
];

const run: BenchRun = {
  startedAt: "2026-11-28T02:12:39.778Z",
  command: "npm run bench:full -- --only S1,S2",
  machine: { cpus: 2, model: "Test CPU", memoryGiB: 24, node: "v20.20.2" },
  records,
};

/** The cells of the Targets table row whose target starts with `target`. */
function targetRow(markdown: string, target: string): string[] {
  const line = markdown.split("\n").find((l) => l.startsWith(`| ${target}`));
  if (!line) throw new Error(`no target row for ${target}`);
  return line
    .split("|")
    .map((c) => c.trim())
    .slice(1, -1);
}

describe("the benchmarks page", () => {
  const notes = "### Reading these numbers\n\nNotes written by hand.";
  const { markdown, chartSvg } = renderBenchmarksDoc(
    run,
    [{ where: "flushSocket gateway.ts:466", sharePct: 12.5 }],
    notes,
  );

  it("names the run, its command and the machine", () => {
    expect(markdown).toContain("command `npm run bench:full -- --only S1,S2`");
    expect(markdown).toContain("2 × Test CPU, 24 GiB, Node v20.20.2");
  });

  it("checks each target against the records, the worst point deciding", () => {
    expect(targetRow(markdown, "S1 ack p99")).toEqual([
      "S1 ack p99 ≤ 10 ms at 50% of peak",
      "12.5 ms at W=0 (raw Postgres, one message committed per request at the same rate: 9.25 ms); 31 ms at W=2",
      "**no**",
    ]);
    expect(targetRow(markdown, "S2 deliveries/s at 1000")[2]).toBe("yes");
    expect(targetRow(markdown, "S2 deliveries/s at 100 ")[2]).toBe("**no**");
    expect(targetRow(markdown, "S2 deliveries/s at 1000 subscribers per channel ≥ 4×")[1]).toBe("14× (1 ch)");
    expect(targetRow(markdown, "S2 publish→deliver")[1]).toBe("+7.4 ms (worst point)");
    expect(targetRow(markdown, "S2 publish→deliver")[2]).toBe("**no**");
    expect(targetRow(markdown, "S3")[1]).toBe("25,500 msgs/s, 52.8% of the ceiling");
    expect(targetRow(markdown, "S3")[2]).toBe("yes");
    expect(targetRow(markdown, "S4 ≤ 4 KiB")[1]).toBe("3.39 KiB");
    expect(targetRow(markdown, "S4 idle embedded")).toEqual([
      "S4 idle embedded server ≤ 200 MiB RSS, first start and restart",
      "190 MiB (W=1, first), 205 MiB (W=1, restart)",
      "**no**",
    ]);
    expect(targetRow(markdown, "S6 zero lost")[2]).toBe("yes");
    expect(targetRow(markdown, "S6 10,000 clients")[1]).toBe("3.9 s");
  });

  it("says what a run did not measure instead of passing or failing it", () => {
    const only = renderBenchmarksDoc(
      { ...run, records: records.filter((r) => r.scenario === "S1") },
      [],
      "",
    ).markdown;
    expect(targetRow(only, "S3")[2]).toBe("not measured");
    expect(targetRow(only, "S4 ≤ 4 KiB")[2]).toBe("not measured");
    expect(targetRow(only, "S4 idle embedded")[2]).toBe("not measured");
    expect(only).toContain("not profiled in this run");
    expect(only).toContain("Not measured in this run.");
  });

  it("holds the notes, the profile's top costs and a table per scenario", () => {
    expect(markdown).toContain("Notes written by hand.");
    expect(markdown).toContain("| `flushSocket gateway.ts:466` | 12.5% |");
    for (const s of ["S1", "S2", "S3", "S4", "S6"]) expect(markdown).toContain(`\n## ${s}\n`);
    expect(markdown).toMatch(/\n\| S3 \| colink \| postgres \| 2 \|/);
    expect(markdown).toContain("![p99 against offered load](benchmarks-s2-latency.svg)");
  });

  it("gives S4's idle server its own table, out of the connections table", () => {
    const s4 = markdown.slice(markdown.indexOf("\n## S4\n"), markdown.indexOf("\n## S6\n"));
    expect(s4).toContain(
      "| store | W | start | idle RSS (MiB) | peak RSS (MiB) | peak with children (MiB) | start (s) |",
    );
    expect(s4).toContain("| embedded (PGlite) | 1 | first | 190 | 210 | 700 | 9 |");
    expect(s4).toContain("| Postgres | 2 | restart | 150 | 160 | 160 | 1.5 |");
    // The connections table has no idle-server rows (nor their columns).
    expect(s4).not.toContain("idleMiB");
    expect(s4.match(/^\| S4 \| colink \|/gm)).toHaveLength(2);
  });

  it("charts p99 against offered load, one line per system and shape", () => {
    expect(chartSvg).toMatch(/^<svg /);
    expect(chartSvg).toContain(">colink 1ch×100</text>");
    expect(chartSvg).toContain(">uws 1ch×100</text>");
    expect(chartSvg.match(/<polyline /g)).toHaveLength(2);
  });
});
