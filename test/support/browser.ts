/**
 * Shared helpers of the browser tests (test/web/*.test.ts and test/browser-sdk.test.ts):
 * launching Debian's chromium through playwright-core, signing a page in through the web
 * app's own sign-in screen, the app's landmarks found by role and accessible name as
 * docs/web.md lists them ("Screens and the names tests use"), an axe-core accessibility
 * check, and screenshots saved under test-artifacts/web/.
 *
 * Everything here finds elements the way a screen reader does (getByRole, getByLabel,
 * getByTestId for the few markers the contract names), so a test that passes also says the
 * app's names are right. Waiting is always by polling (locator.waitFor, expect.poll),
 * never by fixed sleeps.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Locator,
  type Page,
} from "playwright-core";
import { afterAll, beforeAll, beforeEach, expect, onTestFailed } from "vitest";
import { startServer, type TestServer } from "../harness.js";

export const chromiumPath = "/usr/bin/chromium";
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

/** Launches the machine's chromium, headless. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
/** Where the browser tests leave their screenshots (gitignored). */
export const artifactsDir = join(repoRoot, "test-artifacts", "web");
/** The screenshots the docs show, rewritten when COLINK_UPDATE_SCREENSHOTS=1. */
export const docsScreenshotsDir = join(repoRoot, "docs", "screenshots");

/** How long the UI may take to show something caused elsewhere (another page, the server). */
export const uiTimeout = 15_000;

/** A short suffix that makes names unique within a run: lowercase letters and digits. */
export function suffix(): string {
  return Math.random().toString(36).slice(2, 7);
}

