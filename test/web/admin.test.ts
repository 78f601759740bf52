/**
 * The administration screens of the web app (issue 23), everyone signed in through a real
 * Keycloak's login page:
 * - a member flags a message from the message menu; a moderator, whose menu offers only
 *   Flags, removes it from the Flags page (the member sees it go); an admin removes another
 *   message from the message menu with a reason;
 * - the Audit log lists both removals and the resolution (who, IP, request id), filters by
 *   action and verifies the chain;
 * - an admin finds a user on the Users page, changes their role, and deactivates them: the
 *   user's open tab is signed out at once with "Your account was deactivated."; reactivated,
 *   they sign in again.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createChannel,
  expectAccessible,
  joinChannel,
  mainPane,
  messageWithText,
  screenshot,
  screenshotsOnFailure,
  sendMessage,
  signInScreen,
  type UserPage,
  uiTimeout,
  uniqueName,
  waitForMessage,
  webForBlock,
} from "../support/browser.js";
import { adminApi, colinkRealm, realmUsers, startKeycloak, type TestKeycloak } from "../support/keycloak.js";
import { signInThroughKeycloak } from "../support/keycloak-browser.js";

let keycloak: TestKeycloak;
/** A second member, made in the realm for this file: the one whose messages go and who is deactivated. */
const mia = { username: "member-mia", password: "member-mia-password", name: "Mia Member" };
/** How the admin looks for her: a word of her display name. */
const userQuery = "mia";

beforeAll(async () => {
  keycloak = await startKeycloak();
  await adminApi(keycloak, "POST", `/${colinkRealm}/users`, {
    username: mia.username,
    enabled: true,
    emailVerified: true,
    email: `${mia.username}@colink.test`,
    firstName: "Mia",
    lastName: "Member",
    credentials: [{ type: "password", value: mia.password, temporary: false }],
    requiredActions: [],
  });
}, 360_000);

afterAll(async () => {
  await keycloak?.cleanup();
});

/** The sidebar's administration menu: `nav` "Administration". */
const adminMenu = (page: Page) => page.getByRole("navigation", { name: "Administration" });

/** Opens an administration page from the sidebar's menu and waits for its heading. */
async function openAdminPage(page: Page, title: "Users" | "Flags" | "Audit log"): Promise<void> {
  await adminMenu(page).getByRole("link", { name: title, exact: true }).click();
  await mainPane(page).getByRole("heading", { name: title, exact: true }).waitFor({ timeout: uiTimeout });
}

/** Opens the menu action `label` of the message `text` (the actions show on hover). */
async function messageAction(page: Page, text: string, label: string): Promise<void> {
  const message = messageWithText(page, text);
  await message.hover();
  await message.getByRole("button", { name: label, exact: true }).click();
}

/**
 * Searches the Users page for `q` and waits until its one row is `username`'s (the list
 * shown before the answer is not taken for it).
 */
async function findUser(page: Page, q: string, username: string) {
  await page.getByRole("searchbox", { name: "Search users" }).fill(q);
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const rows = mainPane(page).locator("tbody tr");
  await expect
    .poll(
      async () => (await rows.count()) === 1 && (await rows.first().textContent())?.includes(`@${username}`),
      {
        timeout: uiTimeout,
      },
    )
    .toBe(true);
  return rows.first();
}

/** The audit log's rows (entries), as their actions. */
async function auditRows(page: Page): Promise<string[]> {
  return mainPane(page)
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action") ?? ""));
}

