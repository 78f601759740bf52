/**
 * A real Keycloak for the tests of OIDC sign-in: Keycloak 26.4.7 (the Quarkus
 * distribution zip from Maven Central) in development mode with an in-memory database, run
 * with the machine's Java 17 on free loopback ports, with the realm Colink ships
 * (deploy/keycloak/realm-colink.json) imported at start.
 *
 * The install is made once in a cache outside the repo,
 * `${COLINK_CACHE_DIR:-$HOME/.cache/colink}/keycloak-26.4.7/`, which only ever appears
 * complete: Maven fetches the zip into a private directory, it is unpacked there, Quarkus
 * builds it once for `start-dev` with the options below (the "build" `start-dev` would
 * otherwise run on every first start, about 25 s), the marker file is written last and the
 * directory is renamed into place; a lock file makes a second test file starting at the
 * same time wait for the first's install.
 *
 * Each run gets a home of its own in a temp dir: its own `bin/kc.sh`, `lib/quarkus-run.jar`
 * and `lib/quarkus/` (2.5 MB of build output, copied, so that Keycloak takes this home as
 * its application root and a rebuild, should the options ever differ, stays in the run),
 * its own `data/` (the import dir, the transaction logs), and symlinks to the cache for the
 * rest (the 150 MB of jars, the themes, the config). Nothing a run does writes to the cache.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { withInstallLock } from "./install-lock.js";
import { freePort } from "./processes.js";

const run = promisify(execFile);

export const keycloakVersion = "26.4.7";
const artifact = `org.keycloak:keycloak-quarkus-dist:${keycloakVersion}:zip`;
/** Pinned so that Maven does not resolve (and fetch) whatever its default happens to be. */
const dependencyPlugin = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

const cacheRoot = process.env.COLINK_CACHE_DIR ?? join(homedir(), ".cache", "colink");
/** Where the built install is kept between runs. */
export const keycloakHome = join(cacheRoot, `keycloak-${keycloakVersion}`);
/** Written last into a complete install. */
const installedMarker = ".installed";

/** The realm Colink ships. */
export const colinkRealmFile = new URL("../../deploy/keycloak/realm-colink.json", import.meta.url).pathname;
/** Its name, the last segment of the issuer. */
export const colinkRealm = "colink";

/**
 * Keycloak's build-time options. The install is built with exactly these, and every run
 * starts with them, so that `start-dev` finds its build up to date and does not rebuild.
 */
const buildOptions = ["--db=dev-mem", "--health-enabled=true"];
/** What the build records (in lib/quarkus/generated-bytecode.jar) for `buildOptions` in dev mode. */
const expectedPersisted = ["kc.db=dev-mem", "kc.health-enabled=true", "kc.profile=dev"];

/**
 * The JVM's extra options (kc.sh appends them to its defaults, which cap the heap at 512 MB).
 * Only the C1 compiler: Keycloak lives for one test file, and C2 compiling its start-up
 * code would cost CPU the two shared cores do not have.
 */
const javaOptions = "-XX:TieredStopAtLevel=1";

/** The temporary admin of the master realm every run creates. */
const adminUser = "admin";
const adminPassword = "admin";

/** The test users of realm-colink.json, one per Colink site role. */
export const realmUsers = {
  admin: { username: "admin-alice", password: "admin-alice-password", name: "Alice Admin" },
  moderator: { username: "moderator-mo", password: "moderator-mo-password", name: "Mo Moderator" },
  member: { username: "member-max", password: "member-max-password", name: "Max Member" },
  guest: { username: "guest-gus", password: "guest-gus-password", name: "Gus Guest" },
} as const;

/** The confidential clients of realm-colink.json and their (development-only) secrets. */
export const realmClients = {
  apiGateway: { clientId: "api-gateway", secret: "colink-dev-api-gateway-secret-change-me" },
  serviceInternal: { clientId: "service-internal", secret: "colink-dev-service-internal-secret-change-me" },
} as const;

