import {
  base64url,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  SignJWT,
} from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ColinkError } from "./errors.js";
import type { TokenVerifier } from "./ports.js";
import { createTokenVerifier, siteRoleOf } from "./tokens.js";

const ISSUER = "https://id.test/realms/colink";
const AUDIENCE = "colink";

type Signer = { key: CryptoKey; kid: string; alg: string };

let good: Signer;
let other: Signer;
let keys: JWTVerifyGetKey;
let verifier: TokenVerifier;

async function makeSigner(kid: string, alg = "EdDSA"): Promise<{ signer: Signer; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === "EdDSA" ? { crv: "Ed25519" } : {});
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { signer: { key: privateKey, kid, alg }, jwk };
}

const now = () => Math.floor(Date.now() / 1000);

function sign(
  claims: JWTPayload,
  opts: { signer?: Signer; header?: Record<string, unknown> } = {},
): Promise<string> {
  const s = opts.signer ?? good;
  const body: JWTPayload = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "U123",
    iat: now(),
    exp: now() + 300,
    ...claims,
  };
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
  return new SignJWT(body).setProtectedHeader({ alg: s.alg, kid: s.kid, ...opts.header }).sign(s.key);
}

async function rejection(p: Promise<unknown>): Promise<ColinkError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ColinkError);
    return err as ColinkError;
  }
  throw new Error("expected a rejection");
}

async function expectUnauthenticated(token: string, message: RegExp | string, v = verifier): Promise<void> {
  const err = await rejection(v.verify(token));
  expect(err.code).toBe("unauthenticated");
  expect(err.message).toMatch(message);
  expect(err.retryable).toBe(false);
  // The message is the whole story: no jose internals, no stack text.
  expect(err.message).not.toMatch(/\n|at |JOSE|JWS|ERR_/);
  expect(err.toBody()).toEqual({ code: "unauthenticated", message: err.message, retryable: false });
}

beforeAll(async () => {
  const a = await makeSigner("good-key");
  const b = await makeSigner("good-key"); // same kid, different key: a forgery
  good = a.signer;
  other = b.signer;
  keys = createLocalJWKSet({ keys: [a.jwk] });
  verifier = createTokenVerifier({ keys, issuer: ISSUER, audience: AUDIENCE });
});

