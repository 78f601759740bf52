/**
 * Authentication end to end on PGlite: the three ways to present a token on the
 * WebSocket (query, header, `auth` frame), the auth timeout, every kind of bad token
 * (close 4001 on the socket, 401 over HTTP), dev login input, an OIDC-only server, and
 * configuration errors that must stop the server with one clear line.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ops } from "../core/ops.js";
import { encodeValue, FrameKind } from "../core/protocol.js";
import { devToken, startFailure, startServer, type TestServer } from "./harness.js";
import { RawSocket } from "./raw-socket.js";

const devIssuer = "colink-dev";
/** The `auth` op's token length limit, from the op table (docs/protocol.md says 8192). */
const authTokenMax = (ops.auth.args.properties.token as { maxLength: number }).maxLength;
const audience = "colink";
type SigningKey = Parameters<SignJWT["sign"]>[0];

interface MintOptions {
  key: SigningKey;
  kid?: string;
  alg?: string;
  iss?: string | null;
  aud?: string | null;
  sub?: string | null;
  /** Seconds from now; null leaves `exp` out. */
  expIn?: number | null;
  nbfIn?: number;
  claims?: JWTPayload;
}

/** Signs a JWT the way the dev issuer does, with every part overridable. */
async function mint(o: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ preferred_username: "mallory", name: "Mallory", ...o.claims })
    .setProtectedHeader({ alg: o.alg ?? "EdDSA", typ: "JWT", ...(o.kid ? { kid: o.kid } : {}) })
    .setIssuedAt(now)
    .setJti(randomUUID());
  if (o.iss !== null) jwt.setIssuer(o.iss ?? devIssuer);
  if (o.aud !== null) jwt.setAudience(o.aud ?? audience);
  if (o.sub !== null) jwt.setSubject(o.sub ?? "Umallory");
  if (o.expIn !== null) jwt.setExpirationTime(now + (o.expIn ?? 3600));
  if (o.nbfIn !== undefined) jwt.setNotBefore(now + o.nbfIn);
  return jwt.sign(o.key);
}

