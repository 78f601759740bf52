/**
 * `npm run bench` (the quick suite, under 3 minutes; S7 only when named with --only) and
 * `npm run bench:full` (every scenario and peer, then docs/benchmarks.md; S8 to S12 only
 * when named with --only). Options:
 *   --only S1,S3        run these scenarios
 *   --repeats N         runs per point (default 3; the report shows medians)
 *   --rate N            S10's fixed offered rate for its open-loop rows, msgs/s (default 5000)
 *   --no-profile        bench:full without the CPU profile pass (its top costs go in the page)
 *   --target URL        load a remote Colink (e.g. https://chat.example.com) instead of
 *                       starting one; with --tokens FILE (one access token per line) when
 *                       it has no dev sign-in. See bench/README.md.
 * Loopback only for local runs; every run stops by itself.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { writeBenchmarksDoc } from "./lib/benchmarks-doc.js";
import { defaultBenchWorkers } from "./lib/colink-target.js";
import type { Cost } from "./lib/profile.js";
import { profileSendPath } from "./lib/profile-run.js";
import { type BenchRun, machine, save, table } from "./lib/report.js";
import {
  type BenchContext,
  type BenchRecord,
  chooseScenarios,
  type Scenario,
  type Target,
} from "./lib/scenario.js";
import { s1 } from "./scenarios/s1-send.js";
import { s2 } from "./scenarios/s2-fanout.js";
import { s3 } from "./scenarios/s3-durable.js";
import { s4 } from "./scenarios/s4-idle.js";
import { s5 } from "./scenarios/s5-http.js";
import { s6 } from "./scenarios/s6-reconnect.js";
import { s7 } from "./scenarios/s7-cluster.js";
import { s8 } from "./scenarios/s8-search.js";
import { s9 } from "./scenarios/s9-thumbnails.js";
import { s10 } from "./scenarios/s10-kafka-relay.js";
import { s11 } from "./scenarios/s11-files.js";
import { s12 } from "./scenarios/s12-fairness.js";

/** Every scenario, in report order. */
const scenarios: Scenario[] = [s1, s2, s3, s4, s5, s6, s7];

/**
 * Scenarios that run only when named with --only, in neither suite (docs/benchmarks.md has
 * no part for them): S8 loads its own corpus (1M messages with --full, about 11 minutes
 * here), S9 measures the thumbnail pool rather than the server, S10 starts its own Kafka
 * broker, S11 starts its own clamd and writes gigabytes, and S12 runs two servers side by
 * side under a deliberate flood.
 */
const namedOnly: Scenario[] = [s8, s9, s10, s11, s12];

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function targetOf(): Target {
  const url = option("target");
  if (!url) return { kind: "local" };
  const base = url.replace(/\/$/, "");
  const tokensFile = option("tokens");
  return {
    kind: "remote",
    baseUrl: base,
    wsUrl: `${base.replace(/^http/, "ws")}/ws`,
    tokens: tokensFile
      ? readFileSync(tokensFile, "utf8")
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean)
      : [],
  };
}

/**
 * `--doc-from a.json,b.json`: writes docs/benchmarks.md from saved runs (records merged
 * in order), profiling once more, without running the scenarios again.
 */
async function docFrom(files: string[]): Promise<void> {
  const runs = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as BenchRun);
  // The runs' commands, then this one: the page's profile is made here, not in the runs.
  const thisCommand = `npx tsx bench/run.ts ${process.argv.slice(2).join(" ")}`;
  const merged: BenchRun = {
    ...runs[0]!,
    command: [...runs.map((r) => r.command), thisCommand].join("; "),
    records: runs.flatMap((r) => r.records),
  };
  console.log("[bench] building dist/");
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
  const costs = await profileUnlessSkipped((line) => console.log(`[bench] ${line}`));
  writeBenchmarksDoc(merged, costs, readFileSync(new URL("./benchmarks-notes.md", import.meta.url), "utf8"));
  console.log("[bench] wrote docs/benchmarks.md");
}

/**
 * The top costs of a CPU profile of Colink under the S1 send load, for the report; none
 * with --no-profile, or when the pass does not finish in 2 minutes (the page then says
 * it was not profiled).
 */
async function profileUnlessSkipped(progress: (line: string) => void): Promise<Cost[]> {
  if (process.argv.includes("--no-profile")) return [];
  progress("profiling Colink under the S1 send load");
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Cost[]>((resolve) => {
    timer = setTimeout(() => {
      progress("the profiling pass did not finish in 2 minutes: the page goes without it");
      resolve([]);
    }, 120_000);
  });
  try {
    return await Promise.race([profileSendPath(defaultBenchWorkers), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const from = option("doc-from");
  if (from) return docFrom(from.split(","));
  const full = process.argv.includes("--full");
  const only = option("only")?.split(",");
  const target = targetOf();
  if (target.kind === "local") {
    console.log("[bench] building dist/");
    execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
  }
  const started = Date.now();
  const ctx: BenchContext = {
    quick: !full,
    repeats: Number(option("repeats") ?? 3),
    target,
    progress: (line) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`),
  };
  const records: BenchRecord[] = [];
  for (const s of chooseScenarios(only ? [...scenarios, ...namedOnly] : scenarios, full, only)) {
    ctx.progress(`${s.id}: ${s.title}`);
    const got = await s.run(ctx);
    records.push(...got);
    console.log(table(got));
  }
  const run = {
    startedAt: new Date(started).toISOString(),
    // bench:full passes --full itself: the command says it once.
    command: `npm run ${full ? "bench:full" : "bench"} -- ${process.argv
      .slice(2)
      .filter((a) => a !== "--full")
      .join(" ")}`.trim(),
    machine: machine(),
    records,
  };
  const path = save(run);
  if (full && target.kind === "local" && !only) {
    const costs = await profileUnlessSkipped(ctx.progress);
    writeBenchmarksDoc(run, costs, readFileSync(new URL("./benchmarks-notes.md", import.meta.url), "utf8"));
    ctx.progress("wrote docs/benchmarks.md");
  }
  console.log(
    `[bench] ${records.length} points in ${((Date.now() - started) / 1000).toFixed(0)} s, saved ${path}`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
