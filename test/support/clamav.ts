/**
 * A real clamd for the tests of the ClamAV scanner: Debian's clamd (package
 * `clamav-daemon`, which test/services.sh installs) in the foreground, on a free loopback
 * TCP port, with its own config, database, log and temp files in a temp dir per run.
 *
 * Its database is only the signature file the project ships,
 * test/fixtures/clamav/colink-test.hdb: the MD5 and size of the EICAR test file under the
 * name `Colink.Test.EICAR`, which clamd reports as `Colink.Test.EICAR.UNOFFICIAL` (it
 * marks so every signature from outside ClamAV's signed databases). So clamd loads in tens
 * of milliseconds and nothing is downloaded; the distribution's clamd and freshclam
 * services are neither used nor needed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, stopChild } from "./processes.js";

const clamdPath = "/usr/sbin/clamd";
const signatureFile = new URL("../fixtures/clamav/colink-test.hdb", import.meta.url).pathname;

/** The EICAR anti-virus test file (68 bytes): harmless, and found by every scanner. */
export const eicarTestFile = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
/** The signature name this clamd reports for the EICAR test file. */
export const eicarSignature = "Colink.Test.EICAR.UNOFFICIAL";

/** A clamd started for a test. */
export interface TestClamd {
  host: string;
  port: number;
  /** Stops it (SIGTERM, SIGKILL after 10 s) and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and config, and waits until it answers PING. */
  restart(): Promise<void>;
  /** Stops it and removes its temp dir. */
  cleanup(): Promise<void>;
}

/** What a test may change in clamd's config. */
export interface ClamdOptions {
  /** clamd's `StreamMaxLength`: the largest INSTREAM it accepts (default "110M", above the scanner's 100 MiB). */
  streamMaxLength?: string;
}

function clamdConfig(dir: string, port: number, options: ClamdOptions): string {
  return `${[
    "Foreground yes",
    `TCPSocket ${port}`,
    "TCPAddr 127.0.0.1",
    // No LocalSocket: the scanner speaks TCP, and a test must not touch /run/clamav.
    `DatabaseDirectory ${join(dir, "db")}`,
    `LogFile ${join(dir, "clamd.log")}`,
    "LogSyslog no",
    `PidFile ${join(dir, "clamd.pid")}`,
    // INSTREAM spools the file here before scanning it.
    `TemporaryDirectory ${join(dir, "tmp")}`,
    `StreamMaxLength ${options.streamMaxLength ?? "110M"}`,
    // The database never changes while it runs, and there is no bytecode database.
    "SelfCheck 0",
    "Bytecode no",
    // No `User`: clamd then runs as whoever starts it (root in CI), which owns the temp dir.
  ].join("\n")}\n`;
}

/** The last lines of a file, for error messages. */
function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return "";
  return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

/** Whether clamd on `port` of 127.0.0.1 answers `zPING` with PONG within a second. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let answer = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.on("connect", () => socket.write("zPING\0"));
    socket.on("data", (data: Buffer) => {
      answer += data.toString("utf8");
      if (answer.includes("\0")) done(answer === "PONG\0");
    });
    // Refused connections are the expected answer until it listens.
    socket.on("error", () => done(false));
    socket.on("close", () => done(false));
  });
}

/** Starts clamd with the project's test signature on a free loopback port, once it answers PING. */
export async function startClamd(options: ClamdOptions = {}): Promise<TestClamd> {
  if (!existsSync(clamdPath)) {
    throw new Error(
      `${clamdPath} is missing: install Debian's clamav-daemon package (bash test/services.sh does)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "colink-clamd-"));
  mkdirSync(join(dir, "db"));
  mkdirSync(join(dir, "tmp"));
  copyFileSync(signatureFile, join(dir, "db", "colink-test.hdb"));
  const port = await freePort();
  const configFile = join(dir, "clamd.conf");
  const outputFile = join(dir, "clamd.out");
  writeFileSync(configFile, clamdConfig(dir, port, options));

  let child: ChildProcess | null = null;
  const running = () => child !== null && child.exitCode === null && child.signalCode === null;
  // A test that dies without cleaning up must not leave clamd behind.
  const killOnExit = () => {
    if (running()) child!.kill("SIGKILL");
  };
  process.on("exit", killOnExit);

  const stop = () => stopChild(child);
  const launch = async () => {
    const out = openSync(outputFile, "a");
    const started = spawn(clamdPath, [`--config-file=${configFile}`], { stdio: ["ignore", out, out] });
    child = started;
    // The child has its own copy of the descriptor.
    closeSync(out);
    const spawning: { error?: Error } = {};
    started.once("error", (err) => {
      spawning.error = err;
    });
    const deadline = Date.now() + 30_000;
    while (!(await answersPing(port))) {
      const exited = started.exitCode ?? started.signalCode;
      let failure: string | null = null;
      if (spawning.error) failure = `clamd could not be started: ${spawning.error.message}`;
      else if (exited !== null) failure = `clamd exited (${exited})`;
      else if (Date.now() > deadline) failure = "clamd did not answer PING within 30 s";
      if (failure) {
        await stop();
        throw new Error(
          `${failure}\n--- clamd.out ---\n${tail(outputFile)}\n--- clamd.log ---\n${tail(join(dir, "clamd.log"))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  try {
    await launch();
  } catch (err) {
    process.off("exit", killOnExit);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: "127.0.0.1",
    port,
    stop,
    restart: launch,
    async cleanup() {
      await stop();
      process.off("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
