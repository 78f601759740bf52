/**
 * The web app on a phone-sized screen (375×740): sign in, create and open a channel, send a
 * message, and go back. Below 700 px the app shows one pane at a time: with the channel open
 * the sidebar is not on screen beside it, a back button returns to the sidebar, and nothing
 * is wider than the screen.
 *
 * docs/web.md promises this layout; without the test a wide-screen-only change would pass
 * every other browser test.
 */
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  composer,
  createChannel,
  mainPane,
  messageLog,
  screenshot,
  screenshotsOnFailure,
  sendMessage,
  sidebar,
  type UserPage,
  uiTimeout,
  uniqueName,
  webForBlock,
} from "../support/browser.js";

const phone = { width: 375, height: 740 };

/** Is `locator` shown and at least partly within the viewport? */
async function onScreen(page: Page, locator: Locator): Promise<boolean> {
  if ((await locator.count()) === 0 || !(await locator.first().isVisible())) return false;
  const box = await locator.first().boundingBox();
  const view = page.viewportSize()!;
  if (!box || box.width < 1 || box.height < 1) return false;
  return box.x < view.width && box.x + box.width > 0 && box.y < view.height && box.y + box.height > 0;
}

/** How much wider than the viewport the document is (0 when it fits). */
function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

describe("the web app on a phone-sized screen", () => {
  const web = webForBlock();
  let alice: UserPage | null = null;

  it("shows one pane at a time, with a back button from the channel to the sidebar", async ({ task }) => {
    screenshotsOnFailure(task.name, () => [alice]);
    alice = await web.signIn(uniqueName("alice"), {
      viewport: phone,
      isMobile: true,
      hasTouch: true,
    });
    const a = alice.page;
    const name = uniqueName("pocket");
    await expect.poll(() => onScreen(a, sidebar(a))).toBe(true);
    expect(await overflow(a)).toBeLessThanOrEqual(0);

    await createChannel(a, name);
    await sendMessage(a, name, "sent from a phone");
    const heading = mainPane(a).getByRole("heading", { name, exact: true });
    expect(await onScreen(a, heading)).toBe(true);
    // The channel's name is readable: its heading is not squeezed into a clipped sliver.
    const clipped = await heading.evaluate((el) => ({
      shown: el.clientWidth,
      needed: el.scrollWidth,
    }));
    expect(clipped.needed, `heading needs ${clipped.needed}px, has ${clipped.shown}px`).toBeLessThanOrEqual(
      clipped.shown + 1,
    );
    expect(await onScreen(a, composer(a, name))).toBe(true);
    expect(await onScreen(a, messageLog(a))).toBe(true);
    // One pane: the sidebar is not beside the channel.
    await expect.poll(() => onScreen(a, sidebar(a))).toBe(false);
    expect(await overflow(a)).toBeLessThanOrEqual(0);
    const logBox = await messageLog(a).boundingBox();
    expect(logBox!.width).toBeGreaterThan(phone.width * 0.8);

    const back = a.getByRole("button", { name: /back/i });
    await back.first().click({ timeout: uiTimeout });
    await expect.poll(() => onScreen(a, sidebar(a)), { timeout: uiTimeout }).toBe(true);
    await expect.poll(() => onScreen(a, messageLog(a))).toBe(false);
    expect(await overflow(a)).toBeLessThanOrEqual(0);
    await screenshot(a, "mobile-sidebar");
    expect(alice.problems).toEqual([]);
  });
});
