/**
 * The web app's session: the access token lives in page memory only, a reload signs in
 * again through the HttpOnly session cookie, the token is renewed before it expires (so a
 * reconnect after the first token's expiry still gets in), and signing out ends it.
 * The server gives short tokens here (COLINK_DEV_TOKEN_TTL_SEC=60, its minimum), so the app
 * renews every few seconds and the first token has expired within the test.
 */
import type { Request } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  createChannel,
  offlineBanner,
  screenshotsOnFailure,
  sendMessage,
  signInScreen,
  type UserPage,
  uiTimeout,
  uniqueName,
  webForBlock,
} from "../support/browser.js";

const tokenTtlMs = 60_000;

describe("the web app's session", () => {
  const web = webForBlock({ COLINK_DEV_TOKEN_TTL_SEC: String(tokenTtlMs / 1000) });

  it("keeps no token where scripts can read it, and survives a reload through the session cookie", async ({
    task,
  }) => {
    let alice: UserPage | null = null;
    screenshotsOnFailure(task.name, () => [alice]);
    alice = await web.signIn(uniqueName("alice"));
    const { page } = alice;
    const stored = await page.evaluate(() => ({
      local: Object.keys(localStorage).length,
      session: Object.keys(sessionStorage).length,
      cookies: document.cookie,
    }));
    expect(stored).toEqual({ local: 0, session: 0, cookies: "" });

    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor({ timeout: uiTimeout });
    expect(alice.problems).toEqual([]);
  });

  it("renews the token before it expires, so a reconnect after the first token's expiry gets in", async ({
    task,
  }) => {
    let bob: UserPage | null = null;
    screenshotsOnFailure(task.name, () => [bob]);
    const signedInAt = Date.now();
    bob = await web.signIn(uniqueName("bob"));
    const { page } = bob;
    const renewals: Request[] = [];
    page.on("requestfinished", (req) => {
      if (req.url().endsWith("/auth/dev/refresh")) renewals.push(req);
    });
    const channel = uniqueName("renewed");
    await createChannel(page, channel);
    await expect.poll(() => renewals.length, { timeout: 20_000 }).toBeGreaterThan(0);
    const answer = await renewals[0]!.response();
    expect(answer?.status()).toBe(200);

    // Past the first token's expiry, a new connection must use a renewed token.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, signedInAt + tokenTtlMs + 2000 - Date.now())),
    );
    await web.server.stop("SIGKILL");
    await offlineBanner(page).waitFor({ timeout: uiTimeout });
    await web.server.restart();
    await offlineBanner(page).waitFor({ state: "hidden", timeout: 45_000 });
    await sendMessage(page, channel, "still signed in");
    await expect.poll(() => page.locator('[data-pending="true"]').count(), { timeout: uiTimeout }).toBe(0);
    expect(bob.problems).toEqual([]);
  }, 150_000);

  it("a session whose account was deactivated while no tab was open is refused on load, and says why", async ({
    task,
  }) => {
    let dana: UserPage | null = null;
    screenshotsOnFailure(task.name, () => [dana]);
    const username = uniqueName("dana");
    dana = await web.signIn(username);
    const { page } = dana;
    // Away from the app: no socket for the deactivation to close, the session cookie kept.
    await page.goto("about:blank");
    const { baseUrl } = web.server;
    const token = async (name: string, role: string) => {
      const res = await fetch(`${baseUrl}/auth/dev/token`, {
        method: "POST",
        body: JSON.stringify({ username: name, role }),
      });
      return (await res.json()) as { accessToken: string; user: { id: string } };
    };
    const admin = await token(uniqueName("admin"), "admin");
    const userId = (await token(username, "member")).user.id;
    const deactivated = await fetch(`${baseUrl}/v1/admin/users/${userId}/deactivate`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin.accessToken}` },
    });
    expect(deactivated.status).toBe(200);

    // The session cookie gets no new token: the app says why without opening a socket.
    const refreshes: number[] = [];
    page.on("response", (res) => {
      if (res.url().endsWith("/auth/dev/refresh")) refreshes.push(res.status());
    });
    await page.goto(`${baseUrl}/`);
    await signInScreen(page).heading.waitFor({ timeout: uiTimeout });
    await page.getByText("Your account was deactivated.").waitFor({ timeout: uiTimeout });
    expect(refreshes).toEqual([401]);
  });

  it("signs out: the cookie is cleared, and a reload shows the sign-in screen", async ({ task }) => {
    let carol: UserPage | null = null;
    screenshotsOnFailure(task.name, () => [carol]);
    carol = await web.signIn(uniqueName("carol"));
    const { page } = carol;
    await page.getByRole("button", { name: "Sign out" }).click();
    await signInScreen(page).heading.waitFor({ timeout: uiTimeout });
    await page.reload();
    await signInScreen(page).heading.waitFor({ timeout: uiTimeout });
    const cookies = await carol.context.cookies();
    expect(cookies.filter((c) => c.name === "colink_dev_session")).toEqual([]);
  });
});
