/**
 * A real Kafka broker for the tests of the event stream: Apache Kafka 4.1.1 in KRaft mode
 * (one process that is both broker and controller), run from its jars on Maven Central
 * with the machine's Java 17, on free loopback ports, with its own data dir per run.
 *
 * The jars are fetched once with Maven into a cache outside the repo,
 * `${COLINK_CACHE_DIR:-$HOME/.cache/colink}/kafka-4.1.1/libs`, which only ever appears
 * complete: Maven fills a private directory, the marker file is written last, and the
 * directory is renamed into place; a lock file makes a second test file starting at the
 * same time wait for the first's install.
 *
 * `readStream` consumes topics back the way an integrator would (a consumer group from the
 * beginning), and `dedupedStream` removes the relay's duplicates by event id.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Consumer, Kafka, logLevel } from "kafkajs";
import type { ChannelStreamEvent, StreamEvent } from "../../core/stream-records.js";
import { withInstallLock } from "./install-lock.js";
import { freePort, stopChild } from "./processes.js";

const run = promisify(execFile);

const kafkaVersion = "4.1.1";
/** log4j2 behind slf4j 1.7 (Kafka 4.x logs through slf4j 1.7, so the slf4j2 binding would not bind). */
const log4jVersion = "2.24.3";
/** Pinned so that Maven does not resolve (and fetch) whatever its default happens to be. */
const dependencyPlugin = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

/** Where the jars are kept between runs. */
export const kafkaHome = join(
  process.env.COLINK_CACHE_DIR ?? join(homedir(), ".cache", "colink"),
  `kafka-${kafkaVersion}`,
);
const libsDir = join(kafkaHome, "libs");
/** Written last into a complete libs dir. */
const installedMarker = ".installed";

/** A Kafka broker started for a test. */
export interface TestKafka {
  /** `127.0.0.1:<port>`: the PLAINTEXT listener, for `KAFKA_BROKERS` and kafkajs. */
  brokers: string;
  /** Stops it (SIGTERM, SIGKILL after 10 s) and waits for the exit; its data stays for `restart`. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data, and waits until it answers. */
  restart(): Promise<void>;
  /** Freezes it (SIGSTOP), resolving once every thread has stopped: connections stay open and nothing answers, as with a hung broker. */
  pause(): Promise<void>;
  /** Thaws it (SIGCONT). */
  resume(): void;
  /** Stops it and removes its data and config. */
  cleanup(): Promise<void>;
}

/** The small pom whose runtime dependencies are the broker's classpath. */
function classpathPom(): string {
  const dependency = (groupId: string, artifactId: string, version: string) =>
    `<dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>colink.test</groupId>
  <artifactId>kafka-broker-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    ${dependency("org.apache.kafka", "kafka_2.13", kafkaVersion)}
    ${dependency("org.apache.logging.log4j", "log4j-slf4j-impl", log4jVersion)}
    ${dependency("org.apache.logging.log4j", "log4j-core", log4jVersion)}
  </dependencies>
</project>
`;
}

/** Fetches the broker's jars into the cache unless they are there; resolves with the libs dir. */
export async function installKafka(): Promise<string> {
  if (existsSync(join(libsDir, installedMarker))) return libsDir;
  mkdirSync(kafkaHome, { recursive: true });
  return withInstallLock(join(kafkaHome, "install.lock"), "Kafka", () =>
    existsSync(join(libsDir, installedMarker)) ? Promise.resolve(libsDir) : fetchKafka(),
  );
}

