/**
 * The web app's single sign-on through a real Keycloak (issue 22): the button goes to the
 * server's `/auth/login`, the test types the user's password into Keycloak's own login page,
 * and the server's callback brings the browser back signed in. Then two people chat, a
 * reload stays signed in (by the HttpOnly session cookie: nothing in the page's storage),
 * and signing out closes the session's sockets: a second tab of the same session is sent
 * back to the sign-in screen by the server (close 4005), and Keycloak asks for the password
 * again.
 */
import type { Page, WebSocket } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createChannel,
  joinChannel,
  screenshotsOnFailure,
  sendMessage,
  signInScreen,
  type UserPage,
  uiTimeout,
  uniqueName,
  waitForMessage,
  watchProblems,
  webForBlock,
} from "../support/browser.js";
import { realmUsers, startKeycloak, type TestKeycloak } from "../support/keycloak.js";
import {
  keycloakLogin,
  signInThroughKeycloak as signInThroughIssuer,
  singleSignOnButton,
} from "../support/keycloak-browser.js";

let keycloak: TestKeycloak;

beforeAll(async () => {
  keycloak = await startKeycloak();
}, 360_000);

afterAll(async () => {
  await keycloak?.cleanup();
});

const signOutButton = (page: Page) => page.getByRole("button", { name: "Sign out" });
const singleSignOn = singleSignOnButton;

/** From the app's sign-in screen, through Keycloak's page (typing the password), back into the app. */
function signInThroughKeycloak(page: Page, baseUrl: string, user: { username: string; password: string }) {
  return signInThroughIssuer(page, baseUrl, keycloak.issuer, user);
}

/** The page's WebSockets to the app, as they open. */
function socketsOf(page: Page): WebSocket[] {
  const sockets: WebSocket[] = [];
  page.on("websocket", (ws) => {
    if (new URL(ws.url()).pathname === "/ws") sockets.push(ws);
  });
  return sockets;
}

describe("single sign-on through Keycloak in the web app", () => {
  const web = webForBlock(() => ({
    COLINK_DEV_AUTH: "off",
    COLINK_OIDC_ISSUER: keycloak.issuer,
    COLINK_OIDC_WEB_CLIENT_ID: "web-app",
  }));

  it("signs in on Keycloak's page, chats, stays signed in across a reload, and signs out every tab of the session", async ({
    task,
  }) => {
    let max: UserPage | null = null;
    let mo: UserPage | null = null;
    let secondTab: UserPage | null = null;
    screenshotsOnFailure(task.name, () => [max, mo, secondTab]);
    const base = web.server.baseUrl;

    max = await web.open("member-max");
    const { page } = max;
    // A failed sign-in comes back with a reason's code; the screen shows only its own words.
    await page.goto(`${base}/signin?error=expired`);
    await page
      .getByRole("alert")
      .filter({ hasText: "The sign-in took too long" })
      .waitFor({ timeout: uiTimeout });
    await page.goto(
      `${base}/signin?${new URLSearchParams({ error: "Call +1 555 0100 to unlock your account" })}`,
    );
    await expect
      .poll(() => page.getByRole("alert").textContent(), { timeout: uiTimeout })
      .toBe("Sign-in failed. Try again.");
    await page.goto(`${base}/`);
    await signInScreen(page).heading.waitFor({ timeout: uiTimeout });
    // Only single sign-on is offered: the dev form is off.
    expect(await signInScreen(page).username.count()).toBe(0);
    const sockets = socketsOf(page);
    await signInThroughKeycloak(page, base, realmUsers.member);
    expect(page.url()).toBe(`${base}/`);

    // Nothing a script could read: no storage, no cookie (the session cookie is HttpOnly).
    expect(
      await page.evaluate(() => ({
        local: Object.keys(localStorage).length,
        session: Object.keys(sessionStorage).length,
        cookies: document.cookie,
      })),
    ).toEqual({ local: 0, session: 0, cookies: "" });
    const session = (await max.context.cookies(`${base}/auth/refresh`)).find(
      (c) => c.name === "colink_session",
    );
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/auth" });

    // Chat with a second person, also signed in through Keycloak.
    const channel = uniqueName("sso");
    await createChannel(page, channel);
    await sendMessage(page, channel, "hello from max");
    mo = await web.open("moderator-mo");
    await mo.page.goto(`${base}/`);
    await signInThroughKeycloak(mo.page, base, realmUsers.moderator);
    await joinChannel(mo.page, channel);
    await waitForMessage(mo.page, "hello from max");
    await sendMessage(mo.page, channel, "hi max, mo here");
    await waitForMessage(page, "hi max, mo here");

    // A reload signs in again by the cookie, without a trip to Keycloak.
    const navigations: string[] = [];
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    // (Playwright sees no close of the sockets a navigation drops: count the ones after it.)
    const sinceReload = sockets.length;
    await page.reload();
    await signOutButton(page).waitFor({ timeout: uiTimeout });
    expect(navigations.every((url) => url.startsWith(base))).toBe(true);

    // A second tab of the same session (same browser, so the same cookie).
    secondTab = { ...max, page: await max.context.newPage(), problems: [] };
    watchProblems(secondTab.page, secondTab.problems);
    const secondSockets = socketsOf(secondTab.page);
    await secondTab.page.goto(`${base}/`);
    await signOutButton(secondTab.page).waitFor({ timeout: uiTimeout });

    // Sign out in the first tab: back to the sign-in screen, its socket closed.
    expect(sockets.length).toBeGreaterThan(sinceReload);
    await signOutButton(page).click();
    await signInScreen(page).heading.waitFor({ timeout: uiTimeout });
    const current = sockets.slice(sinceReload);
    await expect.poll(() => current.every((ws) => ws.isClosed()), { timeout: uiTimeout }).toBe(true);
    // The server closed the second tab's socket (the same session): it is signed out too.
    expect(secondSockets.length).toBeGreaterThan(0);
    await expect.poll(() => secondSockets.every((ws) => ws.isClosed()), { timeout: uiTimeout }).toBe(true);
    await signInScreen(secondTab.page).heading.waitFor({ timeout: uiTimeout });
    await secondTab.page
      .getByRole("alert")
      .filter({ hasText: "You have been signed out" })
      .waitFor({ timeout: uiTimeout });
    expect(await max.context.cookies(`${base}/auth/refresh`)).not.toContainEqual(
      expect.objectContaining({ name: "colink_session" }),
    );

    // Keycloak's session ended with it: signing in again asks for the password.
    await singleSignOn(page).click();
    await page.waitForURL((url) => url.href.startsWith(keycloak.issuer), { timeout: uiTimeout });
    await keycloakLogin(page).password.waitFor({ timeout: uiTimeout });

    // Mo, another session, is still signed in and connected.
    await sendMessage(mo.page, channel, "still here");
    for (const user of [max, secondTab, mo]) expect(user.problems, user.username).toEqual([]);
  }, 180_000);
});