/** `prefix-xxxxx`: a channel name or username that no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${suffix()}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Matches exactly `text` (after trimming), for `hasText` filters. */
export function exactText(text: string): RegExp {
  return new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`);
}

/** A signed-in (or not yet) page of one browser context, with what went wrong on it. */
export interface UserPage {
  username: string;
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors (CSP violations included) seen so far. */
  problems: string[];
}

/**
 * Console errors that are expected while the server is unreachable: chromium logs each
 * failed WebSocket attempt and each failed request.
 */
const networkNoise = [/^WebSocket connection to .* failed/, /^Failed to load resource/];

/** Records uncaught errors and console errors of `page` into `problems`. */
export function watchProblems(page: Page, problems: string[]): void {
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    if (networkNoise.some((re) => re.test(msg.text()))) return;
    problems.push(`console: ${msg.text()}`);
  });
}

/** A new browser context (a person, or one device of a person) with one page. */
export async function openPage(
  browser: Browser,
  username: string,
  options: BrowserContextOptions = {},
): Promise<UserPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  const problems: string[] = [];
  watchProblems(page, problems);
  return { username, context, page, problems };
}

/** The sign-in screen's elements. */
export function signInScreen(page: Page) {
  return {
    heading: page.getByRole("heading", { name: "Sign in to Colink" }),
    username: page.getByRole("textbox", { name: "Username" }),
    role: page.getByRole("combobox", { name: "Role" }),
    submit: page.getByRole("button", { name: "Sign in", exact: true }),
  };
}

/** Signs `user` in through the app's sign-in screen (dev sign-in) and waits for the sidebar. */
export async function signIn(
  user: UserPage,
  baseUrl: string,
  role: "member" | "guest" | "moderator" | "admin" = "member",
): Promise<void> {
  const { page } = user;
  await page.goto(`${baseUrl}/`);
  const screen = signInScreen(page);
  await screen.heading.waitFor({ timeout: uiTimeout });
  await screen.username.fill(user.username);
  await screen.role.selectOption(role);
  await screen.submit.click();
  await page.getByRole("button", { name: "Sign out" }).waitFor({ timeout: uiTimeout });
}

/** Opens a context for `username` and signs it in. */
export async function signedIn(
  browser: Browser,
  baseUrl: string,
  username: string,
  options: BrowserContextOptions = {},
): Promise<UserPage> {
  const user = await openPage(browser, username, options);
  await signIn(user, baseUrl);
  return user;
}

/** A block's server (PGlite, serving the built app) and chromium, and the pages opened on them. */
export interface WebFixture {
  /** Started by beforeAll (reading it earlier throws). */
  readonly server: TestServer;
  readonly browser: Browser;
  /** A new context for `username`, not signed in; closed by afterAll. */
  open(username: string, options?: BrowserContextOptions): Promise<UserPage>;
  /** A new context for `username`, signed in through the sign-in screen; closed by afterAll. */
  signIn(username: string, options?: BrowserContextOptions): Promise<UserPage>;
}

/**
 * alice and bob, signed in for the whole block: on a failure both pages are saved as
 * screenshots, and a dialog a failed step left open is closed before the next test.
 */
export function twoPeopleForBlock(web: WebFixture): { readonly alice: UserPage; readonly bob: UserPage } {
  let people: { alice: UserPage; bob: UserPage } | null = null;
  beforeAll(async () => {
    people = { alice: await web.signIn("alice"), bob: await web.signIn("bob") };
  });
  beforeEach(async (ctx) => {
    screenshotsOnFailure(ctx.task.name, () => (people ? [people.alice, people.bob] : []));
    for (const u of people ? [people.alice, people.bob] : []) await dismissDialogs(u.page);
  });
  const signedInPeople = () => {
    if (!people) throw new Error("alice and bob are signed in by beforeAll");
    return people;
  };
  return {
    get alice() {
      return signedInPeople().alice;
    },
    get bob() {
      return signedInPeople().bob;
    },
  };
}

/**
 * Starts a server and chromium for the enclosing `describe` block, and stops both after.
 * `env` may be a function, called when the server starts: for settings known only once an
 * earlier `beforeAll` has run (a service's port, say).
 */
export function webForBlock(env: Record<string, string> | (() => Record<string, string>) = {}): WebFixture {
  let started: { server: TestServer; browser: Browser } | null = null;
  const pages: UserPage[] = [];
  const running = () => {
    if (!started) throw new Error("the block's server and browser are started in beforeAll");
    return started;
  };
  beforeAll(async () => {
    const serverEnv = typeof env === "function" ? env() : env;
    const [server, browser] = await Promise.all([startServer("pglite", serverEnv), launchChromium()]);
    started = { server, browser };
  });
  afterAll(async () => {
    await closeAll(pages);
    await started?.browser.close();
    await started?.server.cleanup();
  });
  const track = (page: UserPage) => {
    pages.push(page);
    return page;
  };
  return {
    get server() {
      return running().server;
    },
    get browser() {
      return running().browser;
    },
    async open(username, options) {
      return track(await openPage(running().browser, username, options));
    },
    async signIn(username, options) {
      return track(await signedIn(running().browser, running().server.baseUrl, username, options));
    },
  };
}

// ---- The app's landmarks and controls (docs/web.md, "Screens and the names tests use") ----

/** The sidebar: `nav` "Conversations". */
export function sidebar(page: Page): Locator {
  return page.getByRole("navigation", { name: "Conversations" });
}

/**
 * The sidebar's link to a conversation: its accessible name is the channel's name (or, for
 * a DM, the other person's name), possibly followed by the unread and mention badges' numbers
 * and a presence dot's label, which sit inside the link.
 */
export function conversationLink(page: Page, name: string): Locator {
  return sidebar(page).getByRole("link", { name: new RegExp(`^\\s*${escapeRegExp(name)}(\\s.*)?$`) });
}

/** The badge `testId` ("unread-count" or "mention-count") in a conversation's link: its number, 0 when absent. */
export async function badge(
  page: Page,
  name: string,
  testId: "unread-count" | "mention-count",
): Promise<number> {
  const el = conversationLink(page, name).getByTestId(testId);
  if ((await el.count()) === 0) return 0;
  const text = (await el.first().textContent())?.trim() ?? "";
  return Number(text);
}

/** The open channel's `main` landmark. */
export function mainPane(page: Page): Locator {
  return page.getByRole("main");
}

/** The channel's message list: `role=log` "Messages". */
export function messageLog(page: Page): Locator {
  return page.getByRole("log", { name: "Messages" });
}

/** Every message of the open channel: `article`s in the log. */
export function messages(page: Page): Locator {
  return messageLog(page).getByRole("article");
}

/** The message (article) whose text is exactly `text`, within `scope` (the channel's log by default). */
export function messageWithText(page: Page, text: string, scope: Locator = messageLog(page)): Locator {
  return scope
    .getByRole("article")
    .filter({ has: page.getByTestId("message-text").filter({ hasText: exactText(text) }) });
}

/** The texts of the open channel's messages, in the order shown. */
export async function messageTexts(page: Page, scope: Locator = messageLog(page)): Promise<string[]> {
  return (await scope.getByRole("article").getByTestId("message-text").allTextContents()).map((t) =>
    t.trim(),
  );
}

/** `[data-message-id, text, data-pending]` of each message shown, in order. */
export function messageRows(page: Page): Promise<Array<{ id: string; text: string; pending: boolean }>> {
  return messages(page).evaluateAll((articles) =>
    articles.map((a) => ({
      id: a.getAttribute("data-message-id") ?? "",
      text: (a.querySelector('[data-testid="message-text"]')?.textContent ?? "").trim(),
      pending: a.getAttribute("data-pending") === "true",
    })),
  );
}

/** The composer of the conversation `name`: textbox "Message <name>". */
export function composer(page: Page, name: string): Locator {
  return page.getByRole("textbox", { name: `Message ${name}`, exact: true });
}

/**
 * Types `text` into the composer of `name`, presses Enter, and waits until it is shown (as
 * `shown`, the text once formatted, when it has markup).
 */
export async function sendMessage(page: Page, name: string, text: string, shown = text): Promise<void> {
  const box = composer(page, name);
  await box.fill(text);
  await box.press("Enter");
  await messageWithText(page, shown).waitFor({ timeout: uiTimeout });
}

/** Waits until the message `text` is shown in the open channel. */
export async function waitForMessage(page: Page, text: string, timeout = uiTimeout): Promise<Locator> {
  const m = messageWithText(page, text);
  await m.waitFor({ timeout });
  return m;
}

/** Closes whatever dialog or menu a failed step may have left open. */
export async function dismissDialogs(page: Page): Promise<void> {
  for (let i = 0; i < 3 && (await page.getByRole("dialog").count()) > 0; i++) {
    await page.keyboard.press("Escape");
  }
}

/** Opens the conversation `name` from the sidebar and waits for its heading and composer. */
export async function openConversation(page: Page, name: string): Promise<void> {
  await conversationLink(page, name).click({ timeout: uiTimeout });
  await mainPane(page).getByRole("heading", { name, exact: true }).waitFor({ timeout: uiTimeout });
  await composer(page, name).waitFor({ timeout: uiTimeout });
}

/** Creates a channel through the dialog "Create a channel" and opens it. */
export async function createChannel(
  page: Page,
  name: string,
  opts: { topic?: string; kind?: "Public" | "Private" } = {},
): Promise<void> {
  await sidebar(page).getByRole("button", { name: "Create channel" }).click();
  const dialog = page.getByRole("dialog", { name: "Create a channel" });
  await dialog.waitFor({ timeout: uiTimeout });
  await dialog.getByRole("textbox", { name: "Name" }).fill(name);
  if (opts.topic) await dialog.getByRole("textbox", { name: "Topic" }).fill(opts.topic);
  await dialog.getByRole("radio", { name: opts.kind ?? "Public" }).check();
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.waitFor({ state: "hidden", timeout: uiTimeout });
  await showConversation(page, name);
}

/**
 * Makes sure the conversation `name`, just created or joined, is open: the app may open it
 * by itself (on a narrow screen the sidebar is then gone), or leave it to a click in the sidebar.
 */
async function showConversation(page: Page, name: string): Promise<void> {
  const heading = mainPane(page).getByRole("heading", { name, exact: true });
  const link = conversationLink(page, name).first();
  await expect
    .poll(async () => (await heading.isVisible()) || (await link.isVisible()), { timeout: uiTimeout })
    .toBe(true);
  if (!(await heading.isVisible())) await openConversation(page, name);
  await composer(page, name).waitFor({ timeout: uiTimeout });
}

/** Joins the public channel `name` through the dialog "Browse channels" and opens it. */
export async function joinChannel(page: Page, name: string): Promise<void> {
  await sidebar(page).getByRole("button", { name: "Browse channels" }).click();
  const dialog = page.getByRole("dialog", { name: "Browse channels" });
  await dialog.waitFor({ timeout: uiTimeout });
  await dialog.getByRole("button", { name: `Join ${name}`, exact: true }).click({ timeout: uiTimeout });
  await dialog
    .getByRole("button", { name: `Join ${name}`, exact: true })
    .waitFor({ state: "hidden", timeout: uiTimeout });
  await dismissDialogs(page);
  await showConversation(page, name);
}

/** The offline banner: a `role=status` saying "Offline — reconnecting…". */
export function offlineBanner(page: Page): Locator {
  return page.getByRole("status").filter({ hasText: "Offline — reconnecting…" });
}

/** The thread pane: `complementary` "Thread". */
export function threadPane(page: Page): Locator {
  return page.getByRole("complementary", { name: "Thread" });
}

/** The typing indicator's text, "" when it is empty or absent. */
export async function typingText(page: Page): Promise<string> {
  const el = page.getByTestId("typing-indicator");
  const texts = await el.allTextContents();
  return texts
    .map((t) => t.trim())
    .filter(Boolean)
    .join(" ");
}

/**
 * Adds a reaction to `message` through the picker dialog "Pick a reaction", preferring 👍;
 * returns the emoji picked.
 */
export async function addReaction(page: Page, message: Locator): Promise<string> {
  await message.hover();
  await message.getByRole("button", { name: "Add reaction" }).click();
  const picker = page.getByRole("dialog", { name: "Pick a reaction" });
  await picker.waitFor({ timeout: uiTimeout });
  const thumbs = picker.getByRole("button", { name: "👍", exact: true });
  let button = thumbs;
  if ((await thumbs.count()) === 0) {
    button = picker
      .getByRole("button")
      .filter({ hasText: /\p{Extended_Pictographic}/u })
      .first();
  }
  const emoji = ((await button.textContent()) ?? "").trim();
  await button.click();
  await picker.waitFor({ state: "hidden", timeout: uiTimeout });
  return emoji;
}

/** The toggle button of the reaction `emoji` on `message`, whatever its count. */
export function reactionToggle(message: Locator, emoji: string): Locator {
  return message.getByRole("button", { name: new RegExp(`^${escapeRegExp(emoji)} \\d+$`) });
}

/** `{name, pressed}` of the reaction `emoji` on `message`, or null when there is none. */
export async function reactionState(
  message: Locator,
  emoji: string,
): Promise<{ name: string; pressed: string | null } | null> {
  const toggle = reactionToggle(message, emoji);
  if ((await toggle.count()) === 0) return null;
  const pressed = await toggle.first().getAttribute("aria-pressed");
  const label = await toggle.first().evaluate((el) => el.getAttribute("aria-label") ?? el.textContent ?? "");
  return { name: label.replace(/\s+/g, " ").trim(), pressed };
}

// ---- Accessibility ----

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/**
 * Runs axe-core on the page as it is now and fails on any "serious" or "critical" violation,
 * listing each rule with the elements it flagged. axe is injected by CDP evaluation (the
 * app's Content-Security-Policy forbids inline scripts, which addScriptTag would add).
 */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)",
  )) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help}\n${v.nodes
        .slice(0, 5)
        .map((n) => `    ${JSON.stringify(n.target)} ${n.failureSummary?.replace(/\s+/g, " ") ?? ""}`)
        .join("\n")}`,
  );
  expect(report, `axe on ${what}`).toEqual([]);
}

