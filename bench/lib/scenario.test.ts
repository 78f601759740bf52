import { describe, expect, it } from "vitest";
import {
  type BenchContext,
  type BenchRecord,
  chooseScenarios,
  measure,
  measureAlternately,
  type RunOutcome,
  type Scenario,
} from "./scenario.js";

const base = { scenario: "SX", system: "colink", params: { senders: 4 } };

/** Outcomes handed out in turn, so that a test knows what each run returned. */
function runsOf(outcomes: RunOutcome[]): () => Promise<RunOutcome> {
  let i = 0;
  return async () => outcomes[i++]!;
}

describe("measure", () => {
  it("reports the median of each metric and each CPU group, and keeps every run", async () => {
    const rec = await measure(
      base,
      3,
      runsOf([
        { metrics: { acks: 100, p99: 9 }, cpu: { colink: 0.5 } },
        { metrics: { acks: 300, p99: 3 }, cpu: { colink: 0.9 } },
        { metrics: { acks: 200, p99: 30 }, cpu: { colink: 0.7 } },
      ]),
    );
    expect(rec.metrics).toEqual({ acks: 200, p99: 9 });
    expect(rec.cpu).toEqual({ colink: 0.7 });
    expect(rec.runs.map((r) => r.acks)).toEqual([100, 300, 200]);
    expect(rec.flags).toEqual([]);
  });

  it("flags a generator whose median is above 80% of a core, and only a generator", async () => {
    const cpu = { colink: 1.6, generator: 0.85, "generator-sub1": 0.5 };
    const rec = await measure(base, 1, runsOf([{ metrics: {}, cpu }]));
    expect(rec.flags).toHaveLength(1);
    expect(rec.flags[0]).toMatch(/^generator at 85% of a core/);
  });

  it("counts a metric that one run lacks as not a number there", async () => {
    const rec = await measure(
      base,
      2,
      runsOf([
        { metrics: { acks: 1, lost: 0 }, cpu: {} },
        { metrics: { acks: 3 }, cpu: {} },
      ]),
    );
    expect(rec.metrics.acks).toBe(2);
    expect(rec.metrics.lost).toBeNaN();
  });
});

describe("measureAlternately", () => {
  it("runs the systems in turn, round by round, and compares each round", async () => {
    const order: string[] = [];
    const rounds: number[][] = [];
    let n = 0;
    const system = (name: string) => ({
      base: { ...base, system: name },
      once: async (): Promise<RunOutcome> => {
        order.push(name);
        return { metrics: { x: ++n }, cpu: {} };
      },
    });
    const records = await measureAlternately([system("colink"), system("peer")], 3, (round) => {
      rounds.push(round.map((o) => o.metrics.x!));
      // A comparison written into Colink's outcome of the round, as S1 does with the floor.
      round[0]!.metrics.overPeer = round[0]!.metrics.x! - round[1]!.metrics.x!;
    });
    expect(order).toEqual(["colink", "peer", "colink", "peer", "colink", "peer"]);
    expect(rounds).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(records.map((r: BenchRecord) => r.system)).toEqual(["colink", "peer"]);
    expect(records[0]!.metrics).toEqual({ x: 3, overPeer: -1 });
    expect(records[1]!.metrics).toEqual({ x: 4 });
  });
});

describe("chooseScenarios", () => {
  const scenario = (id: string, fullSuiteOnly?: boolean): Scenario => ({
    id,
    title: id,
    ...(fullSuiteOnly ? { fullSuiteOnly } : {}),
    run: async (_ctx: BenchContext) => [],
  });
  const all = [scenario("S1"), scenario("S2"), scenario("S7", true)];
  const ids = (list: Scenario[]) => list.map((s) => s.id);

  it("leaves full-suite-only scenarios out of the quick suite", () => {
    expect(ids(chooseScenarios(all, false))).toEqual(["S1", "S2"]);
  });

  it("runs every scenario in the full suite", () => {
    expect(ids(chooseScenarios(all, true))).toEqual(["S1", "S2", "S7"]);
  });

  it("runs what --only names, full-suite-only ones included, in report order", () => {
    expect(ids(chooseScenarios(all, false, ["S7", "S1"]))).toEqual(["S1", "S7"]);
    expect(ids(chooseScenarios(all, false, ["S9"]))).toEqual([]);
  });
});
