/**
 * End to end, `COLINK_CORS_ORIGINS` (transport/cors.ts): preflights and actual requests
 * on `/v1` and `/auth` from a listed origin, another origin and none; the `/ws` upgrade
 * with a listed, an unlisted and no `Origin`; and a server without the variable, which
 * sends no CORS header and checks no `Origin`.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { devToken, startServer, type TestServer } from "./harness.js";

const page = "http://127.0.0.1:5173";
const other = "https://evil.example";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would add or refuse some, as a browser does). */
function send(
  server: TestServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(`${server.baseUrl}${path}`, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A preflight as a browser sends it before a JSON POST with a bearer token. */
function preflight(server: TestServer, path: string, origin: string | null): Promise<Answer> {
  return send(server, "OPTIONS", path, {
    ...(origin === null ? {} : { origin }),
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization,content-type",
  });
}

/** How a `/ws` upgrade with this `Origin` (or none) ends: opened, or refused with a status and body. */
function upgrade(server: TestServer, token: string, origin: string | null): Promise<Answer | "open"> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.wsUrl}?access_token=${token}`, origin === null ? {} : { origin });
    ws.on("open", () => {
      ws.close();
      resolve("open");
    });
    ws.on("unexpected-response", (_req, res) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    ws.on("error", (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe("COLINK_CORS_ORIGINS set", () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startServer("pglite", { COLINK_CORS_ORIGINS: `https://chat.example.com, ${page}` });
    token = (await devToken(server, "cors-alice")).token;
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it("answers a preflight from a listed origin with its permissions, on /v1 and /auth", async () => {
    for (const path of ["/v1/channels", "/v1/channels/C1/messages", "/auth/dev/token"]) {
      const res = await preflight(server, path, page);
      expect(res.status, path).toBe(204);
      expect(res.body).toBe("");
      expect(res.headers["access-control-allow-origin"]).toBe(page);
      expect(res.headers["access-control-allow-methods"]).toBe("GET, POST, PUT, PATCH, DELETE");
      expect(res.headers["access-control-allow-headers"]).toBe(
        "authorization, content-type, idempotency-key",
      );
      expect(Number(res.headers["access-control-max-age"])).toBeGreaterThan(0);
      expect(res.headers.vary).toBe("Origin");
    }
  });

  it("answers a preflight from another origin, or none, 204 without permissions", async () => {
    for (const origin of [other, "null", null]) {
      const res = await preflight(server, "/v1/channels", origin);
      expect(res.status, String(origin)).toBe(204);
      expect(res.headers["access-control-allow-origin"]).toBeUndefined();
      expect(res.headers["access-control-allow-methods"]).toBeUndefined();
      expect(res.headers.vary).toBe("Origin");
    }
  });

  it("puts the listed origin on every answer under /v1 and /auth, errors included", async () => {
    const json = { "content-type": "application/json" };
    const login = await send(
      server,
      "POST",
      "/auth/dev/token",
      { origin: page, ...json },
      '{"username":"cors-bob"}',
    );
    expect(login.status).toBe(200);
    expect(login.headers["access-control-allow-origin"]).toBe(page);
    expect(login.headers.vary).toBe("Origin");

    const bearer = { authorization: `Bearer ${token}` };
    const created = await send(
      server,
      "POST",
      "/v1/channels",
      { origin: page, ...bearer, ...json },
      '{"name":"cors","kind":"public"}',
    );
    expect(created.status).toBe(201);
    expect(created.headers["access-control-allow-origin"]).toBe(page);

    const jwks = await send(server, "GET", "/auth/dev/jwks", { origin: "https://chat.example.com" });
    expect(jwks.headers["access-control-allow-origin"]).toBe("https://chat.example.com");

    // The page must be able to read the coded error, not only the status.
    for (const [method, path, headers] of [
      ["GET", "/v1/users/me", {}],
      ["GET", "/v1/no-such-route", bearer],
      ["POST", "/auth/dev/token", json],
    ] as const) {
      const res = await send(
        server,
        method,
        path,
        { origin: page, ...headers },
        method === "POST" ? "{" : undefined,
      );
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.headers["access-control-allow-origin"], path).toBe(page);
      expect(JSON.parse(res.body).error.code).toBeTypeOf("string");
    }
  });

  it("serves another origin, or none, without CORS headers, and keeps them off other routes", async () => {
    for (const origin of [other, null]) {
      const res = await send(server, "GET", "/v1/users/me", {
        authorization: `Bearer ${token}`,
        ...(origin === null ? {} : { origin }),
      });
      expect(res.status).toBe(200);
      expect(res.headers["access-control-allow-origin"]).toBeUndefined();
      expect(res.headers.vary).toBe("Origin");
    }
    const health = await send(server, "GET", "/health", { origin: page });
    expect(health.status).toBe(200);
    expect(health.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("lets a listed origin and a client without Origin upgrade, and refuses another with 403", async () => {
    expect(await upgrade(server, token, page)).toBe("open");
    expect(await upgrade(server, token, null)).toBe("open");
    for (const origin of [other, "null", "http://127.0.0.1:5174"]) {
      const refused = await upgrade(server, token, origin);
      expect(refused, origin).not.toBe("open");
      if (refused === "open") continue;
      expect(refused.status).toBe(403);
      expect(refused.headers["content-type"]).toBe("application/json");
      const { error } = JSON.parse(refused.body);
      expect(error).toMatchObject({ code: "forbidden", retryable: false });
      expect(error.message).toContain(origin);
    }
    // Refused before the token is even looked at.
    const noToken = await upgrade(server, "not-a-token", other);
    expect(noToken !== "open" && noToken.status).toBe(403);
  });
});

describe("COLINK_CORS_ORIGINS unset", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer("pglite", { COLINK_CORS_ORIGINS: "" });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it("sends no CORS header, answers no preflight and checks no Origin", async () => {
    const { token } = await devToken(server, "nocors");
    const res = await send(server, "GET", "/v1/users/me", { origin: page, authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    expect(res.headers.vary).toBeUndefined();
    const pre = await preflight(server, "/v1/channels", page);
    expect(pre.status).toBe(404);
    expect(pre.headers["access-control-allow-origin"]).toBeUndefined();
    expect(await upgrade(server, token, other)).toBe("open");
  });
});