// ---- Screenshots ----

/** Saves a screenshot of `page` as test-artifacts/web/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** Also writes docs/screenshots/<name>.png when COLINK_UPDATE_SCREENSHOTS=1. */
export async function docsScreenshot(page: Page, name: string): Promise<string | null> {
  if (process.env.COLINK_UPDATE_SCREENSHOTS !== "1") return null;
  const path = join(docsScreenshotsDir, `${name}.png`);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: false });
  return path;
}

/**
 * Registers, inside a running test, a screenshot of each page in `users` should the test
 * fail: test-artifacts/web/failed-<test>-<username>.png, printed so the report can point at it.
 */
export function screenshotsOnFailure(test: string, users: () => Array<UserPage | null | undefined>): void {
  onTestFailed(async () => {
    const slug = test.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    for (const user of users()) {
      if (!user || user.page.isClosed()) continue;
      const path = await screenshot(user.page, `failed-${slug}-${user.username}`).catch(() => null);
      if (path) console.error(`screenshot of ${user.username}'s page: ${path}`);
      if (user.problems.length)
        console.error(`${user.username}'s page problems:\n${user.problems.join("\n")}`);
    }
  });
}

/** Closes the contexts of `users`, ignoring ones already gone. */
export async function closeAll(users: Array<UserPage | null | undefined>): Promise<void> {
  await Promise.all(users.map((u) => u?.context.close().catch(() => {})));
}

/**
 * Holds the page's upload PUTs to `/v1/blobs/<bucket>/` until `release` is called, so a
 * test can see the progress of an upload in flight. `release` lets the held ones through
 * and stops holding new ones.
 */
export async function holdUploads(page: Page, bucket: string): Promise<{ release: () => Promise<void> }> {
  let letGo = () => {};
  const held = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  const isUpload = (url: URL) => url.pathname.startsWith(`/v1/blobs/${bucket}/`);
  // The routes being handled: the route is removed only once they went on (removing it
  // first makes Playwright continue them itself, and their own continue then throws).
  const handling: Array<Promise<void>> = [];
  await page.route(isUpload, (route) => {
    const handled = (async () => {
      if (route.request().method() === "PUT") await held;
      await route.continue();
    })();
    handling.push(handled);
    return handled;
  });
  return {
    release: async () => {
      letGo();
      await Promise.allSettled(handling);
      await page.unroute(isUpload);
    },
  };
}
