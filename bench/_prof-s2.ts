// Temporary: profile Colink under S2 fan-out load (deleted before hand-off).
import type { PublishResult, ReceiveResult } from "./generators/fanout.js";
import { wallMs } from "./lib/fanout-proto.js";
import { GenSession } from "./lib/gen-session.js";
import { cpuSeconds } from "./lib/proc.js";
import { startColink } from "./lib/processes.js";
import { channel, users } from "./lib/provision.js";

const W = Number(process.env.W ?? 0);
const C = Number(process.env.CH ?? 1);
const S = Number(process.env.SUBS ?? 100);
const rate = Number(process.env.RATE ?? 2000); // publishes/s
const dur = Number(process.env.DUR ?? 5000);
const prof = process.env.PROF === "1";
const server = await startColink(
  "postgres",
  { COLINK_WORKERS: String(W), COLINK_MAX_PENDING_REQUESTS: "100000" },
  prof ? { nodeArgs: ["--cpu-prof", "--cpu-prof-dir=/tmp/colink-prof-s2"] } : {},
);
const gens: GenSession[] = [];
try {
  const pubs = await users(server.baseUrl, "pp", C);
  const subsU = await users(server.baseUrl, "ss", 16);
  const chans = await Promise.all(pubs.map((u, i) => channel(server.baseUrl, u, `c${i}`)));
  const ep = { system: "colink" as const, host: "127.0.0.1", port: server.port };
  gens.push(
    ...(await Promise.all(["pub", "sub0", "sub1"].map((n) => GenSession.start(n, "generators/fanout.ts")))),
  );
  const conns = Math.min(C * S, 1000);
  const cpc = (C * S) / conns;
  const specs: Array<Array<{ channels: string[]; token: string; localAddress: string }>> = [[], []];
  for (let j = 0; j < conns; j++)
    specs[j % 2]!.push({
      channels: Array.from({ length: cpc }, (_, i) => chans[(j * cpc + i) % C]!),
      token: subsU[j % 16]!.token,
      localAddress: `127.0.3.${1 + (j % 32)}`,
    });
  await Promise.all([
    gens[1]!.call({ kind: "subscribers", endpoint: ep, subs: specs[0], concurrency: 50 }),
    gens[2]!.call({ kind: "subscribers", endpoint: ep, subs: specs[1], concurrency: 50 }),
    gens[0]!.call({
      kind: "publishers",
      endpoint: ep,
      pubs: chans.map((c, i) => ({ channel: c, token: pubs[i]!.token })),
      concurrency: 20,
    }),
  ]);
  const t0 = wallMs() + 200;
  const win = { system: "colink", t0Ms: t0, warmupMs: 1000, durationMs: dur };
  const c0 = cpuSeconds(server.pid);
  const [p, ...r] = await Promise.all([
    gens[0]!.call<PublishResult>({
      kind: "publish",
      ...win,
      ratePerSec: rate,
      textBytes: 64,
      runTag: `x${Date.now()}`,
      ackWaitMs: 5000,
    }),
    gens[1]!.call<ReceiveResult>({
      kind: "receive",
      ...win,
      keys: Math.ceil((rate * (dur + 1000)) / 1000) + 100,
      quietMs: 300,
      maxDrainMs: 10000,
    }),
    gens[2]!.call<ReceiveResult>({
      kind: "receive",
      ...win,
      keys: Math.ceil((rate * (dur + 1000)) / 1000) + 100,
      quietMs: 300,
      maxDrainMs: 10000,
    }),
  ]);
  const cpu = (cpuSeconds(server.pid) - c0) / ((dur + 1500) / 1000);
  console.log(
    JSON.stringify({
      sent: p.sentInWindow,
      acks: p.acks,
      errors: p.errors,
      unacked: p.unacked,
      lag: p.maxLagMs,
      delivered: r.reduce((s, x) => s + x.windowDeliveries, 0) / (dur / 1000),
      serverCores: cpu.toFixed(2),
    }),
  );
} finally {
  await Promise.all(gens.map((g) => g.stop()));
  if (prof) {
    process.kill(server.pid, "SIGTERM");
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(server.pid, 0);
        await new Promise((res) => setTimeout(res, 100));
      } catch {
        break;
      }
    }
  }
  await server.cleanup();
}
process.exit(0);