describe("createTokenVerifier", () => {
  it("maps a valid token to its principal", async () => {
    const token = await sign({ preferred_username: "alice", name: "Alice Liddell", role: "moderator" });
    await expect(verifier.verify(token)).resolves.toEqual({
      userId: "U123",
      username: "alice",
      displayName: "Alice Liddell",
      role: "moderator",
    });
  });

  it("falls back from preferred_username to username to sub, and from name to username", async () => {
    expect(await verifier.verify(await sign({ username: "bob" }))).toEqual({
      userId: "U123",
      username: "bob",
      displayName: "bob",
      role: "member",
    });
    expect(await verifier.verify(await sign({ preferred_username: "carol", username: "bob" }))).toMatchObject(
      {
        username: "carol",
        displayName: "carol",
      },
    );
    expect(await verifier.verify(await sign({}))).toMatchObject({ username: "U123", displayName: "U123" });
    expect(await verifier.verify(await sign({ preferred_username: "  ", name: "" }))).toMatchObject({
      username: "U123",
      displayName: "U123",
    });
  });

  it("accepts a token without audience check when none is configured", async () => {
    const v = createTokenVerifier({ keys, issuer: ISSUER });
    await expect(v.verify(await sign({ aud: "someone-else" }))).resolves.toMatchObject({ userId: "U123" });
  });

  it("accepts an audience array that contains the audience", async () => {
    await expect(verifier.verify(await sign({ aud: ["account", AUDIENCE] }))).resolves.toMatchObject({
      userId: "U123",
    });
  });

  it("verifies ES256 and RS256 keys from the same key set", async () => {
    const es = await makeSigner("es", "ES256");
    const rs = await makeSigner("rs", "RS256");
    const v = createTokenVerifier({ keys: createLocalJWKSet({ keys: [es.jwk, rs.jwk] }), issuer: ISSUER });
    await expect(v.verify(await sign({}, { signer: es.signer }))).resolves.toMatchObject({ userId: "U123" });
    await expect(v.verify(await sign({}, { signer: rs.signer }))).resolves.toMatchObject({ userId: "U123" });
  });

  it("rejects an expired token", async () => {
    await expectUnauthenticated(await sign({ iat: now() - 7200, exp: now() - 3600 }), "token expired");
  });

  it("honours the clock tolerance", async () => {
    const token = await sign({ exp: now() - 10 });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "U123" }); // default 30 s
    const strict = createTokenVerifier({ keys, issuer: ISSUER, clockToleranceSec: 0 });
    await expectUnauthenticated(token, "token expired", strict);
  });

  it("rejects a token without exp", async () => {
    await expectUnauthenticated(await sign({ exp: undefined }), "token expiry missing");
  });

  it("rejects a token whose exp is not a number", async () => {
    await expectUnauthenticated(await sign({ exp: "tomorrow" as unknown as number }), "token expiry invalid");
  });

  it("rejects a token not valid yet", async () => {
    await expectUnauthenticated(await sign({ nbf: now() + 3600 }), "token not yet valid");
  });

  it("rejects a token whose nbf is not a number", async () => {
    await expectUnauthenticated(await sign({ nbf: "soon" as unknown as number }), "token not-before invalid");
  });

  it("rejects a forged token signed by another key under the same kid", async () => {
    await expectUnauthenticated(await sign({}, { signer: other }), "token signature invalid");
  });

  it("rejects a token signed by an unknown kid", async () => {
    await expectUnauthenticated(
      await sign({}, { signer: { ...other, kid: "nope" } }),
      "token signing key unknown",
    );
  });

  it("rejects a tampered payload", async () => {
    const token = await sign({ role: "member" });
    const [h, , s] = token.split(".");
    const forged = base64url.encode(
      JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: "U123", exp: now() + 300, role: "admin" }),
    );
    await expectUnauthenticated(`${h}.${forged}.${s}`, "token signature invalid");
  });

  it("rejects the wrong audience", async () => {
    await expectUnauthenticated(await sign({ aud: "other-app" }), "token audience mismatch");
  });

  it("rejects a missing audience when one is configured", async () => {
    await expectUnauthenticated(await sign({ aud: undefined }), /token audience (missing|mismatch)/);
  });

  it("rejects the wrong issuer", async () => {
    await expectUnauthenticated(await sign({ iss: "https://evil.test" }), "token issuer mismatch");
    await expectUnauthenticated(await sign({ iss: `${ISSUER}/` }), "token issuer mismatch");
  });

  it("rejects a missing issuer", async () => {
    await expectUnauthenticated(await sign({ iss: undefined }), /token issuer (missing|mismatch)/);
  });

  it("rejects a missing or empty sub", async () => {
    await expectUnauthenticated(await sign({ sub: undefined }), "token subject missing");
    await expectUnauthenticated(await sign({ sub: "" }), "token subject missing");
  });

  it("rejects a sub longer than 128 characters", async () => {
    await expect(verifier.verify(await sign({ sub: "x".repeat(128) }))).resolves.toMatchObject({
      userId: "x".repeat(128),
    });
    await expectUnauthenticated(await sign({ sub: "x".repeat(129) }), "token subject too long");
  });

  it("rejects a sub outside the user id alphabet (a NUL gave HTTP 500), and takes the subjects issuers make", async () => {
    const refused = "token subject has characters a user id cannot have";
    for (const sub of [
      "a\u0000b",
      "\u0000",
      "a,b",
      "a b",
      "tab\t",
      "new\nline",
      "é",
      "👍",
      "a/b",
      "a%00",
      "<x>",
    ]) {
      await expectUnauthenticated(await sign({ sub }), refused);
    }
    // Keycloak's UUIDs, Auth0's provider|id, e-mail-like and dotted subjects, dev ids.
    for (const sub of [
      "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
      "auth0|5f7c8ec7",
      "ana@corp.example",
      "a.b:c_d",
      "U0123",
    ]) {
      await expect(verifier.verify(await sign({ sub }))).resolves.toMatchObject({ userId: sub });
    }
  });

  it("rejects alg none, with or without a signature part", async () => {
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
    const payload = base64url.encode(
      JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: "U123", exp: now() + 300, role: "admin" }),
    );
    await expectUnauthenticated(`${header}.${payload}.`, "token algorithm not allowed");
    await expectUnauthenticated(`${header}.${payload}.c2ln`, "token algorithm not allowed");
    const noneUpper = base64url.encode(JSON.stringify({ alg: "None" }));
    await expectUnauthenticated(`${noneUpper}.${payload}.`, "token algorithm not allowed");
  });

  it("never accepts none even when asked to", () => {
    expect(() => createTokenVerifier({ keys, issuer: ISSUER, algorithms: ["none"] })).toThrow(TypeError);
  });

  it("rejects an HMAC token (no algorithm confusion with the public key)", async () => {
    const secret = new TextEncoder().encode("public-key-bytes-or-anything-else!");
    const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "U123", exp: now() + 300 })
      .setProtectedHeader({ alg: "HS256", kid: "good-key" })
      .sign(secret);
    await expectUnauthenticated(token, "token algorithm not allowed");
  });

  it.each([
    ["empty", ""],
    ["one word", "garbage"],
    ["two parts", "abc.def"],
    ["four parts", "a.b.c.d"],
    ["spaces", "a b.c d.e f"],
    ["non-base64url", "ab$.cd!.ef"],
    ["base64 of non-JSON", `${base64url.encode("hello")}.${base64url.encode("world")}.abc`],
    ["JSON array header", `${base64url.encode("[1]")}.${base64url.encode("{}")}.abc`],
    ["header without alg", `${base64url.encode("{}")}.${base64url.encode("{}")}.abc`],
    ["unicode", "ключ.ключ.ключ"],
    ["huge", `${"a".repeat(20000)}.b.c`],
  ])("rejects garbage: %s", async (_name, token) => {
    const err = await rejection(verifier.verify(token));
    expect(err.code).toBe("unauthenticated");
    expect(err.message).toMatch(/^token (malformed|missing|too long|algorithm not allowed)$/);
  });

  it("rejects a JWT whose payload is not an object", async () => {
    const token = await sign({});
    const [h, , s] = token.split(".");
    await expectUnauthenticated(`${h}.${base64url.encode("[]")}.${s}`, /token (signature invalid|malformed)/);
  });

  it("rejects non-string input without throwing anything but ColinkError", async () => {
    for (const bad of [undefined, null, 42, {}, ["a.b.c"]]) {
      const err = await rejection(verifier.verify(bad as unknown as string));
      expect(err.code).toBe("unauthenticated");
    }
  });

  it("reports a failing key source as unavailable, not as a bad token", async () => {
    const broken: JWTVerifyGetKey = async () => {
      throw new TypeError("fetch failed");
    };
    const v = createTokenVerifier({ keys: broken, issuer: ISSUER });
    const err = await rejection(v.verify(await sign({})));
    expect(err.code).toBe("unavailable");
    expect(err.retryable).toBe(true);
    expect(err.message).toBe("token keys unavailable");
  });
});