describe("administration in the web app, through Keycloak", () => {
  const web = webForBlock(() => ({
    COLINK_DEV_AUTH: "off",
    COLINK_OIDC_ISSUER: keycloak.issuer,
    COLINK_OIDC_WEB_CLIENT_ID: "web-app",
  }));
  const people: Record<string, UserPage | null> = { alice: null, mo: null, max: null, mia: null };
  const channel = uniqueName("adm");
  const spam = "BUY CHEAP WATCHES at watches.example";
  const offTopic = "who wants to trade football cards?";

  /** A person's page, signed in through Keycloak (once per file). */
  async function person(key: string, user: { username: string; password: string }): Promise<UserPage> {
    const held = people[key];
    if (held) return held;
    const opened = await web.open(user.username);
    await opened.page.goto(`${web.server.baseUrl}/`);
    await signInThroughKeycloak(opened.page, web.server.baseUrl, keycloak.issuer, user);
    people[key] = opened;
    return opened;
  }

  it("a flag raised from the message menu is resolved by removing the message; an admin removes another", async ({
    task,
  }) => {
    screenshotsOnFailure(task.name, () => Object.values(people));
    const alice = await person("alice", realmUsers.admin);
    await createChannel(alice.page, channel);
    await sendMessage(alice.page, channel, "welcome, everyone");

    const miaPage = await person("mia", mia);
    await joinChannel(miaPage.page, channel);
    await sendMessage(miaPage.page, channel, spam);
    await sendMessage(miaPage.page, channel, offTopic);

    // Max, a member: no administration menu, and no Remove on others' messages; he flags the spam.
    const max = await person("max", realmUsers.member);
    expect(await adminMenu(max.page).count()).toBe(0);
    await joinChannel(max.page, channel);
    await waitForMessage(max.page, spam);
    const spamAtMax = messageWithText(max.page, spam);
    await spamAtMax.hover();
    expect(await spamAtMax.getByRole("button", { name: "Remove message…" }).count()).toBe(0);
    await messageAction(max.page, spam, "Flag message…");
    const flagDialog = max.page.getByRole("dialog", { name: "Flag message" });
    await flagDialog.getByRole("textbox", { name: "Reason" }).fill("spam: selling watches");
    await flagDialog.getByRole("button", { name: "Flag", exact: true }).click();
    await flagDialog.getByRole("status").filter({ hasText: "The moderators will look at it" }).waitFor({
      timeout: uiTimeout,
    });
    await flagDialog.getByRole("button", { name: "Done" }).click();

    // Mo, a moderator: the menu offers Flags only; the open flag shows the message's text and the reason.
    const mo = await person("mo", realmUsers.moderator);
    await adminMenu(mo.page)
      .getByRole("link", { name: "Flags", exact: true })
      .waitFor({ timeout: uiTimeout });
    expect(await adminMenu(mo.page).getByRole("link").count()).toBe(1);
    await openAdminPage(mo.page, "Flags");
    const openFlags = mo.page.getByRole("list", { name: "Open flags" });
    const flag = openFlags.getByRole("listitem").filter({ hasText: spam });
    await flag.waitFor({ timeout: uiTimeout });
    await expect.poll(() => flag.textContent()).toContain("spam: selling watches");
    await expect.poll(() => flag.textContent()).toContain("Max Member");
    // Where it was said, named by the server: Mo is not in the channel.
    await expect.poll(() => flag.textContent()).toContain(`in #${channel}`);
    await screenshot(mo.page, "admin-flags");
    await expectAccessible(mo.page, "the Flags page");
    await flag.getByRole("button", { name: "Resolve…" }).click();
    const resolve = mo.page.getByRole("dialog", { name: "Resolve flag" });
    await resolve.getByRole("textbox", { name: /Note/ }).fill("no selling here");
    await screenshot(mo.page, "admin-resolve-flag");
    await resolve.getByRole("button", { name: "Remove message" }).click();
    await resolve.waitFor({ state: "hidden", timeout: uiTimeout });
    await flag.waitFor({ state: "detached", timeout: uiTimeout });
    await mo.page.getByRole("button", { name: "Resolved", exact: true }).click();
    const resolvedFlag = mo.page.getByRole("list", { name: "Resolved flags" }).getByRole("listitem").filter({
      hasText: spam,
    });
    await resolvedFlag.waitFor({ timeout: uiTimeout });
    await expect.poll(() => resolvedFlag.textContent()).toContain("Removed by Mo Moderator");
    await expect.poll(() => resolvedFlag.textContent()).toContain("no selling here");

    // The message is gone for the people in the channel.
    await expect.poll(() => messageWithText(max.page, spam).count(), { timeout: uiTimeout }).toBe(0);
    await expect.poll(() => messageWithText(miaPage.page, spam).count(), { timeout: uiTimeout }).toBe(0);

    // Alice, an admin, removes another message from the message menu, with a reason.
    await waitForMessage(alice.page, offTopic);
    await messageAction(alice.page, offTopic, "Remove message…");
    const removeDialog = alice.page.getByRole("dialog", { name: "Remove message" });
    await removeDialog.getByRole("textbox", { name: "Reason" }).fill("off topic");
    await removeDialog.getByRole("button", { name: "Remove", exact: true }).click();
    await removeDialog.waitFor({ state: "hidden", timeout: uiTimeout });
    await expect.poll(() => messageWithText(max.page, offTopic).count(), { timeout: uiTimeout }).toBe(0);

    for (const user of Object.values(people)) expect(user?.problems ?? [], user?.username).toEqual([]);
  }, 240_000);

  it("the audit log lists the removals and the resolution, filters them by action, and verifies its chain", async ({
    task,
  }) => {
    screenshotsOnFailure(task.name, () => Object.values(people));
    const alice = await person("alice", realmUsers.admin);
    await openAdminPage(alice.page, "Audit log");
    await expect
      .poll(() => auditRows(alice.page), { timeout: uiTimeout })
      .toEqual(expect.arrayContaining(["msg.remove", "flag.resolve"]));
    // Who and where: the moderator's resolution names them, with the request's IP and id.
    const resolution = mainPane(alice.page).locator('tbody tr[data-action="flag.resolve"]');
    await expect.poll(() => resolution.textContent()).toContain("Mo Moderator");
    await expect.poll(() => resolution.textContent()).toMatch(/127\.0\.0\.1|::1/);
    await alice.page.getByRole("combobox", { name: "Action" }).selectOption("msg.remove");
    await alice.page.getByRole("button", { name: "Apply filters" }).click();
    // The flag's removal and alice's own.
    await expect
      .poll(() => auditRows(alice.page), { timeout: uiTimeout })
      .toEqual(["msg.remove", "msg.remove"]);
    // By actor, named by username: Mo's removal only.
    await alice.page.getByRole("textbox", { name: "Actor" }).fill(realmUsers.moderator.username);
    await alice.page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => auditRows(alice.page), { timeout: uiTimeout }).toEqual(["msg.remove"]);
    await expect
      .poll(() => mainPane(alice.page).locator("tbody tr").first().textContent())
      .toContain("Mo Moderator");
    const verdict = alice.page.getByTestId("audit-verdict");
    await alice.page.getByRole("button", { name: "Verify chain" }).click();
    await expect
      .poll(() => verdict.textContent(), { timeout: uiTimeout })
      .toMatch(/^Chain intact \(\d+ rows?\)$/);
    await screenshot(alice.page, "admin-audit");
    await expectAccessible(alice.page, "the Audit log page");
    for (const user of Object.values(people)) expect(user?.problems ?? [], user?.username).toEqual([]);
  }, 120_000);

  it("an admin deactivates a user whose open tab is signed out at once, then reactivates them", async ({
    task,
  }) => {
    screenshotsOnFailure(task.name, () => Object.values(people));
    const alice = await person("alice", realmUsers.admin);
    const miaPage = await person("mia", mia);
    const miaSockets: Array<import("playwright-core").WebSocket> = [];
    miaPage.page.on("websocket", (ws) => {
      if (new URL(ws.url()).pathname === "/ws") miaSockets.push(ws);
    });

    // Find Mia on the Users page: her role and status.
    await openAdminPage(alice.page, "Users");
    const row = await findUser(alice.page, userQuery, mia.username);
    const role = row.getByRole("combobox", { name: "Role of Mia Member" });
    expect(await role.inputValue()).toBe("member");
    expect(await row.getByText("Active", { exact: true }).count()).toBe(1);

    // Change her role, and back.
    await role.selectOption("moderator");
    await alice.page
      .getByRole("status")
      .filter({ hasText: "Mia Member is now a moderator." })
      .waitFor({ timeout: uiTimeout });
    await role.selectOption("member");
    await alice.page
      .getByRole("status")
      .filter({ hasText: "Mia Member is now a member." })
      .waitFor({ timeout: uiTimeout });
    await screenshot(alice.page, "admin-users");
    await expectAccessible(alice.page, "the Users page");

    // Deactivate, after the confirmation: her open tab is signed out at once.
    await row.getByRole("button", { name: "Deactivate Mia Member" }).click();
    const confirm = alice.page.getByRole("dialog", { name: "Deactivate Mia Member?" });
    await confirm.waitFor({ timeout: uiTimeout });
    await screenshot(alice.page, "admin-deactivate-confirm");
    const before = Date.now();
    await confirm.getByRole("button", { name: "Deactivate", exact: true }).click();
    await signInScreen(miaPage.page).heading.waitFor({ timeout: uiTimeout });
    await miaPage.page
      .getByRole("alert")
      .filter({ hasText: "Your account was deactivated." })
      .waitFor({ timeout: uiTimeout });
    const signedOutAfterMs = Date.now() - before;
    await screenshot(miaPage.page, "admin-deactivated-user");
    await confirm.waitFor({ state: "hidden", timeout: uiTimeout });
    await row.getByText("Deactivated", { exact: true }).waitFor({ timeout: uiTimeout });
    await expect.poll(() => miaSockets.every((ws) => ws.isClosed()), { timeout: uiTimeout }).toBe(true);
    // Signed out, not offline: nothing tries to reconnect.
    const socketsAfter = miaSockets.length;
    await miaPage.page.waitForTimeout(1500);
    expect(miaSockets.length).toBe(socketsAfter);
    expect(signedOutAfterMs).toBeLessThan(uiTimeout);

    // The audit log has the deactivation, aimed at her.
    await openAdminPage(alice.page, "Audit log");
    await alice.page.getByRole("combobox", { name: "Action" }).selectOption("user.deactivate");
    await alice.page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => auditRows(alice.page), { timeout: uiTimeout }).toEqual(["user.deactivate"]);

    // Reactivated, she signs in again.
    await openAdminPage(alice.page, "Users");
    await findUser(alice.page, userQuery, mia.username);
    await row.getByRole("button", { name: "Reactivate Mia Member" }).click();
    const reactivate = alice.page.getByRole("dialog", { name: "Reactivate Mia Member?" });
    await reactivate.getByRole("button", { name: "Reactivate", exact: true }).click();
    await reactivate.waitFor({ state: "hidden", timeout: uiTimeout });
    await row.getByText("Active", { exact: true }).waitFor({ timeout: uiTimeout });
    await signInThroughKeycloak(miaPage.page, web.server.baseUrl, keycloak.issuer, mia);

    for (const user of Object.values(people)) expect(user?.problems ?? [], user?.username).toEqual([]);
  }, 180_000);
});
