/** A CPU profile of Colink under the S1 send load, for the report's "where the time goes". */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { limitsOutOfReach } from "../../test/support/limits.js";
import { startColink } from "../../test/support/processes.js";
import type { SendLoadResult, SendLoadTask } from "../generators/send-load.js";
import { runGenerators } from "./generators.js";
import { type Cost, topCosts } from "./profile.js";
import { channel, runPrefix, users } from "./provision.js";

/** Runs Colink (Postgres) with --cpu-prof under 64 closed-loop senders and returns its top costs. */
export async function profileSendPath(workers: number, seconds = 5): Promise<Cost[]> {
  const dir = mkdtempSync(join(tmpdir(), "colink-prof-"));
  const server = await startColink(
    "postgres",
    { COLINK_WORKERS: String(workers), COLINK_MAX_PENDING_REQUESTS: "100000", ...limitsOutOfReach },
    { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] },
  );
  try {
    const prefix = runPrefix("prof");
    const senders = await Promise.all(
      (await users(server.baseUrl, prefix, 64)).map(async (u, i) => ({
        token: u.token,
        channelId: await channel(server.baseUrl, u, `${prefix}${i}`),
      })),
    );
    await runGenerators<SendLoadTask, SendLoadResult>("generators/send-load.ts", [
      {
        wsUrl: server.wsUrl,
        senders,
        mode: "closed",
        ratePerSec: 0,
        warmupMs: 500,
        durationMs: seconds * 1000,
        textBytes: 64,
      },
    ]);
    // The profile is written when the process exits (SIGTERM drains, then exits).
    await server.stop("SIGTERM");
    return topCosts(dir);
  } finally {
    await server.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