/** An unsigned token (`alg: none`). */
function unsigned(payload: JWTPayload): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${enc({ alg: "none", typ: "JWT" })}.${enc(payload)}.`;
}

/** Changes one character in the middle of a token segment. */
function tamper(token: string, segment: 1 | 2): string {
  const parts = token.split(".");
  const s = parts[segment]!;
  const i = Math.floor(s.length / 2);
  parts[segment] = `${s.slice(0, i)}${s[i] === "A" ? "B" : "A"}${s.slice(i + 1)}`;
  return parts.join(".");
}

/**
 * Runs the built server directly until it exits. Needed for COLINK_PORT, which the
 * harness always sets itself; otherwise the same environment as the harness gives.
 */
async function spawnFailure(env: Record<string, string>): Promise<{ code: number; lines: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "colink-cfg-"));
  const { DATABASE_URL: _ignored, ...parentEnv } = process.env as Record<string, string>;
  const childEnv: Record<string, string> = {
    ...parentEnv,
    COLINK_HOST: "127.0.0.1",
    COLINK_PORT: "0",
    COLINK_DATA_DIR: dir,
    COLINK_DEV_AUTH: "on",
    ...env,
  };
  const script = new URL("../dist/app/main.js", import.meta.url).pathname;
  try {
    return await new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, [script], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
      let log = "";
      proc.stdout.on("data", (d) => {
        log += d.toString();
        if (/listening on/.test(log)) {
          proc.kill("SIGKILL");
          reject(new Error(`the server started:\n${log}`));
        }
      });
      proc.stderr.on("data", (d) => {
        log += d.toString();
      });
      const timer = setTimeout(() => {
        proc.kill("SIGKILL");
        reject(new Error(`the server did not exit:\n${log}`));
      }, 15_000);
      proc.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, lines: log.split("\n").filter((l) => l.trim() !== "") });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let server: TestServer;
let timeoutServer: TestServer;
const dataDir = mkdtempSync(join(tmpdir(), "colink-auth-"));
let alice: { token: string; userId: string };
/** The dev issuer's own private key, read from the data dir. */
let devKey: SigningKey;
let devKid: string;
/** A key of our own. */
let foreignKey: SigningKey;
let badTokens: Record<string, string>;
const sockets: RawSocket[] = [];

async function open(
  opts: { token?: string; bearer?: string } = {},
  on: TestServer = server,
): Promise<RawSocket> {
  const s = await RawSocket.open(on.wsUrl, opts);
  sockets.push(s);
  return s;
}

async function httpMe(authorization: string | null, on: TestServer = server) {
  const res = await fetch(`${on.baseUrl}/v1/users/me`, {
    headers: authorization === null ? {} : { authorization },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  [server, timeoutServer] = await Promise.all([
    startServer("pglite", { COLINK_DATA_DIR: dataDir }),
    startServer("pglite", { COLINK_AUTH_TIMEOUT_SEC: "1" }),
  ]);
  alice = await devToken(server, "alice");
  const jwk = JSON.parse(readFileSync(join(dataDir, "dev-issuer-key.json"), "utf8")) as JWK;
  devKey = await importJWK(jwk, "EdDSA");
  devKid = jwk.kid ?? (await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JWK));
  foreignKey = (await generateKeyPair("EdDSA", { crv: "Ed25519" })).privateKey;
  const now = Math.floor(Date.now() / 1000);
  const dev = (o: Partial<MintOptions> = {}) => mint({ key: devKey, kid: devKid, ...o });
  badTokens = {
    expired: await dev({ expIn: -3600 }),
    "expired beyond the clock tolerance": await dev({ expIn: -120 }),
    "not yet valid": await dev({ nbfIn: 3600 }),
    "without exp": await dev({ expIn: null }),
    "forged (own key, dev kid)": await mint({ key: foreignKey, kid: devKid }),
    "forged (own key, own kid)": await mint({ key: foreignKey, kid: "mallory-key" }),
    "forged (own key, no kid)": await mint({ key: foreignKey }),
    "wrong audience": await dev({ aud: "someone-else" }),
    "without audience": await dev({ aud: null }),
    "wrong issuer": await dev({ iss: "https://evil.example" }),
    "without issuer": await dev({ iss: null }),
    "without subject": await dev({ sub: null }),
    "subject too long": await dev({ sub: "U".repeat(129) }),
    "alg none": unsigned({ iss: devIssuer, aud: audience, sub: alice.userId, exp: now + 3600, iat: now }),
    "alg none, dev kid": `${base64url.encode(JSON.stringify({ alg: "none", kid: devKid }))}.${base64url.encode(
      JSON.stringify({ iss: devIssuer, aud: audience, sub: alice.userId, exp: now + 3600 }),
    )}.`,
    "HS256 keyed with the public key": await mint({
      key: new TextEncoder().encode(String(jwk.x)),
      alg: "HS256",
      kid: devKid,
    }),
    "tampered signature": tamper(alice.token, 2),
    "tampered payload": tamper(alice.token, 1),
    "signature stripped": `${alice.token.split(".").slice(0, 2).join(".")}.`,
    garbage: "garbage",
    "three dots of garbage": "a.b.c",
    "base64 junk": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln",
    "not JSON inside": `${base64url.encode("{")}.${base64url.encode("[")}.AAAA`,
    "long (over 8192, under the auth limit)": "x".repeat(10_000),
    "very long": "x".repeat(20_000),
    "with spaces": "not a token at all",
  };
  // Two PGlite servers start side by side (about 9 s each on a quiet machine): a loaded one
  // (CI beside a benchmark) took over the default 60 s.
}, 120_000);

afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  await Promise.all([server?.cleanup(), timeoutServer?.cleanup()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("WebSocket authentication", () => {
  it("a dev token in the access_token query parameter", async () => {
    const s = await open({ token: alice.token });
    const me = await s.call("user.me", {});
    expect(me).toMatchObject([FrameKind.ok, 1, { user: { id: alice.userId, username: "alice" } }]);
  });

  it("a dev token in an Authorization: Bearer header", async () => {
    const s = await open({ bearer: alice.token });
    const me = await s.call("user.me", {});
    expect(me).toMatchObject([FrameKind.ok, 1, { user: { id: alice.userId } }]);
  });

  it("a token we minted with the dev key is accepted (the bad-token cases below are not vacuous)", async () => {
    const token = await mint({
      key: devKey,
      kid: devKid,
      sub: "Uminted",
      claims: { preferred_username: "minted" },
    });
    const s = await open({ token });
    expect(await s.call("user.me", {})).toMatchObject([FrameKind.ok, 1, { user: { id: "Uminted" } }]);
    expect((await httpMe(`Bearer ${token}`)).status).toBe(200);
    // Still within the 30 s clock tolerance.
    const late = await mint({ key: devKey, kid: devKid, sub: "Ulate", expIn: -5 });
    expect((await httpMe(`Bearer ${late}`)).status).toBe(200);
  });

  it("no token: a first frame other than auth closes with 4004", async () => {
    // docs/protocol.md: "any other first frame, or none in time, closes the connection with 4004".
    for (const [op, args] of [
      ["user.me", {}],
      ["ch.list", {}],
      ["ch.create", { name: "sneaky", kind: "public" }],
      ["msg.history", { channelId: "C000000000000000NOSUCH" }],
      ["msg.send", { channelId: "C000000000000000NOSUCH", text: "hi", clientMsgId: "x" }],
      ["sub", { channelId: "C000000000000000NOSUCH" }],
      ["unsub", { channelId: "C000000000000000NOSUCH" }],
      ["ping", {}],
    ] as const) {
      const s = await open();
      s.send(op, args);
      const closed = await s.closed();
      expect(closed, op).toMatchObject({ code: 4004, reason: "the first frame must be auth" });
      expect(s.frames, op).toEqual([]);
    }
  });

  it("no token: an auth frame authenticates; a malformed one is a bad request and may be retried", async () => {
    const s = await open();
    // Malformed auth args are a bad request, not a verdict on a token.
    expect(await s.call("auth", { token: 42 })).toMatchObject([FrameKind.error, 1, { code: "bad_request" }]);
    expect(await s.call("auth", {})).toMatchObject([FrameKind.error, 2, { code: "bad_request" }]);
    expect(s.isOpen).toBe(true);
    const auth = await s.call("auth", { token: alice.token });
    expect(auth).toMatchObject([FrameKind.ok, 3, { user: { id: alice.userId, username: "alice" } }]);
    expect((await s.call("user.me", {}))[0]).toBe(FrameKind.ok);
    // A second auth on an authenticated connection is a conflict, and changes nothing.
    const bob = await devToken(server, "bob");
    expect(await s.call("auth", { token: bob.token })).toMatchObject([
      FrameKind.error,
      5,
      { code: "conflict" },
    ]);
    expect(await s.call("user.me", {})).toMatchObject([FrameKind.ok, 6, { user: { id: alice.userId } }]);
  });

  it("an auth frame on a connection opened with a token is a conflict", async () => {
    const s = await open({ token: alice.token });
    expect(await s.call("auth", { token: alice.token })).toMatchObject([
      FrameKind.error,
      1,
      { code: "conflict" },
    ]);
    expect(s.isOpen).toBe(true);
  });

  it("no auth within COLINK_AUTH_TIMEOUT_SEC closes with 4004", async () => {
    const t = await devToken(timeoutServer, "talker");
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // The four cases run side by side, so the test waits out the timeout about once.
    const [silent, chatty, authedInTime, tokenAtUpgrade] = await Promise.all([
      open({}, timeoutServer),
      open({}, timeoutServer),
      open({}, timeoutServer),
      open({ token: t.token }, timeoutServer),
    ]);
    const t0 = Date.now();
    // Only a successful auth counts: malformed auth requests do not stop the timer.
    const timer = setInterval(() => chatty.send("auth", { token: 42 }), 100);
    try {
      const authReply = await authedInTime.call("auth", { token: t.token });
      expect(authReply[0]).toBe(FrameKind.ok);
      const [silentClose, chattyClose] = await Promise.all([silent.closed(5000), chatty.closed(5000)]);
      const waited = Date.now() - t0;
      expect(silentClose).toMatchObject({ code: 4004, reason: "authenticate first" });
      expect(chattyClose).toMatchObject({ code: 4004, reason: "authenticate first" });
      expect(chatty.frames.length).toBeGreaterThan(0);
      expect(waited).toBeGreaterThanOrEqual(800);
      expect(waited).toBeLessThan(4000);
    } finally {
      clearInterval(timer);
    }
    // Authenticating in time (by frame or at the upgrade) cancels the timer.
    await sleep(Math.max(0, 1600 - (Date.now() - t0)));
    for (const s of [authedInTime, tokenAtUpgrade]) {
      expect(s.isOpen).toBe(true);
      expect((await s.call("user.me", {}))[0]).toBe(FrameKind.ok);
    }
  });

  it("bad tokens in the query: the upgrade succeeds, then close 4001", async () => {
    for (const [name, token] of Object.entries(badTokens)) {
      const s = await open({ token });
      const closed = await s.closed();
      expect(closed.code, name).toBe(4001);
      expect(s.frames, name).toEqual([]);
    }
  });

  it("bad tokens in the Authorization header: close 4001", async () => {
    for (const [name, token] of Object.entries(badTokens)) {
      const s = await open({ bearer: token });
      expect((await s.closed()).code, name).toBe(4001);
    }
  });

  it("bad tokens in an auth frame: error unauthenticated, then close 4001", async () => {
    for (const [name, token] of Object.entries(badTokens)) {
      // Over the auth schema's limit: a bad request (tested below).
      if (token.length > authTokenMax) continue;
      const s = await open();
      const id = s.send("auth", { token });
      const closed = await s.closed();
      expect(s.replyTo(id), name).toMatchObject([
        FrameKind.error,
        id,
        { code: "unauthenticated", retryable: false },
      ]);
      expect(closed.code, name).toBe(4001);
    }
  });

  it("an auth frame with an over-long token is a bad request, and the connection stays", async () => {
    const s = await open();
    const r = await s.call("auth", { token: "x".repeat(authTokenMax + 1) });
    expect(r).toMatchObject([FrameKind.error, 1, { code: "bad_request" }]);
    expect(s.isOpen).toBe(true);
    expect((await s.call("auth", { token: alice.token }))[0]).toBe(FrameKind.ok);
  });

  // Regression: both used to succeed, leaving the connection as the second user while
  // still subscribed to the first user's personal topic.
  it("two auth frames read together: the second is a conflict", async () => {
    const bob = await devToken(server, "bob");
    const s = await open();
    s.sendBatch([
      encodeValue([0, 1, "auth", { token: alice.token }]),
      encodeValue([0, 2, "auth", { token: bob.token }]),
    ]);
    const [first, second] = await Promise.all([s.reply(1), s.reply(2)]);
    expect(first).toMatchObject([FrameKind.ok, 1, { user: { id: alice.userId } }]);
    expect(second).toMatchObject([FrameKind.error, 2, { code: "conflict" }]);
    expect(await s.call("user.me", {})).toMatchObject([
      FrameKind.ok,
      expect.any(Number),
      { user: { id: alice.userId } },
    ]);
  });

  it("an empty access_token counts as no token", async () => {
    const s = await open({ token: "" });
    expect((await s.call("auth", { token: alice.token }))[0]).toBe(FrameKind.ok);
    const t = await open({ token: "" });
    t.send("user.me", {});
    expect((await t.closed()).code).toBe(4004);
  });

  // BUG (docs vs code): docs/protocol.md §auth says "Send nothing else until the reply
  // arrives; other requests get `unauthenticated` `send auth first`", and §5 says every op
  // but auth can fail with `unauthenticated`. The gateway instead closes with 4004 and the
  // reason "the first frame must be auth", although the first frame was auth.
  it("a request sent while auth is being verified gets unauthenticated, not a close", async () => {
    // A token the server has not verified yet (a verified one is remembered and answers at once).
    const fresh = await devToken(server, "alice");
    const s = await open();
    s.sendBatch([encodeValue([0, 1, "auth", { token: fresh.token }]), encodeValue([0, 2, "user.me", {}])]);
    expect(await s.reply(2)).toMatchObject([FrameKind.error, 2, { code: "unauthenticated" }]);
    expect(await s.reply(1)).toMatchObject([FrameKind.ok, 1, { user: { id: alice.userId } }]);
    expect(s.isOpen).toBe(true);
  });
});

describe("HTTP authentication", () => {
  it("a valid bearer token works", async () => {
    expect(await httpMe(`Bearer ${alice.token}`)).toMatchObject({
      status: 200,
      body: { user: { id: alice.userId } },
    });
    expect((await httpMe(`bearer ${alice.token}`)).status).toBe(200);
  });

  it("bad tokens get 401 unauthenticated", async () => {
    for (const [name, token] of Object.entries(badTokens)) {
      const res = await httpMe(`Bearer ${token}`);
      expect(res.status, name).toBe(401);
      expect(res.body, name).toMatchObject({
        error: { code: "unauthenticated", message: expect.any(String), retryable: false },
      });
    }
  });

  it("a missing or non-bearer Authorization header gets 401", async () => {
    for (const header of [
      null,
      "",
      "Bearer",
      "Bearer ",
      `Basic ${btoa("alice:pw")}`,
      alice.token,
      `Token ${alice.token}`,
    ]) {
      const res = await httpMe(header);
      expect(res.status, String(header)).toBe(401);
      expect(res.body).toMatchObject({ error: { code: "unauthenticated" } });
    }
    // Every API route, not only /v1/users/me.
    const routes: Array<[string, string]> = [
      ["GET", "/v1/channels"],
      ["POST", "/v1/channels"],
      ["GET", "/v1/channels/C000000000000000NOSUCH"],
      ["GET", "/v1/channels/C000000000000000NOSUCH/messages"],
      ["POST", "/v1/channels/C000000000000000NOSUCH/messages"],
      ["PATCH", "/v1/messages/M1"],
      ["DELETE", "/v1/messages/M1"],
    ];
    for (const [method, path] of routes) {
      const res = await fetch(`${server.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${badTokens.expired}` },
        ...(method === "GET" || method === "DELETE"
          ? {}
          : { body: JSON.stringify({ name: "x", kind: "public", text: "x" }) }),
      });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it("POST /auth/dev/token refuses bad usernames with 400", async () => {
    const bodies: unknown[] = [
      {},
      { username: "" },
      { username: "   " },
      { username: 42 },
      { username: null },
      { username: true },
      { username: ["alice"] },
      { username: { name: "alice" } },
      { username: "a b" },
      { username: "x".repeat(33) },
      { username: "ünïcödé" },
      { username: "a/b" },
      { username: "a\u0000b" },
      { username: "<script>" },
      { username: "İstanbul" },
      [],
      "alice",
    ];
    for (const body of bodies) {
      const res = await fetch(`${server.baseUrl}/auth/dev/token`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "bad_request" } });
    }
    for (const raw of ["", "not json", "{"]) {
      const res = await fetch(`${server.baseUrl}/auth/dev/token`, { method: "POST", body: raw });
      expect(res.status, raw).toBe(400);
    }
    // A good one, for contrast: trimmed and lowercased, 32 characters at most.
    const ok = await fetch(`${server.baseUrl}/auth/dev/token`, {
      method: "POST",
      body: JSON.stringify({ username: "  Alice.B-c_9  " }),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ user: { username: "alice.b-c_9" } });
    const long = await fetch(`${server.baseUrl}/auth/dev/token`, {
      method: "POST",
      body: JSON.stringify({ username: "x".repeat(32) }),
    });
    expect(long.status).toBe(200);
  });
});

describe("with COLINK_DEV_AUTH=off", () => {
  it("and no OIDC issuer, the server refuses to start with one line naming COLINK_OIDC_ISSUER", async () => {
    const { code, lines } = await startFailure("pglite", { COLINK_DEV_AUTH: "off" });
    expect(code).not.toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/COLINK_OIDC_ISSUER/);
  });

  describe("and an OIDC issuer", () => {
    let oidc: Server;
    let issuer: string;
    let oidcKey: SigningKey;
    let oidcKid: string;
    let oidcServer: TestServer;

    beforeAll(async () => {
      const pair = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
      oidcKey = pair.privateKey;
      const pub = await exportJWK(pair.publicKey);
      oidcKid = await calculateJwkThumbprint(pub);
      oidc = createServer((req, res) => {
        const send = (body: unknown) => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        };
        if (req.url === "/realms/test/.well-known/openid-configuration") {
          send({ issuer, jwks_uri: `${issuer}/certs` });
        } else if (req.url === "/realms/test/certs") {
          send({ keys: [{ ...pub, kid: oidcKid, alg: "EdDSA", use: "sig" }] });
        } else {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((r) => oidc.listen(0, "127.0.0.1", r));
      issuer = `http://127.0.0.1:${(oidc.address() as AddressInfo).port}/realms/test`;
      oidcServer = await startServer("pglite", {
        COLINK_DEV_AUTH: "off",
        COLINK_OIDC_ISSUER: issuer,
        COLINK_OIDC_AUDIENCE: audience,
      });
    });

    afterAll(async () => {
      await oidcServer?.cleanup();
      await new Promise((r) => oidc?.close(r));
    });

    it("the dev endpoints are 404", async () => {
      const res = await fetch(`${oidcServer.baseUrl}/auth/dev/token`, {
        method: "POST",
        body: JSON.stringify({ username: "alice" }),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
      expect((await fetch(`${oidcServer.baseUrl}/auth/dev/jwks`)).status).toBe(404);
    });

    it("tokens of the OIDC issuer work; dev tokens are refused", async () => {
      const token = await mint({ key: oidcKey, kid: oidcKid, iss: issuer, sub: "Uoidc-user" });
      expect((await httpMe(`Bearer ${token}`, oidcServer)).status).toBe(200);
      const s = await open({ token }, oidcServer);
      expect(await s.call("user.me", {})).toMatchObject([FrameKind.ok, 1, { user: { id: "Uoidc-user" } }]);
      // The dev issuer is off: its tokens are from an issuer that is not accepted.
      expect((await httpMe(`Bearer ${alice.token}`, oidcServer)).status).toBe(401);
      const dev = await open({ token: alice.token }, oidcServer);
      expect((await dev.closed()).code).toBe(4001);
      // Right issuer, wrong key or wrong audience.
      for (const bad of [
        await mint({ key: foreignKey, kid: oidcKid, iss: issuer }),
        await mint({ key: oidcKey, kid: oidcKid, iss: issuer, aud: "other" }),
        await mint({ key: oidcKey, kid: oidcKid, iss: issuer, expIn: -3600 }),
      ]) {
        expect((await httpMe(`Bearer ${bad}`, oidcServer)).status).toBe(401);
        const b = await open({ token: bad }, oidcServer);
        expect((await b.closed()).code).toBe(4001);
      }
    });
  });
});