/** A Keycloak started for a test. */
export interface TestKeycloak {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The colink realm's issuer: `http://127.0.0.1:<port>/realms/colink`, as tokens' `iss` says. */
  issuer: string;
  port: number;
  /** The management port, where `/health/ready` answers. */
  managementPort: number;
  /** The kc.sh process id (after its relaunch, the JVM's). */
  pid: number;
  /** How long it took from spawn to ready, in ms. */
  startupMs: number;
  /** The issuer of another realm of this Keycloak. */
  issuerOf(realm: string): string;
  /** An access token of the master realm's admin, for the admin REST API (cached until shortly before it expires). */
  adminToken(): Promise<string>;
  /** Everything Keycloak printed so far. */
  output(): string;
  /** Stops it (SIGTERM to kc.sh, SIGKILL to its process group after 15 s) and waits for the exit. */
  stop(): Promise<void>;
  /** Stops it and removes its home. */
  cleanup(): Promise<void>;
}

/** Options of `startKeycloak`. */
export interface KeycloakOptions {
  /** More realm representations to import at start, besides realm-colink.json. */
  realms?: ReadonlyArray<{ realm: string } & Record<string, unknown>>;
}

/** Installs and builds Keycloak into the cache unless it is there; resolves with its dir. */
export async function installKeycloak(): Promise<string> {
  if (existsSync(join(keycloakHome, installedMarker))) return keycloakHome;
  mkdirSync(cacheRoot, { recursive: true });
  return withInstallLock(join(cacheRoot, `keycloak-${keycloakVersion}.lock`), "Keycloak", () =>
    existsSync(join(keycloakHome, installedMarker)) ? Promise.resolve(keycloakHome) : fetchKeycloak(),
  );
}

/** Fetches the zip with Maven, unpacks and builds it in a private dir, and moves it into place. */
async function fetchKeycloak(): Promise<string> {
  // An install dir without the marker is left from an install that was cut short.
  rmSync(keycloakHome, { recursive: true, force: true });
  const work = mkdtempSync(join(cacheRoot, `.keycloak-${keycloakVersion}-install-`));
  try {
    await run(
      "mvn",
      ["-q", "-B", `${dependencyPlugin}:copy`, `-Dartifact=${artifact}`, `-DoutputDirectory=${work}`],
      // Maven wants a project dir to run in; the private one has no pom, which `copy` does not need.
      { cwd: work, timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: Error & { stdout?: string }) => {
      throw new Error(
        `fetching Keycloak ${keycloakVersion} with Maven failed: ${err.message}\n${err.stdout ?? ""}`,
      );
    });
    const zip = join(work, `keycloak-quarkus-dist-${keycloakVersion}.zip`);
    if (!existsSync(zip)) throw new Error(`Maven did not leave ${zip}`);
    await run("unzip", ["-q", zip, "-d", work], { maxBuffer: 16 * 1024 * 1024 });
    rmSync(zip);
    const staged = join(work, `keycloak-${keycloakVersion}`);
    await buildForDevMode(staged);
    // The build's start left a data dir (transaction logs): runs have their own.
    rmSync(join(staged, "data"), { recursive: true, force: true });
    writeFileSync(join(staged, installedMarker), `${artifact}\n${buildOptions.join(" ")}\n`);
    renameSync(staged, keycloakHome);
    return keycloakHome;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The environment Keycloak runs with: the caller's, without anything that would change its build. */
function keycloakEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(KC_|KEYCLOAK_|QUARKUS_|JAVA_OPTS)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, JAVA_OPTS_APPEND: javaOptions, ...extra };
}

/**
 * Runs `kc.sh start-dev` once in the fresh install, which makes Quarkus build it for dev
 * mode with `buildOptions`; stops it once the build is done (the server then starts
 * running), and checks that the build recorded those options.
 */
async function buildForDevMode(staged: string): Promise<void> {
  const [port, managementPort] = await twoFreePorts();
  const child = spawn(
    join(staged, "bin", "kc.sh"),
    [
      "start-dev",
      ...buildOptions,
      "--http-host=127.0.0.1",
      `--http-port=${port}`,
      `--http-management-port=${managementPort}`,
    ],
    { env: keycloakEnv({}), stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const killOnExit = () => killGroup(child);
  process.on("exit", killOnExit);
  let log = "";
  const built = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("Keycloak's build did not finish in 10 minutes")),
      10 * 60_000,
    );
    const onData = (d: Buffer) => {
      log += d.toString();
      // Printed once the build is done, as the server starts.
      if (log.includes("Running the server in development mode")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Keycloak's build exited (${code ?? signal})`));
    });
  });
  try {
    await built;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${log.slice(-8000)}`);
  } finally {
    await stopGroup(child, 15_000);
    process.off("exit", killOnExit);
  }
  const { stdout } = await run("unzip", [
    "-p",
    join(staged, "lib", "quarkus", "generated-bytecode.jar"),
    "META-INF/keycloak-persisted.properties",
  ]);
  const persisted = stdout.split("\n").map((l) => l.trim());
  const missing = expectedPersisted.filter((p) => !persisted.includes(p));
  if (missing.length > 0) {
    throw new Error(`Keycloak's build did not record ${missing.join(", ")}:\n${stdout}\n${log.slice(-8000)}`);
  }
}

