/**
 * Accessibility of the web app, checked by axe-core in Chromium: the sign-in screen, the
 * dialogs, a channel and the thread pane have no serious or critical violation. The other
 * browser tests already find everything by role and accessible name; this adds what names
 * alone do not prove (contrast, landmarks, labels, ARIA use) and the keyboard: Tab reaches
 * the composer, Enter sends, Shift+Enter makes a new line.
 */
import { describe, expect, it } from "vitest";
import {
  addReaction,
  composer,
  createChannel,
  expectAccessible,
  messageWithText,
  screenshotsOnFailure,
  sendMessage,
  sidebar,
  signIn,
  signInScreen,
  threadPane,
  type UserPage,
  uiTimeout,
  uniqueName,
  waitForMessage,
  webForBlock,
} from "../support/browser.js";

describe("accessibility of the web app", () => {
  const web = webForBlock();
  let alice: UserPage | null = null;
  const name = uniqueName("a11y");

  it("has no serious or critical axe violations on sign-in, a channel, its dialogs and the thread pane", async ({
    task,
  }) => {
    screenshotsOnFailure(task.name, () => [alice]);
    alice = await web.open(uniqueName("alice"));
    const a = alice.page;
    await a.goto(`${web.server.baseUrl}/`);
    await signInScreen(a).heading.waitFor({ timeout: uiTimeout });
    await expect.poll(() => a.evaluate(() => document.documentElement.lang)).not.toBe("");
    await expectAccessible(a, "the sign-in screen");

    await signIn(alice, web.server.baseUrl);
    await sidebar(a).getByRole("button", { name: "Create channel" }).click();
    await a.getByRole("dialog", { name: "Create a channel" }).waitFor({ timeout: uiTimeout });
    await expectAccessible(a, 'the dialog "Create a channel"');
    await a.keyboard.press("Escape");
    await a
      .getByRole("dialog", { name: "Create a channel" })
      .waitFor({ state: "hidden", timeout: uiTimeout });

    await createChannel(a, name, { topic: "checked by axe" });
    await sendMessage(a, name, "a **bold** start with `code`", "a bold start with code");
    await sendMessage(a, name, "a message to react to");
    await sendMessage(a, name, "a message with a thread");
    await addReaction(a, messageWithText(a, "a message to react to"));
    const root = messageWithText(a, "a message with a thread");
    await root.hover();
    await root.getByRole("button", { name: "Reply in thread" }).click();
    const pane = threadPane(a);
    const replyBox = pane.getByRole("textbox", { name: "Reply in thread" });
    await replyBox.fill("a reply");
    await replyBox.press("Enter");
    await root.getByRole("button", { name: "1 reply", exact: true }).waitFor({ timeout: uiTimeout });
    await expectAccessible(a, "the thread pane (and the channel beside it)");

    await pane.getByRole("button", { name: "Close thread" }).click();
    await pane.waitFor({ state: "hidden", timeout: uiTimeout });
    await expectAccessible(a, "the channel view");

    await sidebar(a).getByRole("button", { name: "Browse channels" }).click();
    await a.getByRole("dialog", { name: "Browse channels" }).waitFor({ timeout: uiTimeout });
    await expectAccessible(a, 'the dialog "Browse channels"');
    await a.keyboard.press("Escape");
  });

  it("reaches the composer with Tab; Enter sends and Shift+Enter starts a new line", async ({ task }) => {
    screenshotsOnFailure(task.name, () => [alice]);
    const a = alice!.page;
    await a.reload();
    const box = composer(a, name);
    await box.waitFor({ timeout: uiTimeout });
    await a.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());

    const isFocused = () => box.evaluate((el) => el === document.activeElement);
    let presses = 0;
    while (!(await isFocused()) && presses < 120) {
      await a.keyboard.press("Tab");
      presses++;
    }
    expect(await isFocused(), `the composer is reached after ${presses} Tab presses`).toBe(true);

    await a.keyboard.type("typed without a mouse");
    await a.keyboard.press("Enter");
    await waitForMessage(a, "typed without a mouse");
    expect(await box.inputValue()).toBe("");
    expect(await isFocused()).toBe(true);

    await a.keyboard.type("line one");
    await a.keyboard.press("Shift+Enter");
    await a.keyboard.type("line two");
    expect(await box.inputValue()).toBe("line one\nline two");
    await a.keyboard.press("Enter");
    const twoLines = messageWithText(a, "line one\nline two").or(messageWithText(a, "line oneline two"));
    await twoLines.first().waitFor({ timeout: uiTimeout });
    // The rendered text: a line break shows as one whether it is a "\n" or a <br>.
    // biome-ignore lint/performance/useDomNodeTextContent: the layout's line break is the point
    const shown = await twoLines.first().getByTestId("message-text").innerText();
    expect(shown.trim()).toBe("line one\nline two");
    expect(alice!.problems).toEqual([]);
  });
});