describe("the start banner", () => {
  it("warns when the dev issuer is on and the server listens beyond loopback, not on loopback", async () => {
    const open = await startServer("pglite", { COLINK_HOST: "0.0.0.0" });
    try {
      expect(open.output()).toMatch(
        /WARNING: the dev issuer is on \(COLINK_DEV_AUTH\) and the server listens on 0\.0\.0\.0/,
      );
      // It still serves (the warning is not a refusal).
      expect((await fetch(`${open.baseUrl}/health`)).status).toBe(200);
    } finally {
      await open.cleanup();
    }
    expect(server.output()).not.toContain("WARNING");
  });
});

describe("configuration errors stop the server with one line naming the variable", () => {
  const cases: Array<[string, "pglite" | "postgres", Record<string, string>]> = [
    ["COLINK_WORKERS", "pglite", { COLINK_WORKERS: "-1" }],
    // The harness drops DATABASE_URL for PGlite, so this goes through the Postgres path.
    ["DATABASE_URL", "postgres", { DATABASE_URL: "mysql://x" }],
    ["COLINK_MAX_PAYLOAD_BYTES", "pglite", { COLINK_MAX_PAYLOAD_BYTES: "12" }],
    ["COLINK_AUTH_TIMEOUT_SEC", "pglite", { COLINK_AUTH_TIMEOUT_SEC: "0" }],
    ["COLINK_DEV_AUTH", "pglite", { COLINK_DEV_AUTH: "maybe" }],
    ["COLINK_OIDC_ISSUER", "pglite", { COLINK_OIDC_ISSUER: "ftp://idp" }],
  ];
  const expectOneLine = ({ code, lines }: { code: number; lines: string[] }, variable: string) => {
    expect(code).not.toBe(0);
    expect(code).toBeGreaterThan(0);
    expect(lines, lines.join("\n")).toHaveLength(1);
    expect(lines[0]).toContain(variable);
  };
  it.each(cases)("%s", async (variable, store, env) => {
    expectOneLine(await startFailure(store, env), variable);
  });
  // The harness always sets COLINK_PORT itself, so these run the server directly.
  it.each([["abc"], ["-1"], ["65536"], ["80x"]])("COLINK_PORT=%s", async (port) => {
    expectOneLine(await spawnFailure({ COLINK_PORT: port }), "COLINK_PORT");
  });
  it("COLINK_WORKERS=-1 and DATABASE_URL=mysql://x, run directly", async () => {
    expectOneLine(await spawnFailure({ COLINK_WORKERS: "-1" }), "COLINK_WORKERS");
    expectOneLine(await spawnFailure({ DATABASE_URL: "mysql://x" }), "DATABASE_URL");
  });
});
