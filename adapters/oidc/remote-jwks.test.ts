/**
 * The OIDC key source against a real (tiny, local) HTTP server that plays the provider:
 * a discovery document and a JWKS. Keycloak itself comes in the integration tests.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ColinkError } from "../../core/errors.js";
import { createTokenVerifier } from "../../core/tokens.js";
import { discoverOidc, discoveryUrlOf, openOidcKeys } from "./remote-jwks.js";

type Route = (path: string) => { status: number; body: string; type?: string } | undefined;

let server: Server;
let base: string;
let route: Route = () => undefined;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.push(path);
    const r = route(path) ?? { status: 404, body: "not found" };
    res.writeHead(r.status, { "content-type": r.type ?? "application/json" });
    res.end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
afterEach(() => {
  route = () => undefined;
  hits.length = 0;
});

async function signerWithJwk(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const sign = (sub: string, issuer: string) =>
    new SignJWT({ preferred_username: sub, realm_access: { roles: ["admin"] } })
      .setProtectedHeader({ alg: "RS256", kid })
      .setIssuer(issuer)
      .setSubject(sub)
      .setAudience("colink")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
  return { jwk, sign };
}

/** Serves a provider at `${base}/realms/test`, whose JWKS is whatever `jwks()` returns. */
function serveProvider(jwks: () => { keys: JWK[] }): string {
  const issuer = `${base}/realms/test`;
  route = (path) => {
    if (path === "/realms/test/.well-known/openid-configuration") {
      return {
        status: 200,
        body: JSON.stringify({ issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` }),
      };
    }
    if (path === "/realms/test/protocol/openid-connect/certs")
      return { status: 200, body: JSON.stringify(jwks()) };
    return undefined;
  };
  return issuer;
}

describe("openOidcKeys", () => {
  it("discovers the JWKS and verifies provider tokens through core", async () => {
    const a = await signerWithJwk("a");
    const issuer = serveProvider(() => ({ keys: [a.jwk] }));
    const keys = await openOidcKeys({ issuer });
    const verifier = createTokenVerifier({ keys, issuer, audience: "colink" });
    await expect(verifier.verify(await a.sign("kc-user-1", issuer))).resolves.toEqual({
      userId: "kc-user-1",
      username: "kc-user-1",
      displayName: "kc-user-1",
      role: "admin",
    });
    expect(hits).toEqual([
      "/realms/test/.well-known/openid-configuration",
      "/realms/test/protocol/openid-connect/certs",
    ]);
    // cached: a second token needs no fetch
    await verifier.verify(await a.sign("kc-user-2", issuer));
    expect(hits).toHaveLength(2);
  });

  it("picks up a rotated key (unknown kid → refetch after the cooldown)", async () => {
    const a = await signerWithJwk("a");
    const b = await signerWithJwk("b");
    let current = [a.jwk];
    const issuer = serveProvider(() => ({ keys: current }));
    const keys = await openOidcKeys({ issuer, cooldownDuration: 0 });
    const verifier = createTokenVerifier({ keys, issuer });
    await verifier.verify(await a.sign("u", issuer));
    current = [a.jwk, b.jwk];
    await expect(verifier.verify(await b.sign("u", issuer))).resolves.toMatchObject({ userId: "u" });
  });

  it("rejects a token whose kid the provider does not publish as unauthenticated", async () => {
    const a = await signerWithJwk("a");
    const stranger = await signerWithJwk("stranger");
    const issuer = serveProvider(() => ({ keys: [a.jwk] }));
    const verifier = createTokenVerifier({ keys: await openOidcKeys({ issuer }), issuer });
    const err = await verifier.verify(await stranger.sign("u", issuer)).catch((e) => e);
    expect(err).toBeInstanceOf(ColinkError);
    expect(err.code).toBe("unauthenticated");
  });

  it("reports a JWKS endpoint that fails as unavailable", async () => {
    const a = await signerWithJwk("a");
    const issuer = serveProvider(() => ({ keys: [a.jwk] }));
    const keys = await openOidcKeys({ issuer });
    route = () => ({ status: 500, body: "boom" });
    const verifier = createTokenVerifier({ keys, issuer });
    const err = await verifier.verify(await a.sign("u", issuer)).catch((e) => e);
    expect(err).toBeInstanceOf(ColinkError);
    expect(err.code).toBe("unavailable");
  });

  it("uses an explicit jwksUri without discovery", async () => {
    const a = await signerWithJwk("a");
    const issuer = serveProvider(() => ({ keys: [a.jwk] }));
    const keys = await openOidcKeys({
      issuer: "https://public.example/realms/test",
      jwksUri: `${issuer}/protocol/openid-connect/certs`,
    });
    expect(hits).toEqual([]);
    const verifier = createTokenVerifier({ keys, issuer });
    await expect(verifier.verify(await a.sign("u", issuer))).resolves.toMatchObject({ userId: "u" });
  });
});

describe("discoverOidc", () => {
  it("builds the well-known URL with or without a trailing slash", () => {
    expect(discoveryUrlOf("https://kc/realms/x")).toBe(
      "https://kc/realms/x/.well-known/openid-configuration",
    );
    expect(discoveryUrlOf("https://kc/realms/x/")).toBe(
      "https://kc/realms/x/.well-known/openid-configuration",
    );
  });

  it("returns the document", async () => {
    const issuer = serveProvider(() => ({ keys: [] }));
    await expect(discoverOidc({ issuer })).resolves.toMatchObject({
      issuer,
      jwks_uri: `${issuer}/protocol/openid-connect/certs`,
    });
  });

  it("fails naming the issuer when the provider is unreachable", async () => {
    // a port that was just free: connection refused
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const dead = `http://127.0.0.1:${port}/realms/none`;
    await expect(openOidcKeys({ issuer: dead })).rejects.toThrow(
      `OIDC discovery for issuer ${dead} failed: cannot reach the provider: ECONNREFUSED`,
    );
  });

  it("fails naming the issuer on an HTTP error", async () => {
    const issuer = `${base}/realms/missing`;
    await expect(openOidcKeys({ issuer })).rejects.toThrow(
      `OIDC discovery for issuer ${issuer} failed: HTTP 404`,
    );
  });

  it("fails on a document that is not JSON, or has no jwks_uri", async () => {
    const issuer = `${base}/realms/odd`;
    route = () => ({ status: 200, body: "<html>", type: "text/html" });
    await expect(openOidcKeys({ issuer })).rejects.toThrow(
      /issuer .*realms\/odd failed: the response is not JSON/,
    );
    route = () => ({ status: 200, body: JSON.stringify({ issuer }) });
    await expect(openOidcKeys({ issuer })).rejects.toThrow(/no jwks_uri/);
    route = () => ({ status: 200, body: JSON.stringify({ issuer, jwks_uri: "file:///etc/passwd" }) });
    await expect(openOidcKeys({ issuer })).rejects.toThrow(/not an http\(s\) URL/);
    route = () => ({ status: 200, body: "[]" });
    await expect(openOidcKeys({ issuer })).rejects.toThrow(/not an object/);
  });

  it("fails when the document names another issuer", async () => {
    const issuer = `${base}/realms/odd`;
    route = () => ({
      status: 200,
      body: JSON.stringify({ issuer: "http://localhost:8080/realms/odd", jwks_uri: `${base}/certs` }),
    });
    await expect(openOidcKeys({ issuer })).rejects.toThrow(
      /names issuer "http:\/\/localhost:8080\/realms\/odd"/,
    );
  });

  it("times out on a provider that never answers", async () => {
    const hang = createServer(() => {});
    await new Promise<void>((resolve) => hang.listen(0, "127.0.0.1", resolve));
    try {
      const issuer = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/realms/slow`;
      await expect(discoverOidc({ issuer, timeoutMs: 200 })).rejects.toThrow(
        /realms\/slow failed: .*timed out/,
      );
    } finally {
      hang.closeAllConnections();
      await new Promise<void>((resolve) => hang.close(() => resolve()));
    }
  });
});
