/**
 * `npm run test:runtimes` as part of `npm test`: Colink on Node 22 and Node 24 in a
 * Debian 13 root (test/runtimes/run.sh). It needs Linux x86_64, root, debootstrap and the
 * right to chroot and mount; where one is missing the test is skipped and says why. It runs
 * alone, after the rest (vitest.config.ts): it builds, installs and starts servers itself.
 */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const script = (name: string) => fileURLToPath(new URL(`./runtimes/${name}`, import.meta.url));

const preflight = spawnSync("bash", [script("preflight.sh")], { encoding: "utf8" });
const cannotRun = preflight.status === 0 ? null : (preflight.stdout || preflight.stderr).trim();

/** Runs `bash <file>` in its own process group; resolves with its exit code and output. */
function run(file: string, signal: AbortSignal): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [file], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d;
    });
    // On a timeout, the scripts' traps unmount the root's /proc and /dev.
    const stop = () => child.pid && process.kill(-child.pid, "SIGTERM");
    signal.addEventListener("abort", stop);
    child.on("error", reject);
    child.on("close", (code) => {
      signal.removeEventListener("abort", stop);
      resolve({ code, output });
    });
  });
}

it("Colink serves, restarts and resumes on Node 22 and Node 24 (Debian 13 root)", async (ctx) => {
  if (cannotRun) {
    // Printed too: the default reporter does not show a skip's note.
    console.log(`[runtimes] skipped: ${cannotRun}`);
    ctx.skip(`skipped: ${cannotRun}`);
  }
  const { code, output } = await run(script("run.sh"), ctx.signal);
  const summary = output.slice(output.lastIndexOf("---- summary ----"));
  console.log(`[runtimes] ${summary}`);
  expect(code, `test/runtimes/run.sh failed:\n${output.slice(-6000)}`).toBe(0);
}, 600_000);