/** Runs Maven into a private dir and moves the complete libs dir into place. */
async function fetchKafka(): Promise<string> {
  // A libs dir without the marker is left from an install that was cut short.
  rmSync(libsDir, { recursive: true, force: true });
  const work = mkdtempSync(join(kafkaHome, "install-"));
  try {
    writeFileSync(join(work, "pom.xml"), classpathPom());
    const staged = join(work, "libs");
    await run(
      "mvn",
      [
        "-q",
        "-B",
        "-f",
        join(work, "pom.xml"),
        `${dependencyPlugin}:copy-dependencies`,
        "-DincludeScope=runtime",
        `-DoutputDirectory=${staged}`,
      ],
      { timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(
        `fetching Kafka ${kafkaVersion} with Maven failed: ${err.message}\n${err.stdout ?? ""}`,
      );
    });
    writeFileSync(join(staged, installedMarker), `org.apache.kafka:kafka_2.13:${kafkaVersion}\n`);
    renameSync(staged, libsDir);
    return libsDir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (as `kafka-storage random-uuid`). */
function clusterId(): string {
  return randomBytes(16).toString("base64url");
}

function serverProperties(dir: string, port: number, controllerPort: number): string {
  return `${[
    "process.roles=broker,controller",
    "node.id=1",
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name=PLAINTEXT",
    "controller.listener.names=CONTROLLER",
    // A dynamic quorum formatted with --standalone: bootstrap servers, not controller.quorum.voters.
    `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
    `log.dirs=${join(dir, "data")}`,
    // Topics are made by the code under test, as in production; a typo must not make one.
    "auto.create.topics.enable=false",
    "num.partitions=3",
    "offsets.topic.replication.factor=1",
    // One partition for the consumer offsets: the group coordinator is ready sooner.
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
  ].join("\n")}\n`;
}

/** Kafka's own logs: warnings and worse, to a file (a failed start prints its tail). */
function log4jConfig(dir: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders>
    <File name="file" fileName="${join(dir, "server.log")}">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Root level="warn"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
`;
}

/** Whether every thread of process `pid` is stopped (Linux: state T or t in /proc). */
function allThreadsStopped(pid: number): boolean {
  return readdirSync(`/proc/${pid}/task`).every((task) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
    } catch (err) {
      // A thread that ended since the listing answers nothing either.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return true;
      throw err;
    }
    const state = stat.charAt(stat.lastIndexOf(")") + 2);
    return state === "T" || state === "t";
  });
}

/** The last lines of a file, for error messages. */
function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return "";
  return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

