/**
 * Rate limits and connection caps, end to end on a real server: the answers over the limit
 * (WebSocket `rate_limited` with `details.retryAfterMs`, HTTP 429 with `Retry-After`), the
 * per-user budgets over WebSocket and HTTP together, the per-address budgets (behind a
 * trusted proxy too), the `auth` budget, and the caps on connections per user and per
 * address. Other client addresses are 127.0.0.x source addresses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloseCode } from "../core/errors.js";
import { devToken, startServer, type TestServer } from "./harness.js";
import { RawSocket, type Reply } from "./raw-socket.js";
import { type RawAnswer, rawHttp, upgradeAnswer } from "./support/raw-http.js";

/** The error body of a refused reply. */
function refusal(reply: Reply): { code: string; retryable: boolean; details: Record<string, unknown> } {
  expect(reply[0], JSON.stringify(reply)).toBe(2);
  return reply[2] as { code: string; retryable: boolean; details: Record<string, unknown> };
}

/** The JSON error of an HTTP answer. */
function httpError(answer: RawAnswer): {
  code: string;
  retryable: boolean;
  details: Record<string, unknown>;
} {
  return (
    JSON.parse(answer.body) as {
      error: { code: string; retryable: boolean; details: Record<string, unknown> };
    }
  ).error;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let msgCount = 0;
const nextMsgId = () => `m${msgCount++}`;

/** POSTs a message over HTTP. */
function postMessage(server: TestServer, token: string, channelId: string, text: string, headers = {}) {
  return rawHttp(`${server.baseUrl}/v1/channels/${channelId}/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ text }),
  });
}

describe("per-user rate limits", () => {
  let server: TestServer;
  const sockets: RawSocket[] = [];
  beforeAll(async () => {
    server = await startServer("pglite", {
      COLINK_RATE_SEND: "5",
      COLINK_RATE_WINDOW_SEC: "5",
      COLINK_MAX_PENDING_REQUESTS: "8",
    });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await server?.cleanup();
  });
  const open = async (token: string) => {
    const s = await RawSocket.open(server.wsUrl, { token });
    sockets.push(s);
    return s;
  };
  /** A user with a channel of their own, made over HTTP (one `send` of their budget). */
  const userWithChannel = async (name: string) => {
    const { token } = await devToken(server, name);
    const made = await rawHttp(`${server.baseUrl}/v1/channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name, kind: "public" }),
    });
    expect(made.status, made.body).toBe(201);
    return { token, channelId: (JSON.parse(made.body) as { channel: { id: string } }).channel.id };
  };

  it("refuses a WebSocket request over the user's budget with rate_limited and retryAfterMs, and holds the connection until then", async () => {
    const { token, channelId } = await userWithChannel("hasty");
    const ws = await open(token);
    for (let i = 0; i < 4; i++)
      expect((await ws.call("msg.send", { channelId, text: `m${i}`, clientMsgId: nextMsgId() }))[0]).toBe(1);
    const over = refusal(
      await ws.call("msg.send", { channelId, text: "one too many", clientMsgId: nextMsgId() }),
    );
    expect(over).toMatchObject({
      code: "rate_limited",
      retryable: true,
      details: { limit: "send", scope: "user" },
    });
    const wait = over.details.retryAfterMs as number;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(5000);
    // Held: even a read on this connection waits, told how long is left.
    const held = refusal(await ws.call("ch.get", { channelId }));
    expect(held.code).toBe("rate_limited");
    expect(held.details.retryAfterMs as number).toBeLessThanOrEqual(wait);
    // Another connection of the same user reads, but its sends share the spent budget.
    const other = await open(token);
    expect((await other.call("ch.get", { channelId }))[0]).toBe(1);
    expect(
      refusal(await other.call("msg.send", { channelId, text: "x", clientMsgId: nextMsgId() })).details,
    ).toMatchObject({
      scope: "user",
    });
    // After the wait, the first connection sends again.
    await sleep(wait + 100);
    expect((await ws.call("msg.send", { channelId, text: "later", clientMsgId: nextMsgId() }))[0]).toBe(1);
  });

  it("closes a connection that keeps sending after rate_limited (4505)", async () => {
    const { token, channelId } = await userWithChannel("pushy");
    const ws = await open(token);
    const send = (text: string) => ws.send("msg.send", { channelId, text, clientMsgId: nextMsgId() });
    for (let i = 0; i < 4; i++) expect((await ws.reply(send(`m${i}`)))[0]).toBe(1);
    const first = refusal(await ws.reply(send("over")));
    expect(first.code).toBe("rate_limited");
    // Held: COLINK_MAX_PENDING_REQUESTS (8) more are refused at once with the time left, the
    // 9th closes the connection.
    const ignored = Array.from({ length: 9 }, () => send("ignored"));
    for (const id of ignored.slice(0, 8)) {
      const held = refusal(await ws.reply(id));
      expect(held.code).toBe("rate_limited");
      expect(held.details.retryAfterMs as number).toBeLessThanOrEqual(first.details.retryAfterMs as number);
    }
    expect((await ws.closed()).code).toBe(CloseCode.rateLimitIgnored);
  });

  it("counts WebSocket and HTTP against one budget, and answers HTTP over it with 429 and Retry-After", async () => {
    const { token, channelId } = await userWithChannel("both-ways");
    const ws = await open(token);
    for (let i = 0; i < 2; i++)
      expect((await ws.call("msg.send", { channelId, text: `ws${i}`, clientMsgId: nextMsgId() }))[0]).toBe(1);
    for (let i = 0; i < 2; i++)
      expect((await postMessage(server, token, channelId, `http${i}`)).status).toBe(201);
    const over = await postMessage(server, token, channelId, "over");
    expect(over.status).toBe(429);
    const retryAfter = Number(over.headers["retry-after"]);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(5);
    const error = httpError(over);
    expect(error).toMatchObject({
      code: "rate_limited",
      retryable: true,
      details: { limit: "send", scope: "user" },
    });
    expect(Math.ceil((error.details.retryAfterMs as number) / 1000)).toBe(retryAfter);
    expect(
      refusal(await ws.call("msg.send", { channelId, text: "ws over", clientMsgId: nextMsgId() })).code,
    ).toBe("rate_limited");
  });
});

