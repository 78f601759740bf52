/**
 * Generator for S8 (search): searchers over the SDK (`client/` ColinkClient), one
 * connection and one user each, asking the fixed query mix (bench/lib/search-corpus.ts)
 * in a closed loop (ask, await the answer, ask the next query of the mix) for a window,
 * first with 1 searcher, then with more. Every answer's hits are checked against the
 * channels the searchers may read (a hit elsewhere is a violation). Before the timed
 * phases, a correctness pass asks every query once (and the guard queries) and keeps the
 * first page of each.
 */
import { ColinkClient } from "../../client/index.js";
import type { MixQuery } from "../lib/search-corpus.js";
import { encodeHistogram, newHistogram } from "../lib/stats.js";

export interface SearchLoadTask {
  wsUrl: string;
  /** One token per searcher (distinct users with the same channels). */
  tokens: string[];
  mix: MixQuery[];
  /** Asked once in the correctness pass only. */
  guard: MixQuery[];
  /** The channel ids the searchers may read. */
  readable: string[];
  /** Run the correctness pass first. */
  check: boolean;
  /** Searchers per phase, e.g. [16]; each at most `tokens.length`. */
  phases: number[];
  /** When the first phase starts (epoch ms), after the connections and the check. */
  startAt: number;
  warmupMs: number;
  durationMs: number;
}

/** What one phase measured (answers to searches started in the window). */
export interface SearchPhaseResult {
  searchers: number;
  queries: number;
  errors: number;
  /** Answers with `degraded: true` (OpenSearch failed, Postgres answered). */
  degraded: number;
  /** Hits in channels the searcher may not read: must be 0. */
  violations: number;
  hits: number;
  elapsedMs: number;
  /** Latency, microseconds, compressed. */
  histogram: string;
  /** Per query kind: latency histogram (compressed) and count. */
  byKind: Record<string, { queries: number; histogram: string }>;
  errorSamples: string[];
}

/** The correctness pass: each query's first page (sort=recent). */
export interface SearchCheck {
  kind: string;
  q: string;
  hitIds: string[];
  /** Channels of the hits the searcher may not read. */
  violations: number;
  hasMore: boolean;
  degraded: boolean;
}

export interface SearchLoadResult {
  checks: SearchCheck[];
  phases: SearchPhaseResult[];
}

interface Answer {
  hits: Array<{ messageId: string; channelId: string }>;
  nextCursor: string | null;
  degraded?: true;
}

export default async function searchLoad(task: SearchLoadTask): Promise<SearchLoadResult> {
  const readable = new Set(task.readable);
  const maxSearchers = Math.max(1, ...task.phases);
  const clients = task.tokens
    .slice(0, maxSearchers)
    .map((token) => new ColinkClient({ url: task.wsUrl, token, requestTimeoutMs: 30_000 }));
  await Promise.all(clients.map((c) => c.connect()));
  const ask = async (client: ColinkClient, q: string): Promise<Answer> =>
    (await client.request("search", { q, sort: "recent" })) as Answer;
  const violationsOf = (a: Answer) => a.hits.filter((h) => !readable.has(h.channelId)).length;
  try {
    const checks: SearchCheck[] = [];
    for (const query of task.check ? [...task.mix, ...task.guard] : []) {
      const a = await ask(clients[0]!, query.q);
      checks.push({
        kind: query.kind,
        q: query.q,
        hitIds: a.hits.map((h) => h.messageId),
        violations: violationsOf(a),
        hasMore: a.nextCursor !== null,
        degraded: a.degraded === true,
      });
    }
    const phases: SearchPhaseResult[] = [];
    await new Promise((r) => setTimeout(r, Math.max(0, task.startAt - Date.now())));
    for (const searchers of task.phases) {
      const start = performance.now();
      const from = start + task.warmupMs;
      const to = from + task.durationMs;
      const hist = newHistogram();
      const byKind = new Map(task.mix.map((m) => [m.kind, { queries: 0, hist: newHistogram() }]));
      const out = { queries: 0, errors: 0, degraded: 0, violations: 0, hits: 0 };
      const errorSamples: string[] = [];
      await Promise.all(
        clients.slice(0, searchers).map(async (client, i) => {
          // Each searcher walks the mix from its own offset, so all kinds run at once.
          for (let k = i; performance.now() < to; k++) {
            const query = task.mix[k % task.mix.length]!;
            const t0 = performance.now();
            try {
              const a = await ask(client, query.q);
              // Checked in and out of the window alike.
              out.violations += violationsOf(a);
              if (t0 < from) continue;
              const us = Math.max(1, Math.round((performance.now() - t0) * 1000));
              out.queries++;
              out.hits += a.hits.length;
              if (a.degraded) out.degraded++;
              hist.recordValue(us);
              const kind = byKind.get(query.kind)!;
              kind.queries++;
              kind.hist.recordValue(us);
            } catch (err) {
              if (t0 < from) continue;
              out.errors++;
              if (errorSamples.length < 5) errorSamples.push(`${query.kind}: ${String(err)}`);
            }
          }
        }),
      );
      phases.push({
        searchers,
        ...out,
        elapsedMs: to - from,
        histogram: encodeHistogram(hist),
        byKind: Object.fromEntries(
          [...byKind].map(([k, v]) => [k, { queries: v.queries, histogram: encodeHistogram(v.hist) }]),
        ),
        errorSamples,
      });
    }
    return { checks, phases };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