/** Resolves once a kafkajs admin lists the topics and finds a group coordinator, or rejects at the deadline. */
async function waitUntilServing(brokers: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const kafka = new Kafka({
    clientId: "colink-test-kafka",
    brokers: [brokers],
    // Refused connections are the expected answer until it listens.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Kafka exited (${child.exitCode ?? child.signalCode})`);
    }
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
      // A fresh broker answers "coordinator is loading" to group requests for a while:
      // ask until it knows the (absent) group, so a test's consumer joins at once.
      await admin.describeGroups(["colink-test-warmup"]);
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await admin.disconnect();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Kafka did not serve within ${timeoutMs} ms: ${String(lastError)}`);
}

/** Installs Kafka when missing and starts a single-node KRaft broker on free ports. */
export async function startKafka(): Promise<TestKafka> {
  const libs = await installKafka();
  const classpath = join(libs, "*");
  const dir = mkdtempSync(join(tmpdir(), "colink-kafka-"));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const brokers = `127.0.0.1:${port}`;
  const propertiesFile = join(dir, "server.properties");
  const log4jFile = join(dir, "log4j2.xml");
  const outputFile = join(dir, "kafka.out");
  writeFileSync(propertiesFile, serverProperties(dir, port, controllerPort));
  writeFileSync(log4jFile, log4jConfig(dir));
  const javaLogging = [`-Dlog4j2.configurationFile=${log4jFile}`];
  await run("java", [
    ...javaLogging,
    "-cp",
    classpath,
    "kafka.tools.StorageTool",
    "format",
    // One argument: an id starting with "-" (base64url can) would otherwise read as an option.
    `--cluster-id=${clusterId()}`,
    "-c",
    propertiesFile,
    "--standalone",
  ]).catch((err: Error & { stdout?: string }) => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`formatting Kafka's storage failed: ${err.message}\n${err.stdout ?? ""}`);
  });

  let child: ChildProcess | null = null;
  const running = () => child !== null && child.exitCode === null && child.signalCode === null;
  // A test that dies without cleaning up must not leave a JVM behind.
  const killOnExit = () => {
    if (running()) child!.kill("SIGKILL");
  };
  process.on("exit", killOnExit);

  const launch = async () => {
    const out = openSync(outputFile, "a");
    child = spawn(
      "java",
      ["-Xmx512m", "-Xms128m", ...javaLogging, "-cp", classpath, "kafka.Kafka", propertiesFile],
      { stdio: ["ignore", out, out] },
    );
    // The child has its own copy of the descriptor.
    closeSync(out);
    try {
      await waitUntilServing(brokers, child, 60_000);
    } catch (err) {
      await stop();
      throw new Error(
        `${(err as Error).message}\n--- kafka.out ---\n${tail(outputFile)}\n--- server.log ---\n${tail(join(dir, "server.log"))}`,
      );
    }
  };
  const stop = () => stopChild(child);

  try {
    await launch();
  } catch (err) {
    process.off("exit", killOnExit);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    brokers,
    stop,
    restart: launch,
    async pause() {
      if (!running()) return;
      const pid = child!.pid!;
      child!.kill("SIGSTOP");
      // The signal reaches the JVM's threads one by one; until then they may still answer.
      const deadline = Date.now() + 5000;
      while (!allThreadsStopped(pid)) {
        if (Date.now() > deadline) throw new Error(`Kafka (${pid}) did not stop on SIGSTOP`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    resume: () => void (running() && child!.kill("SIGCONT")),
    async cleanup() {
      // A frozen JVM would not act on SIGTERM.
      if (running()) child!.kill("SIGCONT");
      await stop();
      process.off("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A record as a consumer of the stream gets it. */
export interface StreamedRecord {
  topic: string;
  partition: number;
  key: string;
  /** The `event-id` header. */
  eventId: string;
  event: StreamEvent;
}

/** A consumer group reading topics from the beginning into `records`. */
export interface StreamReader {
  /** Everything read so far, in the order it arrived. */
  readonly records: StreamedRecord[];
  /** Resolves once `check(records)` holds; rejects after `timeoutMs`, saying `what` and the consumer's crashes. */
  until(check: (records: StreamedRecord[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts a consumer (a group of its own) on `topics` of `brokers`, from the beginning. */
export async function readStream(brokers: string, topics: readonly string[]): Promise<StreamReader> {
  const kafka = new Kafka({
    clientId: "colink-test-reader",
    brokers: [brokers],
    // Its failures are collected below and reported by `until`: kafkajs' console lines
    // would only repeat them.
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const consumer: Consumer = kafka.consumer({
    groupId: `colink-test-${randomBytes(6).toString("hex")}`,
    maxWaitTimeInMs: 100,
  });
  const records: StreamedRecord[] = [];
  const crashes: string[] = [];
  consumer.on(consumer.events.CRASH, (e) => {
    crashes.push(String(e.payload.error));
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      records.push({
        topic,
        partition,
        key: message.key?.toString() ?? "",
        eventId: message.headers?.["event-id"]?.toString() ?? "",
        event: JSON.parse(message.value?.toString() ?? "null") as StreamEvent,
      });
    },
  });
  return {
    records,
    async until(check, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!check(records)) {
        if (Date.now() > deadline) {
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} (${records.length} records read` +
              `${crashes.length ? `; consumer crashes: ${crashes.join("; ")}` : ""})`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => consumer.disconnect(),
  };
}

/** Whom a record is about: its channel, or its user (user and presence events); its key. */
export function subjectOf(event: StreamEvent): string {
  return "channelId" in event ? event.channelId : event.userId;
}

/**
 * What a consumer that deduplicates keeps, per topic and channel: each record whose seq is
 * above the last one kept (a resent record is at or below it). A record that goes back
 * while carrying an id not kept yet is a reordering, not a duplicate: it throws.
 */
export function dedupedStream(records: readonly StreamedRecord[]): Map<string, ChannelStreamEvent[]> {
  const kept = new Map<string, ChannelStreamEvent[]>();
  const ids = new Set<string>();
  for (const { topic, event } of records) {
    if (!("channelId" in event)) continue;
    const stream = `${topic}/${event.channelId}`;
    const events = kept.get(stream) ?? [];
    kept.set(stream, events);
    const last = events.at(-1)?.seq ?? 0;
    if (event.seq > last) {
      events.push(event);
      ids.add(event.id);
    } else if (!ids.has(event.id)) {
      throw new Error(`${stream}: event ${event.id} arrived after seq ${last} and was never seen before`);
    }
  }
  return kept;
}
