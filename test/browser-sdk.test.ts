/**
 * The SDK in a real browser: `client/index.ts` bundled by esbuild for the browser (no Node
 * globals may survive in it), loaded by a page that a small HTTP server of this test serves
 * on one port while Colink listens on another (so every call is cross-origin and goes
 * through `COLINK_CORS_ORIGINS`: preflights, the dev token, `/v1`, the `/ws` Origin check).
 * Debian's chromium, driven by playwright-core, runs the page: it signs in, creates a
 * channel, subscribes and sends; then the server is killed (SIGKILL) and restarted on the
 * same port and data, another user sends from Node while the page is held offline, and once
 * it is back the page's subscription handler must have seen every channel event exactly
 * once, in log order (invariant 5): the missed ones from the replay of its resubscription.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import { connectAs, startServer, type TestServer } from "./harness.js";
import { launchChromium } from "./support/browser.js";

const sdkEntry = fileURLToPath(new URL("../client/index.ts", import.meta.url));

/** Messages the page sends before the crash, and the other user after the restart. */
const before = 5;
const after = 5;

/**
 * The page's own code (plain JavaScript, run by the browser as is). It keeps every event
 * its handler receives, as `[type, seq, text]`, and counts the connections opened.
 */
const pageScript = `
import { ColinkClient } from "/sdk.js";

const seen = [];
let opens = 0;
let client = null;

window.colinkPage = {
  async start(api, wsUrl, count) {
    // A JSON POST: the browser sends a preflight first.
    const login = await fetch(api + "/auth/dev/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "browser-alice" }),
    });
    if (!login.ok) throw new Error("dev token: " + login.status);
    const { accessToken } = await login.json();
    const me = await fetch(api + "/v1/users/me", { headers: { authorization: "Bearer " + accessToken } });
    if (!me.ok) throw new Error("users/me: " + me.status);
    const { user } = await me.json();

    client = new ColinkClient({ url: wsUrl, token: accessToken, reconnect: { minDelayMs: 100, maxDelayMs: 500 } });
    client.on("open", () => { opens++; });
    await client.connect();
    const { channel } = await client.request("ch.create", { name: "browser", kind: "public" });
    const { lastSeq } = await client.subscribe(channel.id, (type, data) => {
      seen.push([type, data.seq, data.message ? data.message.text : null]);
    });
    for (let i = 1; i <= count; i++) await client.send(channel.id, "page " + i);
    return { channelId: channel.id, subscribedAt: lastSeq, userId: user.id };
  },
  state() {
    return { seen, opens, connection: client ? client.state : "none" };
  },
  async stop() {
    if (client) await client.close();
  },
};
document.title = "ready";
`;

/** Serves the page, its script and the SDK bundle; `origin` is what the browser sends as Origin. */
async function servePage(bundle: string): Promise<{ server: Server; origin: string }> {
  const files: Record<string, [string, string]> = {
    "/": [
      "text/html",
      '<!doctype html><title>loading</title><link rel="icon" href="data:,"><script type="module" src="/page.js"></script>',
    ],
    "/page.js": ["text/javascript", pageScript],
    "/sdk.js": ["text/javascript", bundle],
  };
  const server = createServer((req, res) => {
    const file = files[req.url ?? ""];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file[0] }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The page's record of events so far. */
function pageState(page: Page): Promise<{ seen: [string, number, string | null][]; opens: number }> {
  return page.evaluate("window.colinkPage.state()");
}

describe("the SDK in a browser (chromium)", () => {
  let pageServer: Server | null = null;
  let colink: TestServer | null = null;
  let browser: Browser | null = null;
  let bob: ColinkClient | null = null;
  let bundle = "";
  let origin = "";

  beforeAll(async () => {
    const out = await build({
      entryPoints: [sdkEntry],
      bundle: true,
      platform: "browser",
      format: "esm",
      target: "es2022",
      // As an application would ship it; minified, its text also has no comments left to
      // mention Node's globals.
      minify: true,
      write: false,
      logLevel: "silent",
    });
    bundle = out.outputFiles[0]!.text;
    ({ server: pageServer, origin } = await servePage(bundle));
    colink = await startServer("pglite", { COLINK_CORS_ORIGINS: origin });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await bob?.close();
    await browser?.close();
    await colink?.cleanup();
    await new Promise((resolve) => (pageServer ? pageServer.close(resolve) : resolve(undefined)));
  });

  it("bundles without Node built-ins", () => {
    expect(bundle).not.toMatch(/\bnode:/);
    expect(bundle).not.toMatch(/(?<![\w.])(Buffer|process)\./);
  });

  it("subscribes, sends, and resumes across a server kill without loss or duplicates", async () => {
    const server = colink!;
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      // Chromium logs each failed connection attempt while the server is down or the page offline.
      if (msg.type() === "error" && !/^WebSocket connection to .* failed/.test(msg.text())) {
        problems.push(`console: ${msg.text()}`);
      }
    });
    await page.goto(`${origin}/`);
    await page.waitForFunction("document.title === 'ready'");

    const started = (await page.evaluate(
      `window.colinkPage.start(${JSON.stringify(server.baseUrl)}, ${JSON.stringify(server.wsUrl)}, ${before})`,
    )) as { channelId: string; subscribedAt: number; userId: string };
    // GET /v1/users/me with a bearer token: a preflighted cross-origin call.
    expect(started.userId).toMatch(/^\w+$/);
    const createdCount = (s: Awaited<ReturnType<typeof pageState>>) =>
      s.seen.filter(([type]) => type === "message.created").length;
    await page.waitForFunction(
      `window.colinkPage.state().seen.filter(([t]) => t === "message.created").length >= ${before}`,
    );

    // A crash, not a drain: the page's socket just drops. The page stays offline until
    // the other user has sent, so that what it missed can only come from the replay of its
    // resubscription (sinceSeq), not from live events.
    await page.context().setOffline(true);
    await server.stop("SIGKILL");
    await server.restart();

    const other = await connectAs(server, "browser-bob");
    bob = other.client;
    await bob.request("ch.join", { channelId: started.channelId });
    for (let i = 1; i <= after; i++) await bob.send(started.channelId, `node ${i}`);
    expect(createdCount(await pageState(page))).toBe(before);
    await page.context().setOffline(false);

    await page.waitForFunction(
      `window.colinkPage.state().seen.filter(([t]) => t === "message.created").length >= ${before + after}`,
      undefined,
      { timeout: 30_000 },
    );
    // Anything late (a duplicate, say) would arrive now.
    await new Promise((r) => setTimeout(r, 300));
    const state = await pageState(page);

    expect(problems).toEqual([]);
    expect(state.opens).toBeGreaterThanOrEqual(2);
    expect(createdCount(state)).toBe(before + after);
    const seqs = state.seen.map(([, seq]) => seq);
    expect(seqs[0]).toBe(started.subscribedAt + 1);
    // Gap-free and once each: every seq is the one after the previous.
    expect(seqs).toEqual(seqs.map((_, i) => started.subscribedAt + 1 + i));
    const texts = state.seen.filter(([type]) => type === "message.created").map(([, , text]) => text);
    expect(texts).toEqual([
      ...Array.from({ length: before }, (_, i) => `page ${i + 1}`),
      ...Array.from({ length: after }, (_, i) => `node ${i + 1}`),
    ]);
    expect(state.seen.map(([type]) => type)).toContain("member.joined");

    await page.evaluate("window.colinkPage.stop()");
    await page.close();
  }, 90_000);
});