describe("role mapping", () => {
  it("reads a string role claim", async () => {
    expect((await verifier.verify(await sign({ role: "admin" }))).role).toBe("admin");
    expect((await verifier.verify(await sign({ role: "guest" }))).role).toBe("guest");
    expect((await verifier.verify(await sign({ role: "Moderator" }))).role).toBe("moderator");
  });

  it("takes the highest role of an array claim", async () => {
    expect((await verifier.verify(await sign({ role: ["member", "admin", "guest"] }))).role).toBe("admin");
    expect((await verifier.verify(await sign({ role: ["guest", "moderator"] }))).role).toBe("moderator");
    expect((await verifier.verify(await sign({ role: ["guest", 7, null] }))).role).toBe("guest");
  });

  it("reads Keycloak realm_access.roles when the role claim is absent", async () => {
    const token = await sign({
      realm_access: { roles: ["offline_access", "uma_authorization", "default-roles-colink", "moderator"] },
    });
    expect((await verifier.verify(token)).role).toBe("moderator");
  });

  it("prefers the role claim over realm_access", async () => {
    const token = await sign({ role: "guest", realm_access: { roles: ["admin"] } });
    expect((await verifier.verify(token)).role).toBe("guest");
  });

  it("maps unknown or missing roles to member", async () => {
    expect((await verifier.verify(await sign({ role: "superuser" }))).role).toBe("member");
    expect((await verifier.verify(await sign({ role: [] }))).role).toBe("member");
    expect((await verifier.verify(await sign({}))).role).toBe("member");
    expect((await verifier.verify(await sign({ realm_access: { roles: ["offline_access"] } }))).role).toBe(
      "member",
    );
    expect((await verifier.verify(await sign({ role: { admin: true } }))).role).toBe("member");
  });

  it("follows a dotted roleClaim path", async () => {
    const v = createTokenVerifier({ keys, issuer: ISSUER, roleClaim: "resource_access.colink.roles" });
    const token = await sign({ resource_access: { colink: { roles: ["admin"] } }, role: "guest" });
    expect((await v.verify(token)).role).toBe("admin");
    // absent path: the Keycloak realm roles still count
    expect((await v.verify(await sign({ realm_access: { roles: ["guest"] } }))).role).toBe("guest");
  });

  it("finds a namespaced claim whose name contains dots", async () => {
    const v = createTokenVerifier({ keys, issuer: ISSUER, roleClaim: "https://colink.example/roles" });
    expect((await v.verify(await sign({ "https://colink.example/roles": ["moderator"] }))).role).toBe(
      "moderator",
    );
  });

  it("siteRoleOf does not walk into prototypes", () => {
    expect(siteRoleOf({}, "constructor.name")).toBe("member");
    expect(siteRoleOf({ a: "admin" }, "a.length")).toBe("member");
    expect(siteRoleOf({ a: ["admin"] }, "a.0")).toBe("member");
  });
});

describe("verified token cache", () => {
  it("verifies a token once and shares its principal, and checks expiry again", async () => {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    let lookups = 0;
    const verifier = createTokenVerifier({
      issuer: "iss",
      audience: "aud",
      keys: async () => {
        lookups++;
        return publicKey;
      },
    });
    const now = Math.floor(Date.now() / 1000);
    const sign = (exp: number) =>
      new SignJWT({ preferred_username: "cached" })
        .setProtectedHeader({ alg: "EdDSA" })
        .setIssuer("iss")
        .setAudience("aud")
        .setSubject("Ucached")
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(privateKey);
    const token = await sign(now + 600);
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(second).toBe(first);
    expect(lookups).toBe(1);
    // A token that is past its expiry is refused, not served from the cache.
    const shortLived = await sign(now - 60);
    await expect(verifier.verify(shortLived)).rejects.toMatchObject({ code: "unauthenticated" });
  });
});
