/**
 * The quick suite's scenarios, each run once (`--repeats 1`) against fresh local servers:
 * the benchmarks are a product, so CI checks that every generator, peer and check still
 * runs and that the figures make sense. Speed is not asserted (docs/benchmarks.md is
 * where it is reported). This file runs alone, after the rest of the suite
 * (vitest.config.ts): the load fills both cores.
 */
import { describe, expect, it } from "vitest";
import { defaultWorkers } from "../core/config.js";
import type { BenchContext, BenchRecord } from "./lib/scenario.js";
import { s1 } from "./scenarios/s1-send.js";
import { s2 } from "./scenarios/s2-fanout.js";
import { s3 } from "./scenarios/s3-durable.js";
import { s4 } from "./scenarios/s4-idle.js";
import { s5 } from "./scenarios/s5-http.js";
import { s6 } from "./scenarios/s6-reconnect.js";

const ctx: BenchContext = { quick: true, repeats: 1, target: { kind: "local" }, progress: () => {} };

function pick(records: BenchRecord[], system: string, where: (r: BenchRecord) => boolean = () => true) {
  const found = records.filter((r) => r.system === system && where(r));
  expect(found.length, `records of ${system}`).toBeGreaterThan(0);
  return found;
}

describe("the quick benchmark suite, once", () => {
  it("S1: acks after commit, with the raw Postgres floor at the same rate", async () => {
    const records = await s1.run(ctx);
    const [peak] = pick(records, "colink", (r) => r.params.mode === "peak");
    expect(peak!.metrics.acksPerSec).toBeGreaterThan(0);
    expect(peak!.metrics.errors).toBe(0);
    const [fixed] = pick(records, "colink", (r) => r.params.mode === "50% of peak");
    expect(fixed!.params.offered).toBe(Math.round(peak!.metrics.acksPerSec! * 0.5));
    // The schedule held: what was offered was acknowledged.
    expect(fixed!.metrics.acksPerSec).toBeGreaterThan(Number(fixed!.params.offered) * 0.9);
    expect(fixed!.metrics.p99).toBeGreaterThanOrEqual(fixed!.metrics.p50!);
    expect(fixed!.metrics.floorP99).toBeGreaterThan(0);
    const [floor] = pick(records, "postgres-raw");
    expect(floor!.metrics.lost).toBe(0);
    expect(fixed!.cpu.colink).toBeGreaterThan(0);
    expect(fixed!.cpu.postgres).toBeGreaterThan(0);
  }, 120_000);

  it("S2: every delivery arrives, against bare uWS side by side", async () => {
    const records = await s2.run(ctx);
    for (const system of ["colink", "uws"]) {
      for (const r of pick(records, system, (x) => x.params.mode === "50% of common peak")) {
        expect(r.metrics.deliveriesPerSec).toBeGreaterThan(0);
        expect(r.metrics.missing).toBe(0);
      }
    }
    const [ratio] = pick(records, "colink/uws");
    expect(ratio!.metrics.peakRatio).toBeGreaterThan(0);
  }, 120_000);

  it("S3: every acknowledged message is persisted, and the raw INSERT ceiling is measured", async () => {
    const records = await s3.run(ctx);
    const [colink] = pick(records, "colink");
    // The server's own default, which is what the S3 target is about.
    if (!process.env.COLINK_WORKERS) expect(colink!.params.workers).toBe(defaultWorkers(true));
    expect(colink!.metrics.lost).toBe(0);
    expect(colink!.metrics.persisted).toBeGreaterThanOrEqual(colink!.metrics.acked!);
    expect(colink!.metrics.ofInsertCeilingPct).toBeGreaterThan(0);
    const [raw] = pick(records, "postgres-raw");
    expect(raw!.metrics.msgsPerSec).toBeGreaterThan(colink!.metrics.msgsPerSec! / 10);
  }, 120_000);

  it("S4: idle connections open and stay open on Colink and each peer", async () => {
    const records = await s4.run(ctx);
    for (const system of ["colink", "uws", "ws", "socketio"]) {
      const [r] = pick(records, system);
      expect(r!.metrics.failed, system).toBe(0);
      expect(r!.metrics.stillOpen, system).toBe(r!.metrics.opened);
      // Measured for every local server; at the quick count a server as lean as uws can
      // show a slightly negative growth (a collection between the two readings), so only
      // that it was measured is checked here.
      expect(Number.isFinite(r!.metrics.rssPerConnKiB), system).toBe(true);
    }
  }, 120_000);

  it("S5: history GET and send POST answer 2xx", async () => {
    const records = await s5.run(ctx);
    for (const r of pick(records, "colink")) {
      expect(r.metrics.reqPerSec).toBeGreaterThan(0);
      expect(r.metrics.non2xx).toBe(0);
      expect(r.metrics.errors).toBe(0);
    }
  }, 120_000);

  it("S6: after the reconnect storm nothing is lost or duplicated", async () => {
    const records = await s6.run(ctx);
    expect(records.map((r) => r.params.point)).toEqual(["instant", "deep"]);
    for (const r of records) {
      expect(r.metrics.lost).toBe(0);
      expect(r.metrics.duplicated).toBe(0);
      expect(r.metrics.unresumed).toBe(0);
      expect(r.metrics.catchUpMs).toBeGreaterThan(0);
    }
  }, 120_000);
});
