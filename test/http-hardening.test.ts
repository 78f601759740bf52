/**
 * HTTP hardening end to end: the security headers on the answers of every route family
 * (the API, the sign-in routes, the web client, the blob URLs, a refused upgrade), HSTS
 * when it is asked for, and bodies over the limit refused with 413 on every family, before
 * they are read.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devToken, startServer, type TestServer } from "./harness.js";
import { type RawAnswer, rawHttp, upgradeAnswer } from "./support/raw-http.js";

/** A stand-in web build: an index.html and a hashed script. */
function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), "colink-web-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(
    join(dir, "index.html"),
    '<!doctype html><script type="module" src="/assets/app-1.js"></script>',
  );
  writeFileSync(join(dir, "assets", "app-1.js"), "console.log(1);");
  return dir;
}

const page = "https://chat.example.com";
const web = fakeBuild();
afterAll(() => rmSync(web, { recursive: true, force: true }));

/** The headers every answer carries, and its CSP's frame denial. */
function expectHardened(what: string, answer: RawAnswer, hsts: boolean): void {
  const h = answer.headers;
  expect(h["x-content-type-options"], what).toBe("nosniff");
  expect(h["referrer-policy"], what).toBe("no-referrer");
  expect(h["x-frame-options"], what).toBe("DENY");
  expect(String(h["content-security-policy"]), what).toContain("frame-ancestors 'none'");
  if (hsts) expect(h["strict-transport-security"], what).toBe("max-age=31536000");
  else expect(h["strict-transport-security"], what).toBeUndefined();
}

/** Uploads a few bytes to the local disk; the upload's and the download's answers, and the upload URL. */
async function fileAnswers(server: TestServer, token: string) {
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const made = await rawHttp(`${server.baseUrl}/v1/channels`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: `files-${Date.now()}`, kind: "public" }),
  });
  const channelId = (JSON.parse(made.body) as { channel: { id: string } }).channel.id;
  const begun = await rawHttp(`${server.baseUrl}/v1/files`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ channelId, name: "a.txt", size: 5, contentType: "text/plain" }),
  });
  expect(begun.status, begun.body).toBe(201);
  const { fileId, uploadUrl } = JSON.parse(begun.body) as { fileId: string; uploadUrl: string };
  const upload = await rawHttp(new URL(uploadUrl, server.baseUrl).toString(), {
    method: "PUT",
    headers: { "content-type": "text/plain" },
    body: "hello",
  });
  expect(upload.status, upload.body).toBe(204);
  await rawHttp(`${server.baseUrl}/v1/files/${fileId}/complete`, { method: "POST", headers: auth });
  const got = await rawHttp(`${server.baseUrl}/v1/files/${fileId}`, { headers: auth });
  const { url } = JSON.parse(got.body) as { url: string };
  const download = await rawHttp(new URL(url, server.baseUrl).toString());
  expect(download.body).toBe("hello");
  return {
    upload,
    download,
    downloadUrl: new URL(url, server.baseUrl).toString(),
    uploadUrl,
    auth,
    channelId,
  };
}

