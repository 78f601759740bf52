/**
 * A real S3 API for the tests of the S3 blob adapter: Adobe's S3Mock 4.12.4, the runnable
 * Spring Boot jar from Maven Central, run with the machine's Java 17 on a free loopback
 * port (HTTP; its HTTPS port is a random one nobody uses), storing into a temp dir of its
 * own. S3Mock accepts presigned URLs without checking their signatures.
 *
 * The jar is fetched once with Maven into a cache outside the repo,
 * `${COLINK_CACHE_DIR:-$HOME/.cache/colink}/s3mock-4.12.4/`, which only ever appears
 * complete: Maven fills a private directory, the marker file is written last, and the
 * directory is renamed into place; a lock file makes a second test file starting at the
 * same time wait for the first's install.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { withInstallLock } from "./install-lock.js";
import { freePort } from "./processes.js";

const run = promisify(execFile);

const s3mockVersion = "4.12.4";
const artifact = `com.adobe.testing:s3mock:${s3mockVersion}:jar:exec`;
/** Pinned so that Maven does not resolve (and fetch) whatever its default happens to be. */
const dependencyPlugin = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

const cacheRoot = process.env.COLINK_CACHE_DIR ?? join(homedir(), ".cache", "colink");
/** Where the jar is kept between runs. */
export const s3mockHome = join(cacheRoot, `s3mock-${s3mockVersion}`);
const jarFile = join(s3mockHome, `s3mock-${s3mockVersion}-exec.jar`);
/** Written last into a complete install. */
const installedMarker = ".installed";

/** An S3Mock started for a test. */
export interface TestS3 {
  /** `http://127.0.0.1:<port>`: the S3 endpoint (path-style only). */
  endpoint: string;
  /** The JVM's process id, for measuring it. */
  pid: number;
  /** How long it took from spawn to answering, in ms. */
  startupMs: number;
  /** Stops it (SIGTERM, SIGKILL after 10 s) and waits for the exit. */
  stop(): Promise<void>;
  /** Stops it and removes its storage and output. */
  cleanup(): Promise<void>;
}

/** Fetches the jar into the cache unless it is there; resolves with its path. */
export async function installS3Mock(): Promise<string> {
  if (existsSync(join(s3mockHome, installedMarker))) return jarFile;
  mkdirSync(cacheRoot, { recursive: true });
  return withInstallLock(join(cacheRoot, `s3mock-${s3mockVersion}.lock`), "S3Mock", () =>
    existsSync(join(s3mockHome, installedMarker)) ? Promise.resolve(jarFile) : fetchS3Mock(),
  );
}

/** Runs Maven into a private dir and moves the complete install into place. */
async function fetchS3Mock(): Promise<string> {
  // An install dir without the marker is left from an install that was cut short.
  rmSync(s3mockHome, { recursive: true, force: true });
  const work = mkdtempSync(join(cacheRoot, `.s3mock-${s3mockVersion}-install-`));
  try {
    const staged = join(work, "s3mock");
    await run(
      "mvn",
      ["-q", "-B", `${dependencyPlugin}:copy`, `-Dartifact=${artifact}`, `-DoutputDirectory=${staged}`],
      // Maven wants a project dir to run in; the private one has no pom, which `copy` does not need.
      { cwd: work, timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: Error & { stdout?: string }) => {
      throw new Error(
        `fetching S3Mock ${s3mockVersion} with Maven failed: ${err.message}\n${err.stdout ?? ""}`,
      );
    });
    if (!existsSync(join(staged, `s3mock-${s3mockVersion}-exec.jar`))) {
      throw new Error(`Maven did not leave s3mock-${s3mockVersion}-exec.jar in ${staged}`);
    }
    writeFileSync(join(staged, installedMarker), `${artifact}\n`);
    renameSync(staged, s3mockHome);
    return jarFile;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The last `bytes` of a file, for failure messages. */
function tail(file: string, bytes = 8000): string {
  try {
    return readFileSync(file, "utf8").slice(-bytes);
  } catch {
    return "(no output)";
  }
}

/** Polls S3's ListBuckets until it answers 200; rejects when the JVM exits or `timeoutMs` passes. */
async function waitUntilServing(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`S3Mock exited (${child.exitCode ?? child.signalCode}) before it answered`);
    }
    try {
      const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      // Not listening yet: Spring takes seconds to open the port.
      last = String(err);
    }
    if (Date.now() > deadline)
      throw new Error(`S3Mock did not answer within ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Installs S3Mock when missing and starts it on a free port, with its own storage dir. */
export async function startS3Mock(): Promise<TestS3> {
  const jar = await installS3Mock();
  const dir = mkdtempSync(join(tmpdir(), "colink-s3mock-"));
  const outputFile = join(dir, "s3mock.out");
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const out = openSync(outputFile, "a");
  const started = Date.now();
  const child = spawn(
    "java",
    [
      "-Xmx256m",
      // Short-lived: the JIT's top tier would only cost start-up time.
      "-XX:TieredStopAtLevel=1",
      "-jar",
      jar,
      `--com.adobe.testing.s3mock.httpPort=${port}`,
      // The HTTPS connector cannot be turned off: a random port keeps it out of the way.
      "--server.port=0",
      "--server.address=127.0.0.1",
      `--com.adobe.testing.s3mock.store.root=${join(dir, "store")}`,
      "--com.adobe.testing.s3mock.store.retainFilesOnExit=false",
      "--logging.level.root=WARN",
      "--spring.main.banner-mode=off",
    ],
    { stdio: ["ignore", out, out] },
  );
  // The child has its own copy of the descriptor.
  closeSync(out);
  const running = () => child.exitCode === null && child.signalCode === null;
  // A test that dies without cleaning up must not leave a JVM behind.
  const killOnExit = () => {
    if (running()) child.kill("SIGKILL");
  };
  process.on("exit", killOnExit);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!running()) return resolve();
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.once("exit", () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill("SIGTERM");
    });
  const cleanup = async () => {
    await stop();
    process.off("exit", killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(endpoint, child, 90_000);
  } catch (err) {
    const output = tail(outputFile);
    await cleanup();
    throw new Error(`${(err as Error).message}\n--- s3mock.out ---\n${output}`);
  }
  return { endpoint, pid: child.pid!, startupMs: Date.now() - started, stop, cleanup };
}
