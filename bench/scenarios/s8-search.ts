/**
 * S8, search: the `search` op on a large corpus, Postgres full-text against OpenSearch.
 * Runs only when named (`--only S8`; quick: 20,000 messages, `--full`: 1,000,000;
 * `S8_MESSAGES` overrides either).
 *
 * 1. **Load**: a seeded chat-like corpus (bench/lib/search-corpus.ts) over 1,000 channels
 *    (200 public, 800 private), written straight into the schema with COPY
 *    (bench/lib/search-load-db.ts: users, channels with `last_seq`, memberships, messages
 *    and their `message.created` events) while the server is stopped.
 * 2. **Index time**: Colink (W = 2) starts on that data and its Postgres indexer (follower
 *    `search`) catches up: from the start of the server until every channel's position in
 *    `log_feed_positions` is its `last_seq`, polled every 250 ms; then OpenSearch is started,
 *    a second Colink on the same schema with `OPENSEARCH_URL` (the first one stopped) and its
 *    `opensearch` follower timed the same way. Both checked: the `search_messages` rows and
 *    the OpenSearch `_count` must equal the messages.
 * 3. **Query latency**: 16 searcher users, each a member of the same 100 channels (20
 *    public, 80 private; readable: those and the other public ones, 280 channels), ask the
 *    fixed query mix over the SDK, closed loop, with 1 and with 16 searchers at once, for a
 *    window each (quick 5 s, full 30 s, after a warm-up). Distinct users because a user's
 *    requests queue in their user actor, one at a time: 16 connections of one user would
 *    measure that queue, not the index. The two servers run alternately (one at a time on
 *    the same schema), round by round.
 * 4. **Correctness guard**: every answer's hits (first page, sort=recent) are checked
 *    against the channels the searchers may read, from the memberships the load wrote, in
 *    the timed windows and in a pass asking each query once per round (plus `in:` a private
 *    channel they are not in, which must find nothing). Violations must be 0.
 */
import { readdirSync, readFileSync } from "node:fs";
import postgres from "postgres";
import { limitsOutOfReach } from "../../test/support/limits.js";
import { startOpenSearch, type TestOpenSearch } from "../../test/support/opensearch.js";
import { type ColinkProcess, localDatabaseUrl, startColink } from "../../test/support/processes.js";
import type { SearchLoadResult, SearchLoadTask, SearchPhaseResult } from "../generators/search-load.js";
import { startGenerators } from "../lib/generators.js";
import { CpuMeter, cpuOverWindow, postgresPids } from "../lib/proc.js";
import { users } from "../lib/provision.js";
import {
  type BenchContext,
  type BenchRecord,
  measure,
  type RunOutcome,
  type Scenario,
} from "../lib/scenario.js";
import {
  type CorpusShape,
  guardQueries,
  planCorpus,
  queryMix,
  readableChannels,
} from "../lib/search-corpus.js";
import { loadCorpus } from "../lib/search-load-db.js";
import { median, mergeEncoded, summarise } from "../lib/stats.js";

const generatorModule = "generators/search-load.ts";
const workers = 2;
const searcherCount = 16;
const searcherPrefix = "s8searcher";
/** Time for the generator process to start and connect before its window. */
const startLeadMs = 3000;

type Adapter = "postgres" | "opensearch";