describe.each<{ hsts: boolean; env: Record<string, string> }>([
  { hsts: false, env: {} },
  { hsts: true, env: { COLINK_HSTS: "on" } },
])("security headers (HSTS $hsts)", ({ hsts, env }) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("pglite", { COLINK_WEB_DIR: web, COLINK_CORS_ORIGINS: page, ...env });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it("are on the API's answers, errors included, and on the sign-in routes", async () => {
    const { token } = await devToken(server, "headers");
    const base = server.baseUrl;
    const answers: Array<[string, RawAnswer]> = [
      ["GET /health", await rawHttp(`${base}/health`)],
      ["GET /openapi.json", await rawHttp(`${base}/openapi.json`)],
      [
        "GET /v1/users/me",
        await rawHttp(`${base}/v1/users/me`, { headers: { authorization: `Bearer ${token}` } }),
      ],
      ["GET /v1/users/me without a token", await rawHttp(`${base}/v1/users/me`)],
      ["unknown route", await rawHttp(`${base}/v1/nothing-here`)],
      ["preflight", await rawHttp(`${base}/v1/channels`, { method: "OPTIONS", headers: { origin: page } })],
      ["GET /auth/config", await rawHttp(`${base}/auth/config`)],
      [
        "POST /auth/dev/token",
        await rawHttp(`${base}/auth/dev/token`, { method: "POST", body: JSON.stringify({ username: "h2" }) }),
      ],
    ];
    for (const [what, answer] of answers) expectHardened(what, answer, hsts);
    expect(answers[2]![1].headers["content-security-policy"]).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
  });

  it("are on the web client's pages and assets, with the app's own CSP", async () => {
    for (const path of ["/", "/c/C1", "/assets/app-1.js"]) {
      const answer = await rawHttp(`${server.baseUrl}${path}`);
      expect(answer.status, path).toBe(200);
      expectHardened(path, answer, hsts);
      expect(answer.headers["content-security-policy"]).toContain("script-src 'self'");
    }
  });

  it("are on the blob URLs' answers: an upload, a download, a refusal", async () => {
    const { token } = await devToken(server, "blobs");
    const { upload, download, downloadUrl } = await fileAnswers(server, token);
    expectHardened("blob PUT", upload, hsts);
    expectHardened("blob GET", download, hsts);
    expect(download.headers["content-security-policy"]).toContain("sandbox");
    const forged = await rawHttp(downloadUrl.replace(/sig=[^&]+/, "sig=AAAA"));
    expect(forged.status).toBe(403);
    expectHardened("refused blob GET", forged, hsts);
  });

  it("are on a refused upgrade", async () => {
    const { request } = await import("node:http");
    const answer = await new Promise<RawAnswer>((resolve, reject) => {
      const req = request(`${server.baseUrl}/ws`, {
        headers: {
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
          origin: "https://evil.example",
        },
      });
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "" }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(answer.status).toBe(403);
    expectHardened("refused upgrade", answer, hsts);
    expect((await upgradeAnswer(server.wsUrl)).status).toBe(101);
  });
});

describe("request bodies over the limit", () => {
  let server: TestServer;
  const limit = 4096;
  beforeAll(async () => {
    server = await startServer("pglite", { COLINK_WEB_DIR: web, COLINK_MAX_PAYLOAD_BYTES: String(limit) });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  /** A request that declares one byte more than the limit and sends a little of it. */
  const declaringTooMuch = (url: string, method: string, headers: Record<string, string> = {}) =>
    rawHttp(url, {
      method,
      headers: { ...headers, "content-length": String(limit + 1) },
      body: "x".repeat(100),
    });

  it("are refused with 413 on every route family, whether the route reads a body or not", async () => {
    const { token } = await devToken(server, "bodies");
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const base = server.baseUrl;
    const cases: Array<[string, string, string, Record<string, string>?]> = [
      ["POST", `${base}/v1/channels`, "an API route with a body", auth],
      ["GET", `${base}/v1/users/me`, "an API route without one", auth],
      ["GET", `${base}/health`, "/health"],
      ["POST", `${base}/auth/dev/token`, "a sign-in route"],
      ["GET", `${base}/`, "the web client"],
      ["GET", `${base}/assets/app-1.js`, "an asset"],
      ["POST", `${base}/no/such/route`, "an unknown route"],
    ];
    for (const [method, url, what, headers] of cases) {
      const answer = await declaringTooMuch(url, method, headers);
      expect(answer.status, what).toBe(413);
      expect(JSON.parse(answer.body), what).toMatchObject({ error: { code: "too_large" } });
    }
    // A body sent in full, larger than the limit, without a Content-Length (chunked).
    const chunked = await rawHttp(`${base}/v1/channels`, {
      method: "POST",
      headers: { ...auth, "transfer-encoding": "chunked" },
      body: JSON.stringify({ name: "x".repeat(limit), kind: "public" }),
    });
    expect(chunked.status).toBe(413);
  });

  it("are refused with 413 on the blob URLs: beyond the signed size, and on a download", async () => {
    const { token } = await devToken(server, "blob-bodies");
    const { downloadUrl, auth, channelId } = await fileAnswers(server, token);
    const begun = await rawHttp(`${server.baseUrl}/v1/files`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ channelId, name: "b.txt", size: 10, contentType: "text/plain" }),
    });
    const { uploadUrl } = JSON.parse(begun.body) as { uploadUrl: string };
    const url = new URL(uploadUrl, server.baseUrl).toString();
    const declared = await rawHttp(url, {
      method: "PUT",
      headers: { "content-type": "text/plain", "content-length": "11" },
      body: "x".repeat(11),
    });
    expect(declared.status).toBe(413);
    const streamed = await rawHttp(url, {
      method: "PUT",
      headers: { "content-type": "text/plain", "transfer-encoding": "chunked" },
      body: "x".repeat(5000),
    });
    expect(streamed.status).toBe(413);
    const download = await declaringTooMuch(downloadUrl, "GET");
    expect(download.status).toBe(413);
  });
});
