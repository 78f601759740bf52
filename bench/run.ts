/**
 * `npm run bench` (the quick suite, a few minutes) and `npm run bench:full` (every
 * scenario and peer, then docs/benchmarks.md). Options:
 *   --only S1,S3        run these scenarios
 *   --repeats N         runs per point (default 3; the report shows medians)
 *   --target URL        load a remote Colink (e.g. https://chat.example.com) instead of
 *                       starting one; with --tokens FILE (one access token per line) when
 *                       it has no dev sign-in. See bench/README.md.
 * Loopback only for local runs; every run stops by itself.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { machine, save, table } from "./lib/report.js";
import type { BenchContext, BenchRecord, Scenario, Target } from "./lib/scenario.js";
import { s1 } from "./scenarios/s1-send.js";

/** Every scenario, in report order. */
const scenarios: Scenario[] = [s1];

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

async function main(): Promise<void> {
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
  for (const s of scenarios.filter((x) => !only || only.includes(x.id))) {
    ctx.progress(`${s.id}: ${s.title}`);
    const got = await s.run(ctx);
    records.push(...got);
    console.log(table(got));
  }
  const path = save({
    startedAt: new Date(started).toISOString(),
    command: `npm run ${full ? "bench:full" : "bench"} -- ${process.argv.slice(2).join(" ")}`.trim(),
    machine: machine(),
    records,
  });
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
