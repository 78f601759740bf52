/**
 * A real single-node OpenSearch for the tests of the OpenSearch search adapter.
 *
 * Installs it once into a cache outside the repo (`$COLINK_CACHE_DIR`, else
 * `~/.cache/colink`): Maven Central's integ-test zip of OpenSearch, which holds only the
 * transport module, plus the modules the adapter needs built from their published jars
 * (`analysis-common` for the English analysis, `lang-painless` which it extends, `reindex`
 * for swapping an alias to a rebuilt index). Each run then gets its own config, data and log
 * dirs in a temp dir, loopback ports of its own, and its own process group to stop.
 * OpenSearch refuses to run as root, so under root it runs as the system user `colink-search`.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, readdirSync } from "node:fs";
import { chown, cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { promisify } from "node:util";
import { freePort } from "./processes.js";

const run = promisify(execFile);

export const openSearchVersion = "2.19.6";
const mavenCentral = "https://repo1.maven.org/maven2";
/** The system user OpenSearch runs as when the tests run as root. */
const serviceUser = "colink-search";

/** One artifact of Maven Central. */
interface MavenArtifact {
  group: string;
  artifact: string;
  version: string;
  ext: "jar" | "zip";
}

const mavenJar = (group: string, artifact: string, version: string): MavenArtifact => ({
  group,
  artifact,
  version,
  ext: "jar",
});
const openSearchJar = (group: string, artifact: string) => mavenJar(group, artifact, openSearchVersion);

/** Where Maven Central serves an artifact. */
export function mavenUrl(a: MavenArtifact): string {
  return `${mavenCentral}/${a.group.replaceAll(".", "/")}/${a.artifact}/${a.version}/${a.artifact}-${a.version}.${a.ext}`;
}

/** The distribution: OpenSearch with only the transport module, no security plugin, no bundled JDK. */
const distribution: MavenArtifact = {
  group: "org.opensearch.distribution.integ-test-zip",
  artifact: "opensearch",
  version: openSearchVersion,
  ext: "zip",
};

/**
 * A module the integ-test zip lacks, as the full distribution lays it out: a folder under
 * `modules/` with the module's jar, the jars it needs that `lib/` does not hold (a jar in
 * both fails OpenSearch's jar-hell check), its descriptor and its security policy. The jars
 * are the compile dependencies of the module's pom; the descriptors and policies are those
 * of the module's build (`opensearchplugin { … }` and `plugin-metadata/`) in 2.19.
 */
interface BundledModule {
  name: string;
  description: string;
  classname: string;
  extendedPlugins: string[];
  jars: MavenArtifact[];
  policy?: string;
}

const asm = ["asm", "asm-analysis", "asm-commons", "asm-tree", "asm-util"].map((a) =>
  mavenJar("org.ow2.asm", a, "9.7"),
);

const modules: BundledModule[] = [
  {
    name: "lang-painless",
    description: "An easy, safe and fast scripting language for OpenSearch",
    classname: "org.opensearch.painless.PainlessPlugin",
    extendedPlugins: [],
    jars: [
      openSearchJar("org.opensearch.plugin", "lang-painless"),
      openSearchJar("org.opensearch.plugin", "opensearch-scripting-painless-spi"),
      mavenJar("org.antlr", "antlr4-runtime", "4.13.1"),
      ...asm,
    ],
    policy: `grant {
  // needed to generate runtime classes
  permission java.lang.RuntimePermission "createClassLoader";
  // needed to find the classloader to load whitelisted classes from
  permission java.lang.RuntimePermission "getClassLoader";
};
`,
  },
  {
    // Its painless extension (a service file in the jar) is why it extends lang-painless.
    name: "analysis-common",
    description: 'Adds "built in" analyzers to OpenSearch.',
    classname: "org.opensearch.analysis.common.CommonAnalysisPlugin",
    extendedPlugins: ["lang-painless"],
    jars: [openSearchJar("org.opensearch.plugin", "analysis-common")],
  },
  {
    // reactor-core and reactive-streams, which the rest client's pom names too, are in lib/.
    name: "reindex",
    description:
      "The Reindex module adds APIs to reindex from one index to another or update documents in place.",
    classname: "org.opensearch.index.reindex.ReindexPlugin",
    extendedPlugins: [],
    jars: [
      openSearchJar("org.opensearch.plugin", "reindex-client"),
      openSearchJar("org.opensearch.client", "opensearch-rest-client"),
      openSearchJar("org.opensearch", "opensearch-ssl-config"),
      mavenJar("org.apache.httpcomponents", "httpclient", "4.5.14"),
      mavenJar("org.apache.httpcomponents", "httpcore", "4.4.16"),
      mavenJar("org.apache.httpcomponents", "httpasyncclient", "4.1.5"),
      mavenJar("org.apache.httpcomponents", "httpcore-nio", "4.4.16"),
      mavenJar("commons-codec", "commons-codec", "1.18.0"),
      mavenJar("commons-logging", "commons-logging", "1.2"),
    ],
    policy: `grant {
  // reindex opens socket connections using the rest client
  permission java.net.SocketPermission "*", "connect";
};
grant codeBase "\${codebase.opensearch-rest-client}" {
  // rest client uses system properties which gets the default proxy
  permission java.net.NetPermission "getProxySelector";
};
grant codeBase "\${codebase.httpasyncclient}" {
  permission java.net.NetPermission "getProxySelector";
};
`,
  },
];

