import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ColinkError } from "../../core/errors.js";
import { createTokenVerifier } from "../../core/tokens.js";
import {
  DEV_ISSUER_KEY_FILE,
  devUserId,
  generateDevIssuerKey,
  openDevIssuer,
  openDevIssuerFromJwk,
  parseDevRole,
  parseDevUsername,
} from "./dev-issuer.js";

const issuer = "http://localhost:8080";
const audience = "colink";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "colink-dev-issuer-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("openDevIssuer", () => {
  it("issues tokens the core verifier accepts", async () => {
    const dev = await openDevIssuer({ dataDir: dir, issuer, audience });
    const verifier = createTokenVerifier({ keys: dev.keys, issuer, audience });
    const token = await dev.issue({
      id: devUserId("alice"),
      username: "alice",
      displayName: "Alice",
      role: "admin",
    });
    expect(await verifier.verify(token)).toEqual({
      userId: devUserId("alice"),
      username: "alice",
      displayName: "Alice",
      role: "admin",
    });
    const bob = await verifier.verify(await dev.issue({ id: "U-bob", username: "bob" }));
    expect(bob).toEqual({ userId: "U-bob", username: "bob", displayName: "bob", role: "member" });
  });

  it("signs with EdDSA under the published kid, with iss, aud, iat, exp and jti", async () => {
    const dev = await openDevIssuer({ dataDir: dir, issuer, audience, tokenTtlSec: 60 });
    const token = await dev.issue({ id: "U1", username: "u1" });
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: "EdDSA", kid: dev.kid, typ: "JWT" });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: issuer, aud: audience, sub: "U1", preferred_username: "u1" });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(typeof claims.jti).toBe("string");
    expect(claims.role).toBeUndefined();
  });

  it("defaults the token lifetime to 24 hours", async () => {
    const dev = await openDevIssuer({ dataDir: dir, issuer, audience });
    const claims = decodeJwt(await dev.issue({ id: "U1", username: "u1" }));
    expect(claims.exp! - claims.iat!).toBe(24 * 3600);
  });

  it("publishes only the public key", async () => {
    const dev = await openDevIssuer({ dataDir: dir, issuer, audience });
    const { keys } = dev.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", kid: dev.kid, alg: "EdDSA", use: "sig" });
    expect(keys[0]!.d).toBeUndefined();
    // a caller mutating the result does not change the issuer's key set
    keys[0]!.kid = "changed";
    expect(dev.jwks().keys[0]!.kid).toBe(dev.kid);
  });

  it("stores the private key with mode 0600 and reuses it on re-open", async () => {
    const first = await openDevIssuer({ dataDir: dir, issuer, audience });
    const file = join(dir, DEV_ISSUER_KEY_FILE);
    const st = await stat(file);
    if (process.platform !== "win32") expect(st.mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, "utf8"));
    expect(stored).toMatchObject({ kty: "OKP", crv: "Ed25519", kid: first.kid });
    expect(typeof stored.d).toBe("string");

    const token = await first.issue({ id: "U1", username: "u1" });
    const second = await openDevIssuer({ dataDir: dir, issuer, audience });
    expect(second.kid).toBe(first.kid);
    expect(second.jwks()).toEqual(first.jwks());
    // a token from before the restart still verifies after it
    const verifier = createTokenVerifier({ keys: second.keys, issuer, audience });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "U1" });
  });

  it("creates a missing data dir", async () => {
    const nested = join(dir, "a", "b");
    const dev = await openDevIssuer({ dataDir: nested, issuer, audience });
    expect(JSON.parse(await readFile(join(nested, DEV_ISSUER_KEY_FILE), "utf8")).kid).toBe(dev.kid);
  });

  it("agrees on one key when opened concurrently", async () => {
    const all = await Promise.all(
      Array.from({ length: 8 }, () => openDevIssuer({ dataDir: dir, issuer, audience })),
    );
    expect(new Set(all.map((d) => d.kid)).size).toBe(1);
  });

  it("gives different data dirs different keys; their tokens do not cross", async () => {
    const other = await mkdtemp(join(tmpdir(), "colink-dev-issuer-"));
    try {
      const a = await openDevIssuer({ dataDir: dir, issuer, audience });
      const b = await openDevIssuer({ dataDir: other, issuer, audience });
      expect(a.kid).not.toBe(b.kid);
      const verifier = createTokenVerifier({ keys: a.keys, issuer, audience });
      const err = await verifier.verify(await b.issue({ id: "U1", username: "u1" })).catch((e) => e);
      expect(err).toBeInstanceOf(ColinkError);
      expect(err.code).toBe("unauthenticated");
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("fails clearly on a corrupt key file", async () => {
    await writeFile(join(dir, DEV_ISSUER_KEY_FILE), "{not json");
    await expect(openDevIssuer({ dataDir: dir, issuer, audience })).rejects.toThrow(/not valid JSON/);
    await writeFile(join(dir, DEV_ISSUER_KEY_FILE), JSON.stringify({ kty: "RSA" }));
    await expect(openDevIssuer({ dataDir: dir, issuer, audience })).rejects.toThrow(/no Ed25519 private JWK/);
  });

  it("rejects bad users with bad_request", async () => {
    const dev = await openDevIssuer({ dataDir: dir, issuer, audience });
    const bad = [
      { id: "", username: "x" },
      { id: "x".repeat(129), username: "x" },
      { id: "U1", username: " " },
      { id: "U1", username: "x", role: "root" },
    ];
    for (const user of bad) {
      const err = await dev.issue(user as never).catch((e) => e);
      expect(err).toBeInstanceOf(ColinkError);
      expect(err.code).toBe("bad_request");
    }
  });
});

describe("dev sessions", () => {
  it("round-trips a user through a session token that is never an access token", async () => {
    const dev = await openDevIssuer({ dataDir: dir, issuer, audience, tokenTtlSec: 120 });
    const user = { id: devUserId("carol"), username: "carol", role: "guest" as const };
    const session = await dev.issueSession(user);
    expect(await dev.verifySession(session)).toEqual(user);
    expect(dev.tokenTtlSec).toBe(120);
    const claims = decodeJwt(session);
    expect(claims.exp! - claims.iat!).toBe(30 * 24 * 3600);
    const verifier = createTokenVerifier({ keys: dev.keys, issuer, audience });
    await expect(verifier.verify(session)).rejects.toMatchObject({ code: "unauthenticated" });
    // And an access token is not a session token.
    await expect(dev.verifySession(await dev.issue(user))).rejects.toMatchObject({ code: "unauthenticated" });
  });

  it("refuses a session token of another issuer key or a malformed one", async () => {
    const dev = await openDevIssuer({ dataDir: dir, issuer, audience });
    const other = await openDevIssuerFromJwk(await generateDevIssuerKey(), { issuer, audience });
    const foreign = await other.issueSession({ id: devUserId("dave"), username: "dave" });
    for (const token of [foreign, "x.y.z", ""]) {
      await expect(dev.verifySession(token)).rejects.toBeInstanceOf(ColinkError);
    }
  });
});

describe("parseDevRole", () => {
  it("takes a site role, treats absent as none, and refuses anything else", () => {
    expect(parseDevRole("admin")).toBe("admin");
    expect(parseDevRole(undefined)).toBeUndefined();
    expect(parseDevRole("")).toBeUndefined();
    for (const bad of ["root", "Admin", 1, {}]) expect(() => parseDevRole(bad)).toThrow(ColinkError);
  });
});

describe("openDevIssuerFromJwk", () => {
  it("works from a JWK kept elsewhere and keeps its kid", async () => {
    const jwk = await generateDevIssuerKey();
    const dev = await openDevIssuerFromJwk(jwk, { issuer, audience });
    expect(dev.kid).toBe(jwk.kid);
    const verifier = createTokenVerifier({ keys: dev.keys, issuer, audience });
    await expect(verifier.verify(await dev.issue({ id: "U9", username: "nine" }))).resolves.toMatchObject({
      userId: "U9",
    });
    const again = await openDevIssuerFromJwk(JSON.parse(JSON.stringify(jwk)), { issuer, audience });
    await expect(verifier.verify(await again.issue({ id: "U9", username: "nine" }))).resolves.toBeDefined();
  });

  it("rejects a public-only or non-Ed25519 JWK", async () => {
    const jwk = await generateDevIssuerKey();
    const { d: _d, ...publicOnly } = jwk;
    await expect(openDevIssuerFromJwk(publicOnly, { issuer, audience })).rejects.toThrow(/private JWK/);
    await expect(openDevIssuerFromJwk({ ...jwk, crv: "P-256" }, { issuer, audience })).rejects.toThrow(
      /Ed25519/,
    );
  });
});

describe("devUserId", () => {
  it("is deterministic, case-insensitive and distinct per name", () => {
    const id = devUserId("alice");
    expect(id).toBe(devUserId("alice"));
    expect(id).toBe(devUserId("ALICE"));
    expect(id).not.toBe(devUserId("bob"));
    expect(id).toMatch(/^U[0-9A-HJKMNP-TV-Z]{20}$/);
  });

  it("is stable across releases (a fixed vector)", () => {
    // sha256("alice") = 2bd806c9...; ids in existing dev databases depend on this.
    expect(devUserId("alice")).toBe("U5FC0DJBZ1R0AY6GZRCS8");
  });

  it("gives 1000 distinct names 1000 distinct ids", () => {
    const ids = new Set(Array.from({ length: 1000 }, (_, i) => devUserId(`user${i}`)));
    expect(ids.size).toBe(1000);
  });
});

describe("parseDevUsername", () => {
  it("accepts valid names and lowercases them", () => {
    expect(parseDevUsername("alice")).toBe("alice");
    expect(parseDevUsername("Alice.B_c-9")).toBe("alice.b_c-9");
    expect(parseDevUsername("  bob ")).toBe("bob");
    expect(parseDevUsername("a")).toBe("a");
    expect(parseDevUsername("x".repeat(32))).toBe("x".repeat(32));
  });

  it.each([
    ["empty", ""],
    ["blank", "   "],
    ["too long", "x".repeat(33)],
    ["space inside", "al ice"],
    ["at sign", "alice@example.com"],
    ["slash", "a/b"],
    ["unicode", "ålice"],
    ["kelvin sign folding to k", "\u212Aate"],
    ["newline", "a\nb"],
    ["number", 42],
    ["null", null],
    ["undefined", undefined],
    ["object", { username: "alice" }],
  ])("rejects %s", (_name, raw) => {
    let thrown: unknown;
    try {
      parseDevUsername(raw);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ColinkError);
    expect((thrown as ColinkError).code).toBe("bad_request");
  });
});
