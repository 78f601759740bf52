/**
 * The server dies mid-conversation (SIGKILL: a crash, not a drain) and comes back on the
 * same port and data. Both pages say they are offline; a draft stays in the composer, and a
 * message sent meanwhile shows as pending. Once the server is back the banner goes, the
 * pending message is acknowledged, and both pages end with the same messages in the same
 * order, each once: the ones sent just before the kill included, and again after a reload
 * (from the server's history).
 */
import { describe, expect, it } from "vitest";
import {
  composer,
  createChannel,
  joinChannel,
  messageLog,
  messageRows,
  messageWithText,
  offlineBanner,
  screenshot,
  screenshotsOnFailure,
  sendMessage,
  type UserPage,
  uiTimeout,
  uniqueName,
  waitForMessage,
  webForBlock,
} from "../support/browser.js";

/** The SDK's reconnect back-off reaches 10 s; a restart of the server takes a few more. */
const reconnectTimeout = 45_000;

describe("the web app across a server crash", () => {
  const web = webForBlock();
  let alice: UserPage | null = null;
  let bob: UserPage | null = null;

  it("says it is offline, keeps drafts and pending messages, and ends with the same messages on both pages, each once", async ({
    task,
  }) => {
    screenshotsOnFailure(task.name, () => [alice, bob]);
    const srv = web.server;
    alice = await web.signIn(uniqueName("alice"));
    bob = await web.signIn(uniqueName("bob"));
    const a = alice.page;
    const b = bob.page;
    const name = uniqueName("ops");
    await createChannel(a, name);
    await joinChannel(b, name);

    await sendMessage(a, name, "before 1 (alice)");
    await sendMessage(b, name, "before 2 (bob)");
    await waitForMessage(a, "before 2 (bob)");
    await waitForMessage(b, "before 1 (alice)");
    expect(await offlineBanner(a).isVisible()).toBe(false);

    // Right before the kill: shown on the sender's page (perhaps still pending), then the crash.
    await sendMessage(a, name, "last words (alice)");
    await sendMessage(b, name, "last words (bob)");
    await srv.stop("SIGKILL");

    for (const page of [a, b]) await offlineBanner(page).waitFor({ timeout: uiTimeout });

    // A draft stays in the composer; a message sent now waits, shown as pending.
    await composer(a, name).fill("a draft written offline");
    await composer(b, name).fill("sent while offline (bob)");
    await composer(b, name).press("Enter");
    const offlineMessage = messageWithText(b, "sent while offline (bob)");
    await offlineMessage.waitFor({ timeout: uiTimeout });
    await expect.poll(() => offlineMessage.getAttribute("data-pending")).toBe("true");
    await expect(composer(b, name).inputValue()).resolves.toBe("");
    await screenshot(b, "offline-pending");

    await srv.restart();
    for (const page of [a, b]) {
      await offlineBanner(page).waitFor({ state: "hidden", timeout: reconnectTimeout });
    }
    await expect
      .poll(() => offlineMessage.getAttribute("data-pending"), { timeout: reconnectTimeout })
      .not.toBe("true");
    await expect(composer(a, name).inputValue()).resolves.toBe("a draft written offline");
    await composer(a, name).press("Enter");
    await composer(a, name).waitFor();

    const expected = [
      "before 1 (alice)",
      "before 2 (bob)",
      "last words (alice)",
      "last words (bob)",
      "sent while offline (bob)",
      "a draft written offline",
    ];
    for (const page of [a, b]) {
      await expect
        .poll(async () => (await messageRows(page)).filter((m) => !m.pending).length, {
          timeout: reconnectTimeout,
        })
        .toBe(expected.length);
    }
    const onAlice = await messageRows(a);
    const onBob = await messageRows(b);
    // The same messages (ids and texts), in the same order, on both pages.
    expect(onBob).toEqual(onAlice);
    expect(onAlice.map((m) => m.text).sort()).toEqual([...expected].sort());
    // Each once: no id and no text twice.
    expect(new Set(onAlice.map((m) => m.id)).size).toBe(onAlice.length);
    expect(onAlice.every((m) => m.id !== "")).toBe(true);
    expect(new Set(onAlice.map((m) => m.text)).size).toBe(onAlice.length);
    // Each page's own messages stay in the order they were written.
    const texts = onAlice.map((m) => m.text);
    expect(texts.indexOf("before 1 (alice)")).toBeLessThan(texts.indexOf("last words (alice)"));
    expect(texts.indexOf("last words (alice)")).toBeLessThan(texts.indexOf("a draft written offline"));
    expect(texts.indexOf("before 2 (bob)")).toBeLessThan(texts.indexOf("last words (bob)"));
    expect(texts.indexOf("last words (bob)")).toBeLessThan(texts.indexOf("sent while offline (bob)"));
    expect(await messageLog(a).locator('article[data-pending="true"]').count()).toBe(0);

    // A reload (signed in again by the refresh cookie, back on the channel's URL) shows the
    // same, from the server's history this time.
    await b.reload();
    await composer(b, name).waitFor({ timeout: uiTimeout });
    await expect
      .poll(async () => (await messageRows(b)).map((m) => m.id), { timeout: uiTimeout })
      .toEqual(onAlice.map((m) => m.id));

    // Network errors while the server was gone are expected; nothing else is.
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  }, 180_000);
});