/** What a complete install holds; written last, so an install without it (or with another) is redone. */
const installManifest = JSON.stringify({
  distribution: mavenUrl(distribution),
  modules: modules.map((m) => ({ name: m.name, jars: m.jars.map(mavenUrl) })),
});
const manifestFile = "colink-install.json";

/** The cache folder of the install. */
export function openSearchCacheDir(): string {
  const root = process.env.COLINK_CACHE_DIR || join(homedir(), ".cache", "colink");
  return join(root, `opensearch-${openSearchVersion}`);
}

/** Downloads `url` into `file`, checking it against Maven Central's SHA-1 of it. */
async function download(url: string, file: string): Promise<number> {
  const fail = (why: string) =>
    new Error(`cannot download ${url} (${why}); OpenSearch for the tests comes from Maven Central`);
  const [res, sumRes] = await Promise.all([
    fetch(url).catch((err: unknown) => {
      throw fail(String(err));
    }),
    fetch(`${url}.sha1`).catch((err: unknown) => {
      throw fail(String(err));
    }),
  ]);
  if (!res.ok || !res.body) throw fail(`HTTP ${res.status}`);
  if (!sumRes.ok) throw fail(`HTTP ${sumRes.status} for its .sha1`);
  const expected = (await sumRes.text()).trim().split(/\s+/)[0]!.toLowerCase();
  const hash = createHash("sha1");
  let bytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as WebReadableStream), hashing, createWriteStream(file));
  const actual = hash.digest("hex");
  if (actual !== expected) throw fail(`SHA-1 ${actual}, Maven Central says ${expected}`);
  return bytes;
}

/** The `plugin-descriptor.properties` of a module, as the OpenSearch build writes it. */
function descriptorOf(m: BundledModule): string {
  return [
    `description=${m.description}`,
    `version=${openSearchVersion}`,
    `name=${m.name}`,
    `classname=${m.classname}`,
    "java.version=11",
    `opensearch.version=${openSearchVersion}`,
    "custom.foldername=",
    `extended.plugins=${m.extendedPlugins.join(",")}`,
    "has.native.controller=false",
    "",
  ].join("\n");
}

/** Builds a complete install in `staging` (a fresh folder beside the cache folder). */
async function buildInstall(staging: string, log: (line: string) => void): Promise<string> {
  const zip = join(staging, "opensearch.zip");
  const started = Date.now();
  const zipBytes = await download(mavenUrl(distribution), zip);
  log(`downloaded ${mavenUrl(distribution)} (${zipBytes} bytes) in ${Date.now() - started} ms`);
  await run("unzip", ["-q", zip, "-d", staging]).catch((err: unknown) => {
    throw new Error(`cannot unzip the OpenSearch zip (is unzip installed? apt-get install unzip): ${err}`);
  });
  await rm(zip);
  const home = join(staging, `opensearch-${openSearchVersion}`);
  for (const m of modules) {
    const dir = join(home, "modules", m.name);
    await mkdir(dir, { recursive: true });
    const sizes = await Promise.all(
      m.jars.map((jar) => download(mavenUrl(jar), join(dir, `${jar.artifact}-${jar.version}.jar`))),
    );
    await writeFile(join(dir, "plugin-descriptor.properties"), descriptorOf(m));
    if (m.policy) await writeFile(join(dir, "plugin-security.policy"), m.policy);
    log(`module ${m.name}: ${m.jars.length} jars, ${sizes.reduce((a, b) => a + b, 0)} bytes`);
  }
  await writeFile(join(home, manifestFile), installManifest);
  return home;
}

/** Whether `home` holds a complete install of this version and these modules. */
async function isInstalled(home: string): Promise<boolean> {
  // No manifest: not installed, or an install that never finished.
  const manifest = await readFile(join(home, manifestFile), "utf8").catch(() => null);
  return manifest === installManifest;
}

const stagingPrefix = `.opensearch-${openSearchVersion}-staging-`;
/** A staging folder untouched this long belongs to an install that was killed, not to one still running. */
const abandonedAfterMs = 30 * 60 * 1000;

