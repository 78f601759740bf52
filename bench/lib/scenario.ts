/**
 * The shape every benchmark scenario shares: what it is given (the run's settings and
 * the target), and the records it returns, which the report turns into tables.
 */
import { median } from "./stats.js";

/** Where the load goes: Colink servers this run starts itself, or a remote deployment. */
export type Target =
  | { kind: "local" }
  | {
      kind: "remote";
      baseUrl: string;
      wsUrl: string;
      /** Access tokens to use, one per simulated user; empty when the target has dev sign-in. */
      tokens: string[];
    };

/** What a scenario is given. */
export interface BenchContext {
  /** The quick suite (`npm run bench`): fewer points, shorter windows. */
  quick: boolean;
  /** Runs per point; the report shows medians. */
  repeats: number;
  target: Target;
  /** Prints a progress line. */
  progress(line: string): void;
}

/** One measured point: a system under one configuration, with the median of its runs. */
export interface BenchRecord {
  scenario: string;
  /** `colink`, or a peer: `uws`, `ws`, `socketio`, `postgres-raw`, … */
  system: string;
  /** Settings of the point (store, workers, senders, subscribers, offered rate …). */
  params: Record<string, string | number>;
  /** Medians over the runs. */
  metrics: Record<string, number>;
  /** Every run's metrics. */
  runs: Array<Record<string, number>>;
  /** Median CPU use per process group, in cores (1.0 = one core busy). */
  cpu: Record<string, number>;
  /** Warnings, such as a generator above 80% of a core. */
  flags: string[];
}

/** A scenario. */
export interface Scenario {
  id: string;
  title: string;
  /**
   * Left out of the quick suite unless named with --only: it has no target of its own,
   * and the quick suite must finish in under 3 minutes.
   */
  fullSuiteOnly?: boolean;
  run(ctx: BenchContext): Promise<BenchRecord[]>;
}

/**
 * The scenarios a run takes, in the given order: those named with --only; else, in the
 * full suite every one, in the quick suite those not marked `fullSuiteOnly`.
 */
export function chooseScenarios(all: Scenario[], full: boolean, only?: string[]): Scenario[] {
  if (only) return all.filter((s) => only.includes(s.id));
  return all.filter((s) => full || !s.fullSuiteOnly);
}

/** A run's metrics and the CPU it used. */
export interface RunOutcome {
  metrics: Record<string, number>;
  cpu: Record<string, number>;
}

/**
 * Runs `once` `repeats` times and makes a record of the medians. Flags a generator
 * above 80% of a core: the load, not the server, may then be the limit.
 */
export async function measure(
  base: Omit<BenchRecord, "metrics" | "runs" | "cpu" | "flags">,
  repeats: number,
  once: () => Promise<RunOutcome>,
): Promise<BenchRecord> {
  const outcomes: RunOutcome[] = [];
  for (let i = 0; i < repeats; i++) outcomes.push(await once());
  const medians = (pick: (o: RunOutcome) => Record<string, number>) => {
    const keys = new Set(outcomes.flatMap((o) => Object.keys(pick(o))));
    return Object.fromEntries(
      [...keys].map((k) => [k, median(outcomes.map((o) => pick(o)[k] ?? Number.NaN))]),
    );
  };
  const cpu = medians((o) => o.cpu);
  const flags = Object.entries(cpu)
    .filter(([name, cores]) => name.startsWith("generator") && cores > 0.8)
    .map(
      ([name, cores]) => `${name} at ${Math.round(cores * 100)}% of a core: the generator may be the limit`,
    );
  return { ...base, metrics: medians((o) => o.metrics), runs: outcomes.map((o) => o.metrics), cpu, flags };
}

/**
 * Runs every system of a point once per round, `repeats` rounds, so that their runs
 * alternate and a ratio or difference between them holds on a noisy machine; `compare`
 * may add metrics to a round's outcomes from the others' (e.g. a difference to a peer).
 * Returns one record per system, in the order given.
 */
export async function measureAlternately(
  systems: Array<{
    base: Omit<BenchRecord, "metrics" | "runs" | "cpu" | "flags">;
    once: () => Promise<RunOutcome>;
  }>,
  repeats: number,
  compare: (round: RunOutcome[]) => void = () => {},
): Promise<BenchRecord[]> {
  const outcomes = systems.map(() => [] as RunOutcome[]);
  for (let r = 0; r < repeats; r++) {
    const round: RunOutcome[] = [];
    for (const [i, s] of systems.entries()) {
      const o = await s.once();
      outcomes[i]!.push(o);
      round.push(o);
    }
    compare(round);
  }
  const records: BenchRecord[] = [];
  for (const [i, s] of systems.entries()) {
    let k = 0;
    records.push(await measure(s.base, repeats, async () => outcomes[i]![k++]!));
  }
  return records;
}