/** The shape of the corpus for a run. */
export function s8Shape(quick: boolean): CorpusShape {
  const messages = Number(process.env.S8_MESSAGES || (quick ? 20_000 : 1_000_000));
  return {
    messages,
    channels: 1000,
    authors: 200,
    publicChannels: 200,
    searcherChannels: 100,
    seed: 8,
    startAt: Date.UTC(2026, 0, 1),
    spanDays: 90,
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pids of the OpenSearch JVM listening on `port` (found by its command line). */
function openSearchPids(port: number): number[] {
  const flag = `-Ehttp.port=${port}`;
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").includes(flag)) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Waits until `follower` has handled every channel's log of `schema`; returns the events
 * handled so far on each progress line. Fails after `timeoutMs`.
 */
async function caughtUp(
  sql: postgres.Sql,
  follower: string,
  timeoutMs: number,
  progress: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  for (;;) {
    const [row] = await sql<Array<{ behind: number; done: number; total: number }>>`
      SELECT count(*) FILTER (WHERE c.last_seq > coalesce(p.seq, 0))::int AS behind,
        coalesce(sum(least(coalesce(p.seq, 0), c.last_seq)), 0)::float8 AS done,
        sum(c.last_seq)::float8 AS total
      FROM channels c LEFT JOIN log_feed_positions p ON p.follower = ${follower} AND p.channel_id = c.id`;
    if (row!.behind === 0) return;
    if (Date.now() > deadline) throw new Error(`S8: ${follower} did not catch up in ${timeoutMs} ms`);
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      progress(
        `S8 index ${follower}: ${Math.round(row!.done).toLocaleString("en-US")} of ${Math.round(row!.total).toLocaleString("en-US")} events, ${row!.behind} channels behind`,
      );
    }
    await sleep(250);
  }
}

export const s8: Scenario = {
  id: "S8",
  title: "Search: index time and query latency, Postgres full-text against OpenSearch",
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    if (ctx.target.kind === "remote") {
      ctx.progress("S8 loads its corpus into its own database: skipped against a remote target");
      return [];
    }
    const shape = s8Shape(ctx.quick);
    const windowMs = ctx.quick ? 5_000 : 30_000;
    const warmupMs = ctx.quick ? 1_000 : 3_000;
    const env = {
      COLINK_WORKERS: String(workers),
      COLINK_MAX_PENDING_REQUESTS: "100000",
      // 16 searchers as fast as the answers come (see withColink).
      ...limitsOutOfReach,
    };
    const records: BenchRecord[] = [];
    const base = { messages: shape.messages, channels: shape.channels };
    const started = Date.now();

    const pg = await startColink("postgres", env);
    const schema = pg.schema!;
    const sql = postgres(localDatabaseUrl, {
      max: 1,
      onnotice: () => {},
      connection: { search_path: schema },
    });
    let os: TestOpenSearch | null = null;
    let osColink: ColinkProcess | null = null;
    try {
      // The searchers exist before the load, which makes them members.
      const searchers = await users(pg.baseUrl, searcherPrefix, searcherCount);
      await pg.stop();
      const plan = planCorpus(shape);
      const readable = readableChannels(plan);
      ctx.progress(
        `S8 load: ${shape.messages.toLocaleString("en-US")} messages over ${shape.channels} channels (${shape.publicChannels} public), ${searcherCount} searchers in ${shape.searcherChannels} channels, ${readable.size} readable`,
      );
      const loaded = await loadCorpus(
        schema,
        plan,
        searchers.map((s) => s.userId),
        ctx.progress,
      );
      const loadSec = loaded.ms / 1000;
      ctx.progress(`S8 loaded in ${loadSec.toFixed(1)} s`);
      records.push({
        scenario: "S8",
        system: "load (COPY)",
        params: { ...base, phase: "load" },
        metrics: {
          loadSec: round2(loadSec),
          msgsPerSec: Math.round(loaded.messages / loadSec),
          events: loaded.events,
          publicChannels: shape.publicChannels,
          searcherChannels: shape.searcherChannels,
          readableChannels: readable.size,
        },
        runs: [],
        cpu: {},
        flags: [],
      });
      const indexTimeoutMs = Math.max(300_000, shape.messages * 5);

      // Postgres full-text: the server starts on the loaded data; its indexer catches up.
      {
        const meter = new CpuMeter({ colink: () => [pg.pid], postgres: postgresPids });
        meter.begin();
        const t0 = performance.now();
        await pg.restart();
        const startSec = (performance.now() - t0) / 1000;
        await caughtUp(sql, "search", indexTimeoutMs, ctx.progress);
        const sec = (performance.now() - t0) / 1000;
        const cpu = meter.end();
        const [{ n }] = (await sql`SELECT count(*)::int AS n FROM search_messages`) as unknown as [
          { n: number },
        ];
        ctx.progress(`S8 Postgres indexer caught up in ${sec.toFixed(1)} s (${n} rows)`);
        records.push(indexRecord("postgres", base, sec, startSec, n, shape.messages, cpu));
      }

      // OpenSearch: a second server on the same schema (the first stopped), its follower timed.
      os = await startOpenSearch({ log: (line) => ctx.progress(`S8 ${line}`) });
      await pg.stop();
      {
        const osPort = os.port;
        const meter = new CpuMeter({
          colink: () => (osColink ? [osColink.pid] : []),
          postgres: postgresPids,
          opensearch: () => openSearchPids(osPort),
        });
        meter.begin();
        const t0 = performance.now();
        osColink = await startColink("postgres", {
          ...env,
          COLINK_DB_SCHEMA: schema,
          OPENSEARCH_URL: os.url,
        });
        const startSec = (performance.now() - t0) / 1000;
        await caughtUp(sql, "opensearch", indexTimeoutMs, ctx.progress);
        const sec = (performance.now() - t0) / 1000;
        const cpu = meter.end();
        const res = await fetch(`${os.url}/colink-messages/_count`);
        const n = res.ok ? ((await res.json()) as { count: number }).count : -1;
        ctx.progress(`S8 OpenSearch follower caught up in ${sec.toFixed(1)} s (${n} documents)`);
        records.push(indexRecord("opensearch", base, sec, startSec, n, shape.messages, cpu));
      }

      // Queries: the two servers alternately, one at a time.
      const servers: Record<Adapter, ColinkProcess> = { postgres: pg, opensearch: osColink };
      let running: Adapter = "opensearch";
      const use = async (adapter: Adapter): Promise<ColinkProcess> => {
        if (running !== adapter) {
          await servers[running].stop();
          await servers[adapter].restart();
          running = adapter;
        }
        return servers[adapter];
      };
      const mix = queryMix(plan);
      const guard = guardQueries(plan);
      const levels = [1, searcherCount];
      const adapters: Adapter[] = ["postgres", "opensearch"];
      const outcomes = new Map<string, RunOutcome[]>();
      const kindOutcomes = new Map<string, RunOutcome[]>();
      const checks: Record<Adapter, SearchLoadResult["checks"][]> = { postgres: [], opensearch: [] };
      const push = (map: Map<string, RunOutcome[]>, key: string, o: RunOutcome) =>
        map.set(key, [...(map.get(key) ?? []), o]);
      const osPort = os.port;
      for (let r = 0; r < ctx.repeats; r++) {
        for (const adapter of adapters) {
          const server = await use(adapter);
          const tokens = await users(server.baseUrl, searcherPrefix, searcherCount);
          for (const [i, t] of tokens.entries()) {
            if (t.userId !== searchers[i]!.userId)
              throw new Error(`S8: searcher ${i} signed in as another user`);
          }
          const task = (phases: number[], check: boolean): SearchLoadTask => ({
            wsUrl: server.wsUrl,
            tokens: tokens.map((t) => t.token),
            mix,
            guard,
            readable: [...readable],
            check,
            phases,
            startAt: Date.now() + startLeadMs,
            warmupMs,
            durationMs: windowMs,
          });
          const [checked] = await Promise.all(
            startGenerators<SearchLoadTask, SearchLoadResult>(generatorModule, [task([], true)]).map(
              (g) => g.result,
            ),
          );
          checks[adapter].push(checked!.checks);
          for (const searchersNow of levels) {
            ctx.progress(`S8 ${adapter}, ${searchersNow} searcher(s), round ${r + 1}/${ctx.repeats}`);
            const t = task([searchersNow], false);
            const gens = startGenerators<SearchLoadTask, SearchLoadResult>(generatorModule, [t]);
            const meter = new CpuMeter({
              colink: () => [server.pid],
              postgres: postgresPids,
              opensearch: () => openSearchPids(osPort),
              generator: () => gens.map((g) => g.pid),
            });
            const cpu = await cpuOverWindow(meter, t.startAt + warmupMs, windowMs);
            const [result] = await Promise.all(gens.map((g) => g.result));
            const phase = result!.phases[0]!;
            push(outcomes, `${adapter}/${searchersNow}`, { metrics: phaseMetrics(phase), cpu });
            for (const [kind, k] of Object.entries(phase.byKind)) {
              const lat = summarise(mergeEncoded([k.histogram]));
              push(kindOutcomes, `${adapter}/${searchersNow}/${kind}`, {
                metrics: { queries: k.queries, p50: lat.p50, p99: lat.p99 },
                cpu: {},
              });
            }
          }
        }
      }

      // Records: per adapter and searchers, the ratio, per query kind, the correctness pass.
      const recordOf = (b: Omit<BenchRecord, "metrics" | "runs" | "cpu" | "flags">, list: RunOutcome[]) => {
        let i = 0;
        return measure(b, list.length, async () => list[i++]!);
      };
      for (const searchersNow of levels) {
        const byAdapter: Partial<Record<Adapter, RunOutcome[]>> = {};
        for (const adapter of adapters) {
          const list = outcomes.get(`${adapter}/${searchersNow}`)!;
          byAdapter[adapter] = list;
          const rec = await recordOf(
            {
              scenario: "S8",
              system: `colink/${adapter}`,
              params: { ...base, phase: "query", searchers: searchersNow },
            },
            list,
          );
          const violations = list.reduce((s, o) => s + (o.metrics.violations ?? 0), 0);
          const errors = list.reduce((s, o) => s + (o.metrics.errors ?? 0), 0);
          const degraded = list.reduce((s, o) => s + (o.metrics.degraded ?? 0), 0);
          if (violations > 0) rec.flags.push(`${violations} hits in channels the searcher cannot read`);
          if (errors > 0) rec.flags.push(`${errors} searches failed`);
          if (degraded > 0) rec.flags.push(`${degraded} answers degraded (Postgres answered for OpenSearch)`);
          records.push(rec);
        }
        // The ratio OpenSearch/Postgres, round by round (the pair ran back to back), then the median.
        const ratioRuns = byAdapter.postgres!.map((p, i) => {
          const o = byAdapter.opensearch![i]!.metrics;
          const q = p.metrics;
          const ratio = (k: string) => (q[k]! > 0 ? Math.round((o[k]! / q[k]!) * 1000) / 1000 : Number.NaN);
          return { qps: ratio("qps"), p50: ratio("p50"), p99: ratio("p99"), p999: ratio("p999") };
        });
        records.push({
          scenario: "S8",
          system: "opensearch/postgres",
          params: { ...base, phase: "query", searchers: searchersNow },
          metrics: Object.fromEntries(
            Object.keys(ratioRuns[0]!).map((k) => [k, median(ratioRuns.map((x) => x[k as keyof typeof x]))]),
          ),
          runs: ratioRuns,
          cpu: {},
          flags: [],
        });
      }
      for (const adapter of adapters) {
        for (const searchersNow of levels) {
          for (const { kind } of mix) {
            records.push(
              await recordOf(
                {
                  scenario: "S8",
                  system: `colink/${adapter}`,
                  params: { ...base, phase: "query kind", searchers: searchersNow, query: kind },
                },
                kindOutcomes.get(`${adapter}/${searchersNow}/${kind}`)!,
              ),
            );
            // First-page hits of the kind in the correctness pass (first round).
            const checked = checks[adapter][0]!.find((c) => c.kind === kind)!;
            records[records.length - 1]!.metrics.firstPageHits = checked.hitIds.length;
          }
        }
      }
      // The correctness pass: violations, what the guard query found, and how far the two
      // engines' first pages agree (shared hits over the larger page, first round).
      const pgFirst = new Map(checks.postgres[0]!.map((c) => [c.kind, c]));
      for (const adapter of adapters) {
        const all = checks[adapter].flat();
        const violations = all.reduce((s, c) => s + c.violations, 0);
        const guardHits = all
          .filter((c) => c.kind === "in-unreadable")
          .reduce((s, c) => s + c.hitIds.length, 0);
        const rec: BenchRecord = {
          scenario: "S8",
          system: `colink/${adapter}`,
          params: { ...base, phase: "check" },
          metrics: {
            queriesChecked: all.length,
            violations,
            guardHits,
            emptyMixQueries: checks[adapter][0]!.filter(
              (c) => c.kind !== "in-unreadable" && c.hitIds.length === 0,
            ).length,
            degraded: all.filter((c) => c.degraded).length,
          },
          runs: [],
          cpu: {},
          flags: [],
        };
        if (adapter === "opensearch") {
          const overlaps = checks.opensearch[0]!.filter((c) => c.kind !== "in-unreadable").map((c) => {
            const p = pgFirst.get(c.kind)!.hitIds;
            const shared = c.hitIds.filter((id) => p.includes(id)).length;
            const size = Math.max(p.length, c.hitIds.length);
            return size === 0 ? 100 : (shared / size) * 100;
          });
          rec.metrics.firstPageOverlapPct = Math.round(median(overlaps));
          rec.metrics.minFirstPageOverlapPct = Math.round(Math.min(...overlaps));
        }
        if (violations + guardHits > 0)
          rec.flags.push(`${violations + guardHits} hits the searcher may not see`);
        records.push(rec);
        ctx.progress(
          `S8 check ${adapter}: ${all.length} queries, ${violations} violations, ${guardHits} hits for in:#<unreadable>`,
        );
      }
      ctx.progress(`S8 done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      return records;
    } finally {
      await sql.end({ timeout: 5 });
      if (osColink) await osColink.cleanup();
      if (os) await os.stop();
      await pg.cleanup();
    }
  },
};

function phaseMetrics(phase: SearchPhaseResult): Record<string, number> {
  const lat = summarise(mergeEncoded([phase.histogram]));
  return {
    qps: Math.round((phase.queries / phase.elapsedMs) * 10_000) / 10,
    p50: lat.p50,
    p99: lat.p99,
    p999: lat.p999,
    max: lat.max,
    queries: phase.queries,
    hitsPerQuery: phase.queries > 0 ? round2(phase.hits / phase.queries) : 0,
    errors: phase.errors,
    degraded: phase.degraded,
    violations: phase.violations,
  };
}

function indexRecord(
  adapter: Adapter,
  base: Record<string, number>,
  sec: number,
  startSec: number,
  indexed: number,
  messages: number,
  cpu: Record<string, number>,
): BenchRecord {
  const flags = indexed === messages ? [] : [`${indexed} documents indexed, ${messages} messages`];
  return {
    scenario: "S8",
    system: `colink/${adapter}`,
    params: { ...base, phase: "index", workers },
    metrics: {
      indexSec: round2(sec),
      docsPerSec: Math.round(messages / sec),
      serverStartSec: round2(startSec),
      indexed,
    },
    runs: [],
    cpu,
    flags,
  };
}
