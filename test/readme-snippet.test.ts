/**
 * The README's SDK example runs exactly as written: the test takes the code block that
 * imports "@colink/client" out of README.md, points its URLs at a test server (the only
 * change), saves it as an ES module in a scratch project whose `node_modules` holds the
 * built package (as `npm install @colink/client` would), and runs it with this Node. It
 * must print the event, then exit by itself with code 0.
 */
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "./harness.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const packageDir = join(root, "client");

/** The one fenced code block of README.md that imports the SDK package. */
function sdkSnippet(readme: string): string {
  const blocks = [...readme.matchAll(/^```(?:js|ts|javascript|typescript)\n([\s\S]*?)^```$/gm)].map(
    (m) => m[1]!,
  );
  const found = blocks.filter((b) => /from "@colink\/client"/.test(b));
  if (found.length !== 1)
    throw new Error(`README.md: expected one block importing @colink/client, found ${found.length}`);
  return found[0]!;
}

/** Runs `node file` in `cwd`; resolves with its output and exit code, or its kill after `timeoutMs`. */
function runNode(file: string, cwd: string, timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }>(
    (resolve) => {
      const child = spawn(process.execPath, [file], { cwd, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, timedOut });
      });
    },
  );
}

describe("README.md's SDK example", () => {
  let server: TestServer;
  let project: string;

  beforeAll(async () => {
    if (!existsSync(join(packageDir, "dist/client/index.js"))) {
      throw new Error("client/dist is missing: build the SDK first (npm run build -w client)");
    }
    server = await startServer("pglite");
    project = mkdtempSync(join(tmpdir(), "colink-readme-"));
    mkdirSync(join(project, "node_modules/@colink"), { recursive: true });
    symlinkSync(packageDir, join(project, "node_modules/@colink/client"), "dir");
  });
  afterAll(async () => {
    await server?.cleanup();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("prints the event and exits with 0", async () => {
    const snippet = sdkSnippet(readFileSync(join(root, "README.md"), "utf8"));
    expect(snippet).toContain("localhost:8080");
    const code = snippet.replaceAll("localhost:8080", `127.0.0.1:${server.port}`);
    writeFileSync(join(project, "hello.mjs"), code);

    const run = await runNode("hello.mjs", project, 30_000);
    expect(
      run.timedOut,
      `still running after 30 s (it must exit by itself)\n${run.stdout}${run.stderr}`,
    ).toBe(false);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    // The README says what it prints.
    expect(run.stdout).toBe("message.created 3\n");
  });
});
