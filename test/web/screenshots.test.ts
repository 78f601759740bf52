/**
 * Screenshots of the web app's main views, saved as test artifacts under
 * test-artifacts/web/: the sign-in screen, a channel with a few messages, a reaction and a
 * thread's reply count, the thread pane open, and the channel on a phone. With
 * COLINK_UPDATE_SCREENSHOTS=1 the channel and thread views (1280×800) are also written to
 * docs/screenshots/channel.png and docs/screenshots/thread.png, which the docs show.
 *
 * The scene is built the way a person would build it (two people in two browser contexts),
 * so the pictures are of the real app against a real server, and a reviewer can look at
 * what the other tests only read.
 */
import { existsSync, statSync } from "node:fs";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  addReaction,
  badge,
  createChannel,
  docsScreenshot,
  joinChannel,
  messageWithText,
  openConversation,
  screenshot,
  screenshotsOnFailure,
  sendMessage,
  signIn,
  signInScreen,
  threadPane,
  type UserPage,
  uiTimeout,
  waitForMessage,
  webForBlock,
} from "../support/browser.js";

/** No hover or focus highlight left from the last click: the view as it rests. */
async function restingPointer(page: Page): Promise<void> {
  await page.mouse.move(0, 0);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

/** A picture that was written and is not empty. */
function expectPicture(path: string): void {
  expect(existsSync(path), path).toBe(true);
  expect(statSync(path).size, path).toBeGreaterThan(1000);
}

describe("screenshots of the web app", () => {
  const web = webForBlock();
  const users: UserPage[] = [];

  it("saves sign-in, channel, thread and phone views", async ({ task }) => {
    screenshotsOnFailure(task.name, () => users);
    const base = web.server.baseUrl;
    const alice = await web.open("alice");
    users.push(alice);
    const a = alice.page;
    await a.goto(`${base}/`);
    await signInScreen(a).heading.waitFor({ timeout: uiTimeout });
    expectPicture(await screenshot(a, "signin"));

    await signIn(alice, base);
    const bob = await web.signIn("bob");
    users.push(bob);
    const b = bob.page;
    const channel = "design-review";
    await createChannel(a, channel, { topic: "Mockups, feedback and decisions" });
    await createChannel(a, "general");
    await openConversation(a, channel);
    await joinChannel(b, channel);

    await sendMessage(a, channel, "Morning! The new onboarding mockups are up for review.");
    await sendMessage(
      b,
      channel,
      "Nice, the **empty states** look much better than before.",
      "Nice, the empty states look much better than before.",
    );
    await sendMessage(a, channel, "Should the invite button stay in the header, or move to the sidebar?");
    await sendMessage(
      b,
      channel,
      "Let's keep it in the header for now: `HeaderActions` already has room.",
      "Let's keep it in the header for now: HeaderActions already has room.",
    );
    await waitForMessage(a, "Let's keep it in the header for now: HeaderActions already has room.");
    await addReaction(a, messageWithText(a, "Nice, the empty states look much better than before."));

    const question = "Should the invite button stay in the header, or move to the sidebar?";
    const rootOnBob = await waitForMessage(b, question);
    await rootOnBob.hover();
    await rootOnBob.getByRole("button", { name: "Reply in thread" }).click();
    const replyBox = threadPane(b).getByRole("textbox", { name: "Reply in thread" });
    await replyBox.fill("Header, I think: people look there first.");
    await replyBox.press("Enter");
    await threadPane(b).getByRole("button", { name: "Close thread" }).click();

    const root = messageWithText(a, question);
    const count = root.getByRole("button", { name: "1 reply", exact: true });
    await count.waitFor({ timeout: uiTimeout });
    // alice is reading the channel: nothing in it stays unread for her.
    await expect.poll(() => badge(a, channel, "unread-count"), { timeout: uiTimeout }).toBe(0);
    await restingPointer(a);
    expectPicture(await screenshot(a, "channel"));
    await docsScreenshot(a, "channel");

    await count.click();
    await threadPane(a)
      .getByRole("log", { name: "Replies" })
      .getByText("Header, I think: people look there first.")
      .waitFor({ timeout: uiTimeout });
    await restingPointer(a);
    expectPicture(await screenshot(a, "thread"));
    await docsScreenshot(a, "thread");

    const phone = await web.signIn("alice", {
      viewport: { width: 375, height: 740 },
      isMobile: true,
      hasTouch: true,
    });
    phone.username = "alice-phone";
    users.push(phone);
    await openConversation(phone.page, channel);
    await waitForMessage(phone.page, question);
    expectPicture(await screenshot(phone.page, "mobile-channel"));
  });
});
