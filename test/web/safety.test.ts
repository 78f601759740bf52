/**
 * Hostile message text cannot run in the web app, and the server's headers forbid it twice
 * over. alice sends HTML and script payloads and `javascript:` links; on her page and on
 * bob's (live, and again after a reload, from history) the text shows literally, no <img> or
 * <script> element appears inside a message, `window.__xss` stays undefined, and no link
 * anywhere has a `javascript:` URL. From Node, the headers of `/` and of the hashed assets
 * are what docs/web.md promises: a Content-Security-Policy with `script-src 'self'`,
 * `no-cache` for index.html, `immutable` for /assets/, and the other serving rules.
 *
 * Message text is the one input every user controls and every other user's browser renders;
 * this is the test that it is rendered as text (React elements), never parsed as HTML.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  composer,
  createChannel,
  joinChannel,
  messageLog,
  messageTexts,
  screenshotsOnFailure,
  sendMessage,
  type UserPage,
  uiTimeout,
  uniqueName,
  waitForMessage,
  webForBlock,
} from "../support/browser.js";

const payloads = [
  '<img src=x onerror="window.__xss=1">',
  "<script>window.__xss=2</script>",
  "[x](javascript:window.__xss=3)",
  "javascript:alert(1)",
  '<a href="javascript:window.__xss=4">click me</a>',
  "see [this](JaVaScRiPt:window.__xss=5) and https://example.com/ok",
];

/**
 * The payloads the page shows, in order, as their exact text (other messages, such as a
 * "joined" notice, are left out; a payload shown altered is missing).
 */
async function shownPayloads(page: Page): Promise<string[]> {
  return (await messageTexts(page)).filter((t) => payloads.includes(t));
}

/** What on `page` would show that a payload ran or became markup. */
function damage(page: Page) {
  return page.evaluate(() => {
    const w = window as unknown as { __xss?: unknown };
    const inMessages = document.querySelectorAll(
      '[data-testid="message-text"] :is(img, script, iframe, object, embed, svg, style, link, form)',
    );
    const jsLinks = Array.from(document.querySelectorAll("a[href]")).filter(
      (a) => (a as HTMLAnchorElement).protocol === "javascript:",
    );
    const nonWebLinks = Array.from(document.querySelectorAll('[data-testid="message-text"] a[href]')).filter(
      (a) => !["http:", "https:"].includes((a as HTMLAnchorElement).protocol),
    );
    return {
      xss: w.__xss === undefined ? "undefined" : String(w.__xss),
      elementsInMessages: Array.from(inMessages).map((e) => e.outerHTML),
      javascriptLinks: jsLinks.map((a) => a.outerHTML),
      nonWebLinksInMessages: nonWebLinks.map((a) => a.outerHTML),
      onerrorAttributes: document.querySelectorAll("[onerror]").length,
    };
  });
}

const noDamage = {
  xss: "undefined",
  elementsInMessages: [],
  javascriptLinks: [],
  nonWebLinksInMessages: [],
  onerrorAttributes: 0,
};

describe("hostile message text in the web app", () => {
  const web = webForBlock();
  let alice: UserPage | null = null;
  let bob: UserPage | null = null;
  const name = uniqueName("safety");

  it("shows scripts, HTML and javascript: links as literal text on both pages, and runs none", async ({
    task,
  }) => {
    screenshotsOnFailure(task.name, () => [alice, bob]);
    alice = await web.signIn(uniqueName("alice"));
    bob = await web.signIn(uniqueName("bob"));
    await createChannel(alice.page, name);
    await joinChannel(bob.page, name);

    for (const text of payloads) await sendMessage(alice.page, name, text);
    for (const text of payloads) await waitForMessage(bob.page, text);
    for (const user of [alice, bob]) {
      await expect.poll(() => shownPayloads(user.page), { timeout: uiTimeout }).toEqual(payloads);
      expect(await damage(user.page), user.username).toEqual(noDamage);
    }
    // The one web link, if it is made a link, goes where it says.
    const ok = messageLog(bob.page).getByRole("link", { name: "https://example.com/ok" });
    if ((await ok.count()) > 0) expect(await ok.getAttribute("href")).toBe("https://example.com/ok");
    // A payload in the composer is not run either.
    await composer(bob.page, name).fill("<img src=y onerror=\"window.__xss='composer'\">");
    expect(await damage(bob.page)).toEqual(noDamage);
    await composer(bob.page, name).fill("");
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });

  it("renders the same messages safely from history after a reload", async ({ task }) => {
    screenshotsOnFailure(task.name, () => [bob]);
    const b = bob!.page;
    await b.reload();
    await composer(b, name).waitFor({ timeout: uiTimeout });
    await expect.poll(() => shownPayloads(b), { timeout: uiTimeout }).toEqual(payloads);
    expect(await damage(b)).toEqual(noDamage);
    expect(bob!.problems).toEqual([]);
  });

  it("serves the app with a strict Content-Security-Policy and the documented caching", async () => {
    const base = web.server.baseUrl;
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = index.headers.get("content-security-policy") ?? "";
    const directives = new Map(
      csp
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .filter((d) => d[0])
        .map(([k, ...v]) => [k!, v]),
    );
    expect(directives.get("script-src"), csp).toEqual(["'self'"]);
    expect(directives.get("default-src"), csp).toEqual(["'none'"]);
    expect(directives.get("object-src"), csp).toEqual(["'none'"]);
    expect(directives.get("base-uri"), csp).toEqual(["'none'"]);
    expect(directives.get("frame-ancestors"), csp).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(index.headers.get("cache-control")).toMatch(/\bno-cache\b/);
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");
    expect(index.headers.get("x-frame-options")).toBe("DENY");
    expect(index.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await index.text();
    // No inline script: every <script> loads a file.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);

    const assetPath = /(?:src|href)="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(assetPath, "index.html loads a script from /assets/").toBeDefined();
    const asset = await fetch(`${base}${assetPath}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    const assetCache = asset.headers.get("cache-control") ?? "";
    expect(assetCache).toMatch(/\bimmutable\b/);
    expect(assetCache).toMatch(/\bmax-age=31536000\b/);
  });

  it("routes app paths to index.html, 404s missing assets, and answers If-None-Match with 304", async () => {
    const base = web.server.baseUrl;
    const deep = await fetch(`${base}/c/some-channel/t/some-root`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get("content-type")).toMatch(/^text\/html/);
    expect(deep.headers.get("cache-control")).toMatch(/\bno-cache\b/);
    expect(deep.headers.get("content-security-policy")).toMatch(/script-src 'self'/);

    const missing = await fetch(`${base}/assets/missing-0000.js`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toMatch(/<!doctype html/i);

    const index = await fetch(`${base}/`);
    const etag = index.headers.get("etag");
    expect(etag).toBeTruthy();
    const html = await index.text();
    const again = await fetch(`${base}/`, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);

    // The app's script (a text file of a few hundred KB) goes gzip'd to a client that takes it;
    // a file of a few hundred bytes, such as index.html, may go as it is.
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const zipped = await fetch(`${base}${script}`, { headers: { "accept-encoding": "gzip" } });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect((await zipped.text()).length).toBeGreaterThan(1000);
    const assetTag = zipped.headers.get("etag");
    expect(assetTag).toBeTruthy();
    expect((await fetch(`${base}${script}`, { headers: { "if-none-match": assetTag! } })).status).toBe(304);

    // The API's own paths are not the app's.
    const health = await fetch(`${base}/health`);
    expect(health.headers.get("content-type") ?? "").not.toMatch(/^text\/html/);
  });
});