describe("per-address rate limits", () => {
  let server: TestServer;
  const sockets: RawSocket[] = [];
  beforeAll(async () => {
    server = await startServer("pglite", {
      COLINK_RATE_SEND: "100",
      COLINK_RATE_SEND_PER_IP: "4",
      // 127.0.0.1 signs in the users of these tests: 5 of these 8.
      COLINK_RATE_AUTH_PER_IP: "8",
      // One trusted proxy: the client is the last X-Forwarded-For entry, when there is one.
      COLINK_PROXY_HOPS: "1",
    });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await server?.cleanup();
  });

  it("holds every user of one address to the address's budget, and another address to its own", async () => {
    const users = await Promise.all(["ip-a", "ip-b", "ip-c"].map((n) => devToken(server, n)));
    const made = await rawHttp(`${server.baseUrl}/v1/channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${users[0]!.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "shared-ip", kind: "public" }),
      localAddress: "127.0.0.9",
    });
    expect(made.status, made.body).toBe(201);
    const channelId = (JSON.parse(made.body) as { channel: { id: string } }).channel.id;
    const [a, b, c] = await Promise.all(
      users.map(async (u, i) => {
        const s = await RawSocket.open(server.wsUrl, {
          token: u.token,
          localAddress: i < 2 ? "127.0.0.2" : "127.0.0.3",
        });
        sockets.push(s);
        await s.call("ch.join", { channelId });
        return s;
      }),
    );
    // a and b share 127.0.0.2's budget of 4 sends (its two joins took two).
    expect((await a!.call("msg.send", { channelId, text: "a1", clientMsgId: nextMsgId() }))[0]).toBe(1);
    expect((await b!.call("msg.send", { channelId, text: "b1", clientMsgId: nextMsgId() }))[0]).toBe(1);
    expect(
      refusal(await b!.call("msg.send", { channelId, text: "b2", clientMsgId: nextMsgId() })).details,
    ).toMatchObject({
      limit: "send",
      scope: "ip",
    });
    // c, from another address, is not held back by them.
    expect((await c!.call("msg.send", { channelId, text: "c1", clientMsgId: nextMsgId() }))[0]).toBe(1);
  });

  it("behind a trusted proxy counts the address it forwarded, whatever the client wrote before it", async () => {
    const { token } = await devToken(server, "proxied");
    const create = (forwardedFor: string, name: string) =>
      rawHttp(`${server.baseUrl}/v1/channels`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "x-forwarded-for": forwardedFor,
        },
        body: JSON.stringify({ name, kind: "public" }),
      });
    for (let i = 0; i < 4; i++) expect((await create(`6.6.6.${i}, 203.0.113.9`, `px${i}`)).status).toBe(201);
    const over = await create("7.7.7.7, 203.0.113.9", "px-over");
    expect(over.status).toBe(429);
    expect(httpError(over).details).toMatchObject({ scope: "ip" });
    expect((await create("203.0.113.10", "px-other")).status).toBe(201);
  });

  it("holds an address to its auth budget on /auth and on the upgrade", async () => {
    const from = "127.0.0.4";
    const signIn = () =>
      rawHttp(`${server.baseUrl}/auth/dev/token`, {
        method: "POST",
        body: JSON.stringify({ username: "auth-ip" }),
        localAddress: from,
      });
    for (let i = 0; i < 8; i++) expect((await signIn()).status).toBe(200);
    const over = await signIn();
    expect(over.status).toBe(429);
    expect(Number(over.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(httpError(over)).toMatchObject({ code: "rate_limited", details: { limit: "auth", scope: "ip" } });
    const { token } = await devToken(server, "auth-ip");
    const upgrade = await upgradeAnswer(server.wsUrl, { token, localAddress: from });
    expect(upgrade.status).toBe(429);
    expect(httpError(upgrade).details).toMatchObject({ limit: "auth", scope: "ip" });
    expect((await upgradeAnswer(server.wsUrl, { token, localAddress: "127.0.0.5" })).status).toBe(101);
  });
});

describe("connection caps", () => {
  let server: TestServer;
  const sockets: RawSocket[] = [];
  beforeAll(async () => {
    server = await startServer("pglite", { COLINK_MAX_CONNS_PER_USER: "2", COLINK_MAX_CONNS_PER_IP: "4" });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await server?.cleanup();
  });
  const open = async (opts: Parameters<typeof RawSocket.open>[1]) => {
    const s = await RawSocket.open(server.wsUrl, opts);
    sockets.push(s);
    return s;
  };

  it("refuses a user's upgrade beyond their cap with 429, and takes one again once a connection closed", async () => {
    const { token } = await devToken(server, "many-tabs");
    const first = await open({ token, localAddress: "127.0.0.2" });
    await open({ token, localAddress: "127.0.0.3" });
    const refused = await upgradeAnswer(server.wsUrl, { token, localAddress: "127.0.0.4" });
    expect(refused.status).toBe(429);
    expect(refused.headers["retry-after"]).toBe("5");
    expect(httpError(refused)).toMatchObject({
      code: "rate_limited",
      retryable: true,
      details: { limit: "connections", scope: "user", retryAfterMs: 5000 },
    });
    await first.close();
    const deadline = Date.now() + 5000;
    let again = refused;
    while (again.status !== 101 && Date.now() < deadline) {
      await sleep(50);
      again = await upgradeAnswer(server.wsUrl, { token, localAddress: "127.0.0.4" });
    }
    expect(again.status).toBe(101);
  });

  it("closes a connection whose auth frame names a user at their cap (4504)", async () => {
    const { token } = await devToken(server, "frame-auth");
    await open({ token, localAddress: "127.0.0.5" });
    await open({ token, localAddress: "127.0.0.6" });
    const third = await open({ localAddress: "127.0.0.7" });
    const answer = refusal(await third.call("auth", { token }));
    expect(answer).toMatchObject({ code: "rate_limited", details: { limit: "connections", scope: "user" } });
    expect((await third.closed()).code).toBe(CloseCode.tooManyConnections);
  });

  it("refuses an address's upgrade beyond its cap, with or without a token", async () => {
    const from = "127.0.0.8";
    for (let i = 0; i < 4; i++)
      await open({ localAddress: from, token: (await devToken(server, `ip-cap-${i}`)).token });
    const refused = await upgradeAnswer(server.wsUrl, { localAddress: from });
    expect(refused.status).toBe(429);
    expect(httpError(refused).details).toMatchObject({ limit: "connections", scope: "ip" });
    expect((await upgradeAnswer(server.wsUrl, { localAddress: "127.0.0.10" })).status).toBe(101);
  });
});