/** Two distinct free ports. */
async function twoFreePorts(): Promise<[number, number]> {
  const a = await freePort();
  let b = await freePort();
  while (b === a) b = await freePort();
  return [a, b];
}

/**
 * Stops a process started with `detached: true`: SIGTERM to it (kc.sh forwards it to its
 * JVM), then SIGKILL to its process group (kc.sh and its JVM, nothing else) after `graceMs`.
 * Not processes.ts's stopChild: a SIGKILL to kc.sh alone, before it has exec'd its JVM,
 * would leave the JVM running.
 */
function stopGroup(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const killer = setTimeout(() => killGroup(child), graceMs);
    child.once("exit", () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * A home for one run: its own kc.sh, quarkus-run.jar and build output (so that Keycloak
 * takes this home, not the cache, as its application root), its own data dir, and
 * symlinks to the cache for everything else.
 */
function makeRunHome(install: string, realms: ReadonlyArray<Record<string, unknown>>): string {
  const home = mkdtempSync(join(tmpdir(), "colink-keycloak-"));
  for (const entry of readdirSync(install)) {
    if (entry === "bin" || entry === "lib" || entry === "data" || entry === installedMarker) continue;
    symlinkSync(join(install, entry), join(home, entry));
  }
  mkdirSync(join(home, "bin"));
  copyFileSync(join(install, "bin", "kc.sh"), join(home, "bin", "kc.sh"));
  chmodSync(join(home, "bin", "kc.sh"), 0o755);
  mkdirSync(join(home, "lib"));
  for (const entry of readdirSync(join(install, "lib"))) {
    if (entry === "quarkus" || entry === "quarkus-run.jar") continue;
    symlinkSync(join(install, "lib", entry), join(home, "lib", entry));
  }
  copyFileSync(join(install, "lib", "quarkus-run.jar"), join(home, "lib", "quarkus-run.jar"));
  cpSync(join(install, "lib", "quarkus"), join(home, "lib", "quarkus"), { recursive: true });
  const importDir = join(home, "data", "import");
  mkdirSync(importDir, { recursive: true });
  copyFileSync(colinkRealmFile, join(importDir, "realm-colink.json"));
  for (const realm of realms) {
    writeFileSync(join(importDir, `realm-${String(realm.realm)}.json`), JSON.stringify(realm));
  }
  return home;
}

/** Polls the management port's readiness and the realm's discovery document; rejects when kc.sh exits or at the deadline. */
async function waitUntilReady(
  kc: { url: string; managementPort: number },
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Keycloak exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    }
    try {
      const ready = await fetch(`http://127.0.0.1:${kc.managementPort}/health/ready`, {
        signal: AbortSignal.timeout(2_000),
      });
      await ready.body?.cancel();
      if (ready.ok) {
        const discovery = await fetch(`${kc.url}/realms/${colinkRealm}/.well-known/openid-configuration`, {
          signal: AbortSignal.timeout(5_000),
        });
        await discovery.body?.cancel();
        if (discovery.ok) return;
        last = `discovery: HTTP ${discovery.status}`;
      } else {
        last = `/health/ready: HTTP ${ready.status}`;
      }
    } catch (err) {
      // Not listening yet.
      last = String(err);
    }
    if (Date.now() > deadline)
      throw new Error(`Keycloak was not ready within ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 250));
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

/**
 * Installs Keycloak when missing and starts it in dev mode (in-memory database) on free
 * loopback ports, with realm-colink.json (and `options.realms`) imported.
 */
export async function startKeycloak(options: KeycloakOptions = {}): Promise<TestKeycloak> {
  const install = await installKeycloak();
  const home = makeRunHome(install, options.realms ?? []);
  const outputFile = join(home, "keycloak.out");
  const [port, managementPort] = await twoFreePorts();
  const url = `http://127.0.0.1:${port}`;
  const out = openSync(outputFile, "a");
  const started = Date.now();
  const child = spawn(
    join(home, "bin", "kc.sh"),
    [
      "start-dev",
      ...buildOptions,
      "--http-host=127.0.0.1",
      `--http-port=${port}`,
      `--http-management-port=${managementPort}`,
      "--import-realm",
    ],
    {
      env: keycloakEnv({
        KC_BOOTSTRAP_ADMIN_USERNAME: adminUser,
        KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
      }),
      stdio: ["ignore", out, out],
      // Its own process group: a SIGKILL reaches kc.sh's JVM too, and nothing else.
      detached: true,
    },
  );
  // The child has its own copy of the descriptor.
  closeSync(out);
  // A test that dies without cleaning up must not leave a JVM behind.
  const killOnExit = () => killGroup(child);
  process.on("exit", killOnExit);
  const stop = () => stopGroup(child, 15_000);
  const cleanup = async () => {
    await stop();
    process.off("exit", killOnExit);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await waitUntilReady({ url, managementPort }, child, 240_000);
  } catch (err) {
    const output = tail(outputFile);
    await cleanup();
    throw new Error(`${(err as Error).message}\n--- keycloak.out ---\n${output}`);
  }
  const startupMs = Date.now() - started;
  let admin: { token: string; until: number } | null = null;
  const kc: TestKeycloak = {
    url,
    issuer: `${url}/realms/${colinkRealm}`,
    port,
    managementPort,
    pid: child.pid!,
    startupMs,
    issuerOf: (realm) => `${url}/realms/${realm}`,
    async adminToken() {
      if (admin && admin.until > Date.now()) return admin.token;
      const tokens = await tokenRequest(kc, "master", {
        grant_type: "password",
        client_id: "admin-cli",
        username: adminUser,
        password: adminPassword,
      });
      admin = { token: tokens.accessToken, until: Date.now() + (tokens.expiresIn - 10) * 1000 };
      return admin.token;
    },
    output: () => tail(outputFile, 64 * 1024),
    stop,
    cleanup,
  };
  return kc;
}

/** What Keycloak's token endpoint answered. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  /** Seconds, as Keycloak says (negative for a client whose tokens are born expired). */
  expiresIn: number;
}

/** A token endpoint request that must succeed. */
export async function tokenRequest(
  kc: Pick<TestKeycloak, "url">,
  realm: string,
  form: Record<string, string>,
): Promise<TokenSet> {
  const res = await fetch(`${kc.url}/realms/${realm}/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams(form),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof body.access_token !== "string") {
    throw new Error(
      `token request (${form.grant_type}, ${form.client_id}) to realm ${realm} failed: HTTP ${res.status} ${JSON.stringify(body)}`,
    );
  }
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : null,
    idToken: typeof body.id_token === "string" ? body.id_token : null,
    expiresIn: Number(body.expires_in),
  };
}

/** A direct (password) grant for a user of `realm` (default colink) through `clientId` (default web-app). */
export function passwordGrant(
  kc: Pick<TestKeycloak, "url">,
  username: string,
  password: string,
  clientId = "web-app",
  realm = colinkRealm,
): Promise<TokenSet> {
  return tokenRequest(kc, realm, {
    grant_type: "password",
    client_id: clientId,
    username,
    password,
    scope: "openid",
  });
}

/** A client-credentials grant for a confidential client of `realm` (default colink). */
export function clientCredentialsGrant(
  kc: Pick<TestKeycloak, "url">,
  clientId: string,
  secret: string,
  realm = colinkRealm,
): Promise<TokenSet> {
  return tokenRequest(kc, realm, {
    grant_type: "client_credentials",
    client_id: clientId,
    client_secret: secret,
  });
}

/** A call to Keycloak's admin REST API (`path` under `/admin/realms`) as the master admin; throws unless 2xx. */
export async function adminApi<T = unknown>(
  kc: Pick<TestKeycloak, "url" | "adminToken">,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; location: string | null; body: T }> {
  const res = await fetch(`${kc.url}/admin/realms${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await kc.adminToken()}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} /admin/realms${path}: HTTP ${res.status} ${text}`);
  return {
    status: res.status,
    location: res.headers.get("location"),
    body: (text ? JSON.parse(text) : null) as T,
  };
}

/** The kid of the key that signs the realm's RS256 tokens now. */
export async function activeSigningKid(
  kc: Pick<TestKeycloak, "url" | "adminToken">,
  realm = colinkRealm,
): Promise<string> {
  const { body } = await adminApi<{ active: Record<string, string> }>(kc, "GET", `/${realm}/keys`);
  const kid = body.active.RS256;
  if (!kid) throw new Error(`realm ${realm} has no active RS256 key`);
  return kid;
}

/**
 * Rotates the realm's signing key the way an operator does: adds a generated RSA key
 * provider with a higher priority than every key there, so new tokens are signed with it
 * (a new `kid`) while the old key stays published to verify tokens already out.
 * Resolves with the new kid.
 */
export async function rotateRealmKey(
  kc: Pick<TestKeycloak, "url" | "adminToken">,
  realm = colinkRealm,
): Promise<string> {
  const before = await activeSigningKid(kc, realm);
  const { body: realmRep } = await adminApi<{ id: string }>(kc, "GET", `/${realm}`);
  const { body: keys } = await adminApi<{ keys: Array<{ providerPriority?: number }> }>(
    kc,
    "GET",
    `/${realm}/keys`,
  );
  const top = Math.max(0, ...keys.keys.map((k) => k.providerPriority ?? 0));
  await adminApi(kc, "POST", `/${realm}/components`, {
    name: `rotated-${randomBytes(4).toString("hex")}`,
    providerId: "rsa-generated",
    providerType: "org.keycloak.keys.KeyProvider",
    parentId: realmRep.id,
    config: {
      priority: [String(top + 100)],
      enabled: ["true"],
      active: ["true"],
      algorithm: ["RS256"],
      keySize: ["2048"],
    },
  });
  const after = await activeSigningKid(kc, realm);
  if (after === before) throw new Error(`realm ${realm} still signs with ${before} after the rotation`);
  return after;
}

/** A PKCE verifier and its S256 challenge (RFC 7636). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** Cookies of one browser-like session against Keycloak. */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const eq = pair.indexOf("=");
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/** What `codeFlowSignIn` ends with. */
export interface CodeFlowResult {
  /** Where Keycloak sent the browser back: `redirectUri` with `code`, `state` and `iss`. */
  callback: URL;
  tokens: TokenSet;
}

/**
 * Signs a user in through the authorization code flow with PKCE (S256), driven by HTTP
 * requests as a browser would: the authorization request, Keycloak's login form, the
 * redirect back to `redirectUri`, and the code exchange with the verifier.
 */
export async function codeFlowSignIn(
  kc: Pick<TestKeycloak, "url">,
  opts: { username: string; password: string; redirectUri: string; clientId?: string; realm?: string },
): Promise<CodeFlowResult> {
  const realm = opts.realm ?? colinkRealm;
  const clientId = opts.clientId ?? "web-app";
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(12).toString("base64url");
  const authorize = new URL(`${kc.url}/realms/${realm}/protocol/openid-connect/auth`);
  authorize.search = new URLSearchParams({
    client_id: clientId,
    response_type: "code",
    scope: "openid profile",
    redirect_uri: opts.redirectUri,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  const jar = new CookieJar();
  const page = await fetch(authorize, { redirect: "manual" });
  jar.take(page);
  const html = await page.text();
  if (page.status !== 200)
    throw new Error(`the authorization request answered HTTP ${page.status}: ${html.slice(0, 500)}`);
  const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no login form in Keycloak's page: ${html.slice(0, 500)}`);
  const login = await fetch(action.replaceAll("&amp;", "&"), {
    method: "POST",
    redirect: "manual",
    headers: { cookie: jar.header() },
    body: new URLSearchParams({ username: opts.username, password: opts.password, credentialId: "" }),
  });
  jar.take(login);
  const location = login.headers.get("location");
  await login.body?.cancel();
  if (login.status !== 302 || !location) {
    throw new Error(
      `the login form answered HTTP ${login.status} without a redirect (wrong password, or a required action?)`,
    );
  }
  const callback = new URL(location);
  if (callback.searchParams.get("state") !== state)
    throw new Error(`the callback's state is not ours: ${location}`);
  const code = callback.searchParams.get("code");
  if (!code) throw new Error(`the callback has no code: ${location}`);
  const tokens = await tokenRequest(kc, realm, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    redirect_uri: opts.redirectUri,
    code_verifier: verifier,
  });
  return { callback, tokens };
}