/** Removes the staging folders of installs that were killed half-way (a finally block never ran). */
async function removeAbandonedStaging(parent: string): Promise<void> {
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(stagingPrefix)) continue;
    const dir = join(parent, name);
    if (Date.now() - (await stat(dir)).mtimeMs > abandonedAfterMs)
      await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The OpenSearch home in the cache, downloaded and assembled when missing. The install is
 * built in a staging folder and renamed into place whole, so an interrupted download leaves
 * no folder that looks complete, and two runs installing at once both end with one install.
 */
export async function installOpenSearch(log: (line: string) => void = () => {}): Promise<string> {
  const home = openSearchCacheDir();
  if (await isInstalled(home)) return home;
  const parent = join(home, "..");
  await mkdir(parent, { recursive: true });
  await removeAbandonedStaging(parent);
  const staging = await mkdtemp(join(parent, stagingPrefix));
  try {
    const built = await buildInstall(staging, log);
    if (existsSync(home) && !(await isInstalled(home))) {
      // An install of another layout (or a copy left by hand): put it aside and replace it.
      const aside = `${home}.old-${randomBytes(4).toString("hex")}`;
      await rename(home, aside);
      await rm(aside, { recursive: true, force: true });
    }
    await rename(built, home).catch(async (err: NodeJS.ErrnoException) => {
      // Another run put its install in place first: use that one.
      if ((err.code === "ENOTEMPTY" || err.code === "EEXIST") && (await isInstalled(home))) return;
      throw err;
    });
    return home;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * A Java home OpenSearch 2.19 runs on: `OPENSEARCH_JAVA_HOME` when set, else a Java 17 or 21
 * under /usr/lib/jvm (newer ones dropped the security manager OpenSearch 2.x needs).
 */
export function findJavaHome(): string {
  const given = process.env.OPENSEARCH_JAVA_HOME;
  if (given) {
    if (!existsSync(join(given, "bin", "java")))
      throw new Error(`OPENSEARCH_JAVA_HOME=${given} has no bin/java`);
    return given;
  }
  const jvmDir = "/usr/lib/jvm";
  const installed = existsSync(jvmDir) ? readdirSync(jvmDir) : [];
  for (const major of ["17", "21"]) {
    const name = installed.find(
      (n) => new RegExp(`(^|-)${major}(-|$)`).test(n) && existsSync(join(jvmDir, n, "bin", "java")),
    );
    if (name) return join(jvmDir, name);
  }
  throw new Error(
    `OpenSearch ${openSearchVersion} needs Java 17 or 21 and none was found (OPENSEARCH_JAVA_HOME, or ${jvmDir}/*-17-*): ` +
      "apt-get install openjdk-17-jre-headless",
  );
}

/** Creates the unprivileged system user OpenSearch runs as, unless it exists. */
async function ensureServiceUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => {
    const { stdout: uid } = await run("id", ["-u", serviceUser]);
    const { stdout: gid } = await run("id", ["-g", serviceUser]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  // `id` fails when there is no such user yet.
  const existing = await ids().catch(() => null);
  if (existing) return existing;
  await run("useradd", [
    "--system",
    "--user-group",
    "--no-create-home",
    "--home-dir",
    "/nonexistent",
    "--shell",
    "/usr/sbin/nologin",
    serviceUser,
  ]).catch((err: { code?: number }) => {
    // 9: another run created it meanwhile.
    if (err.code !== 9) throw new Error(`cannot create the system user ${serviceUser}: ${err}`);
  });
  return ids();
}

/** A running OpenSearch of a test's own. */
export interface TestOpenSearch {
  url: string;
  port: number;
  /** Its console output so far (the last 64 KiB). */
  output(): string;
  /** Stops it (SIGTERM to its process group, SIGKILL after 5 s) and removes its data. */
  stop(): Promise<void>;
}

const outputLimit = 64 * 1024;

/** Whether any process of the group `pgid` is still there. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

/** Sends `signal` to the group `pgid`; a group that is gone already needs none. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/** Resolves once `check` is true, polling every `everyMs`; false when `timeoutMs` passed first. */
async function waitUntil(check: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}

/**
 * Installs OpenSearch when missing and starts a single node on 127.0.0.1 on free ports,
 * with a 512 MiB heap and its own temp dirs; resolves once the cluster is yellow.
 */
export async function startOpenSearch(opts: { log?: (line: string) => void } = {}): Promise<TestOpenSearch> {
  const log = opts.log ?? ((line: string) => console.log(`[opensearch] ${line}`));
  const javaHome = findJavaHome();
  const cachedHome = await installOpenSearch(log);
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await ensureServiceUser() : null;

  const runDir = await mkdtemp(join(tmpdir(), "colink-opensearch-"));
  let child: ChildProcess | null = null;
  // A test run that ends without stop() must not leave a JVM behind.
  const killOnExit = () => {
    if (child?.pid) signalGroup(child.pid, "SIGKILL");
  };
  const removeRunDir = () => rm(runDir, { recursive: true, force: true });
  try {
    // A run's own home of hard links to the cache (a copy across file systems): the cache
    // may sit in a home the service user cannot enter (/root is 0700).
    const home = join(runDir, "home");
    await run("cp", ["-al", cachedHome, home]).catch(async (err: unknown) => {
      log(`cannot hard-link the install (${err}); copying it`);
      // Whatever the failed cp linked goes first: copying over a link would write into the cache.
      await rm(home, { recursive: true, force: true });
      await cp(cachedHome, home, { recursive: true });
    });
    const conf = join(runDir, "config");
    await cp(join(home, "config"), conf, { recursive: true });
    for (const dir of ["data", "logs", "tmp"]) await mkdir(join(runDir, dir));
    if (owner) {
      // Only folders made for this run: the linked files are the cache's own inodes. The
      // script runs the JVM in its home, which writes its GC log to home/logs.
      for (const dir of ["", "config", "config/jvm.options.d", "data", "logs", "tmp", "home/logs"]) {
        await chown(join(runDir, dir), owner.uid, owner.gid);
      }
      for (const file of readdirSync(conf, { recursive: true, encoding: "utf8" })) {
        await chown(join(conf, file), owner.uid, owner.gid);
      }
    }

    const [httpPort, transportPort] = [await freePort(), await freePort()];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      OPENSEARCH_JAVA_HOME: javaHome,
      OPENSEARCH_PATH_CONF: conf,
      OPENSEARCH_TMPDIR: join(runDir, "tmp"),
      OPENSEARCH_JAVA_OPTS: "-Xms512m -Xmx512m",
    };
    const command = [
      join(home, "bin", "opensearch"),
      "-Ediscovery.type=single-node",
      "-Ecluster.name=colink-test",
      "-Enode.name=colink-test",
      "-Enetwork.host=127.0.0.1",
      `-Ehttp.port=${httpPort}`,
      `-Etransport.port=${transportPort}`,
      `-Epath.data=${join(runDir, "data")}`,
      `-Epath.logs=${join(runDir, "logs")}`,
      // A full disk elsewhere on the machine must not make the test index read-only.
      "-Ecluster.routing.allocation.disk.threshold_enabled=false",
      "-Ebootstrap.memory_lock=false",
    ];
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const [cmd, ...args] = asRoot
      ? ["runuser", "-u", serviceUser, "--", "env", "-i", ...envArgs, ...command]
      : ["env", "-i", ...envArgs, ...command];
    const started = Date.now();
    // Its own process group, so that stop() reaches runuser, the script and the JVM alike.
    const spawned = spawn(cmd!, args, { cwd: runDir, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child = spawned;
    const pgid = spawned.pid!;
    let output = "";
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-outputLimit);
    };
    spawned.stdout!.on("data", keep);
    spawned.stderr!.on("data", keep);
    const exited = new Promise<void>((resolve) => spawned.once("exit", () => resolve()));
    process.once("exit", killOnExit);

    const url = `http://127.0.0.1:${httpPort}`;
    await waitForYellow(url, spawned, () => output, 90_000);
    log(`OpenSearch ${openSearchVersion} ready on ${url} in ${Date.now() - started} ms (java: ${javaHome})`);

    let stopping: Promise<void> | null = null;
    return {
      url,
      port: httpPort,
      output: () => output,
      stop() {
        stopping ??= (async () => {
          signalGroup(pgid, "SIGTERM");
          const gone = await waitUntil(() => !groupAlive(pgid), 5_000);
          if (!gone) {
            signalGroup(pgid, "SIGKILL");
            await waitUntil(() => !groupAlive(pgid), 5_000);
          }
          await exited;
          process.removeListener("exit", killOnExit);
          await removeRunDir();
        })();
        return stopping;
      },
    };
  } catch (err) {
    process.removeListener("exit", killOnExit);
    if (child?.pid) {
      signalGroup(child.pid, "SIGKILL");
      await waitUntil(() => !groupAlive(child!.pid!), 5_000);
    }
    await removeRunDir();
    throw err;
  }
}

/** Polls the cluster health until it is yellow; fails with the node's output when it exits or takes too long. */
async function waitForYellow(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `OpenSearch exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`,
      );
    }
    try {
      const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, {
        signal: AbortSignal.timeout(3_000),
      });
      if (res.ok) return;
      last = `HTTP ${res.status}: ${await res.text()}`;
    } catch (err) {
      // Not listening yet: the JVM takes a few seconds to open its port.
      last = String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`OpenSearch was not ready within ${timeoutMs} ms (last: ${last}):\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
