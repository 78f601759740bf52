/**
 * End to end, what the web client stands on besides the WebSocket: the server serving
 * the built app (transport/static-site.ts: caching, ETags, gzip, the app's routes, the
 * security headers, no build), and the dev session (transport/auth-routes.ts: sign-in
 * with a role, the HttpOnly refresh cookie, refresh, sign-out, `/auth/config`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "./harness.js";
import { serverForBlock } from "./support/server-fixture.js";

/** A stand-in build: an index.html, a hashed script large enough to be gzip'd, and a root file. */
function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), "colink-web-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(
    join(dir, "index.html"),
    '<!doctype html><script type="module" src="/assets/app-abc123.js"></script>',
  );
  writeFileSync(join(dir, "assets", "app-abc123.js"), `console.log(${JSON.stringify("x".repeat(5000))});`);
  writeFileSync(join(dir, "robots.txt"), "User-agent: *\n");
  return dir;
}

describe("serving the web client", () => {
  const web = fakeBuild();
  const fixture = serverForBlock("pglite", { COLINK_WEB_DIR: web });
  afterAll(() => rmSync(web, { recursive: true, force: true }));

  it("answers index.html at / and at the app's own paths, revalidated, with a strict CSP", async () => {
    for (const path of ["/", "/c/C123", "/c/C123/t/M456", "/signin"]) {
      const res = await fetch(`${fixture.server.baseUrl}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(await res.text()).toContain("/assets/app-abc123.js");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("caches hashed assets forever, gzips them for clients that accept it, and answers 304 to a known ETag", async () => {
    const url = `${fixture.server.baseUrl}/assets/app-abc123.js`;
    const res = await fetch(url, { headers: { "accept-encoding": "identity" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const plain = await res.text();
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^".+"$/);

    // Node's fetch would decompress silently: ask for the raw bytes over http.
    const { request } = await import("node:http");
    const gz = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      request(url, { headers: { "accept-encoding": "gzip" } }, (r) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => resolve({ encoding: r.headers["content-encoding"], body: Buffer.concat(chunks) }));
      })
        .on("error", reject)
        .end();
    });
    expect(gz.encoding).toBe("gzip");
    expect(gunzipSync(gz.body).toString()).toBe(plain);

    const again = await fetch(url, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
  });

  it("leaves missing assets and the server's own paths to the API: JSON 404s, /health", async () => {
    const base = fixture.server.baseUrl;
    for (const path of ["/assets/missing-123.js", "/v1/nope", "/auth/nope"]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    }
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: "ok" });
    const robots = await fetch(`${base}/robots.txt`);
    expect(robots.headers.get("cache-control")).toBe("no-cache");
    expect(await robots.text()).toBe("User-agent: *\n");
  });
});

describe("without a web client build", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("pglite", { COLINK_WEB_DIR: join(tmpdir(), "colink-no-such-build") });
  });
  afterAll(() => server?.cleanup());

  it("answers / with a 404 that says how to build it, and serves the API as before", async () => {
    const res = await fetch(`${server.baseUrl}/`);
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toContain("npm run build");
    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
  });
});

/** The `name=value` of a Set-Cookie header, and its attributes. */
function cookieOf(res: Response): { pair: string; attributes: string[] } {
  const header = res.headers.get("set-cookie") ?? "";
  const [pair = "", ...attributes] = header.split(";").map((s) => s.trim());
  return { pair, attributes };
}

describe("the dev session", () => {
  const fixture = serverForBlock("pglite");
  const signIn = (body: unknown) =>
    fetch(`${fixture.server.baseUrl}/auth/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const refresh = (cookie?: string) =>
    fetch(`${fixture.server.baseUrl}/auth/dev/refresh`, {
      method: "POST",
      headers: cookie ? { cookie } : {},
    });
  const me = async (token: string) =>
    (
      await fetch(`${fixture.server.baseUrl}/v1/users/me`, { headers: { authorization: `Bearer ${token}` } })
    ).json() as Promise<{ user?: { username: string; role: string }; error?: { code: string } }>;

  it("tells the web client which sign-in to offer", async () => {
    const res = await fetch(`${fixture.server.baseUrl}/auth/config`);
    expect(await res.json()).toEqual({ devAuth: true, oidc: null });
  });

  it("signs in with a role, sets an HttpOnly SameSite=Strict cookie, and refreshes from it", async () => {
    const before = Date.now();
    const res = await signIn({ username: "Session-Mod", role: "moderator" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accessToken: string; expiresAt: number; user: { role: string } };
    expect(body.user).toMatchObject({ username: "session-mod", role: "moderator" });
    expect(body.expiresAt).toBeGreaterThanOrEqual(before + 24 * 3600 * 1000 - 1000);
    const cookie = cookieOf(res);
    expect(cookie.pair).toMatch(/^colink_dev_session=.+/);
    expect(cookie.attributes).toEqual(
      expect.arrayContaining([
        "Path=/auth/dev",
        "HttpOnly",
        "SameSite=Strict",
        expect.stringMatching(/^Max-Age=\d+$/),
      ]),
    );
    expect((await me(body.accessToken)).user).toMatchObject({ username: "session-mod", role: "moderator" });

    const again = await refresh(cookie.pair);
    expect(again.status).toBe(200);
    const renewed = (await again.json()) as { accessToken: string; user: { username: string } };
    expect(renewed.user.username).toBe("session-mod");
    expect((await me(renewed.accessToken)).user).toMatchObject({ role: "moderator" });
    // The session token is for refreshing only: it is not an access token.
    const sessionToken = cookie.pair.slice("colink_dev_session=".length);
    expect((await me(sessionToken)).error?.code).toBe("unauthenticated");
  });

  it("refuses a refresh without a cookie or with a bad one, and a role that does not exist", async () => {
    for (const cookie of [undefined, "colink_dev_session=", "colink_dev_session=not.a.jwt", "other=1"]) {
      const res = await refresh(cookie);
      expect(res.status, String(cookie)).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "unauthenticated" } });
    }
    for (const role of ["king", 3, ["admin"]]) {
      const res = await signIn({ username: "x", role });
      expect(res.status, JSON.stringify(role)).toBe(400);
    }
  });

  it("signs out by clearing the cookie", async () => {
    const res = await fetch(`${fixture.server.baseUrl}/auth/dev/logout`, { method: "POST" });
    expect(res.status).toBe(200);
    const cookie = cookieOf(res);
    expect(cookie.pair).toBe("colink_dev_session=");
    expect(cookie.attributes).toContain("Max-Age=0");
  });
});
