/** Printing results as tables and saving them as JSON under bench/results/. */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { BenchRecord } from "./scenario.js";

/** What a whole run produced. */
export interface BenchRun {
  startedAt: string;
  command: string;
  machine: { cpus: number; model: string; memoryGiB: number; node: string };
  records: BenchRecord[];
}

/** The machine this runs on, for the report. */
export function machine(): BenchRun["machine"] {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

const cell = (v: unknown) =>
  typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v ?? "");

/** A Markdown table of records: params, metrics and CPU columns. */
export function table(records: BenchRecord[]): string {
  if (records.length === 0) return "(no records)\n";
  const paramKeys = [...new Set(records.flatMap((r) => Object.keys(r.params)))];
  const metricKeys = [...new Set(records.flatMap((r) => Object.keys(r.metrics)))];
  const cpuKeys = [...new Set(records.flatMap((r) => Object.keys(r.cpu)))];
  const head = ["scenario", "system", ...paramKeys, ...metricKeys, ...cpuKeys.map((k) => `cpu ${k}`)];
  const rows = records.map((r) => [
    r.scenario,
    r.system,
    ...paramKeys.map((k) => cell(r.params[k])),
    ...metricKeys.map((k) => cell(r.metrics[k])),
    ...cpuKeys.map((k) => cell(r.cpu[k])),
  ]);
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const flags = records.flatMap((r) =>
    r.flags.map((f) => `- ${r.scenario} ${r.system} ${JSON.stringify(r.params)}: ${f}`),
  );
  return `${[
    line(head),
    line(head.map(() => "---")),
    ...rows.map(line),
    ...(flags.length ? ["", ...flags] : []),
  ].join("\n")}\n`;
}

/** Writes the run to bench/results/<timestamp>.json and returns the path. */
export function save(run: BenchRun): string {
  const dir = new URL("../results/", import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const path = `${dir}${run.startedAt.replace(/[:.]/g, "-")}.json`;
  writeFileSync(path, `${JSON.stringify(run, null, 2)}\n`);
  return path;
}
