/**
 * One person on two devices: alice is signed in in two browser contexts (two tabs or two
 * machines) while bob posts in channels neither of her tabs has open. Both of her sidebars
 * count the unread messages; when she reads them in one tab, the badge clears in the other.
 * This proves the unread state is the server's (`unread.summary`, `read.mark` and the
 * `read.updated` event to every session of the user), not a tab's own bookkeeping.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { ColinkClient } from "../../client/index.js";
import { connectAs } from "../harness.js";
import {
  badge,
  conversationLink,
  createChannel,
  openConversation,
  screenshotsOnFailure,
  type UserPage,
  uiTimeout,
  uniqueName,
  waitForMessage,
  webForBlock,
} from "../support/browser.js";

describe("reading on one device clears the badge on the other", () => {
  const web = webForBlock();
  let bob: ColinkClient | null = null;
  const tabs: UserPage[] = [];

  afterAll(async () => {
    await bob?.close();
  });

  it("counts bob's messages in both of alice's sidebars, and clears both when she reads them in one", async ({
    task,
  }) => {
    screenshotsOnFailure(task.name, () => tabs);
    const username = uniqueName("alice");
    const news = uniqueName("news");
    const desk = uniqueName("desk");

    const tab1 = await web.signIn(username);
    tab1.username = `${username}-tab1`;
    tabs.push(tab1);
    await createChannel(tab1.page, news);
    await createChannel(tab1.page, desk);

    const other = await connectAs(web.server, uniqueName("bob"));
    bob = other.client;
    const { channels } = await bob.request("ch.list", { includePublic: true });
    const newsId = channels.find((c) => c.name === news)?.id;
    expect(newsId, `bob finds ${news}`).toBeDefined();
    await bob.request("ch.join", { channelId: newsId! });

    const tab2 = await web.signIn(username);
    tab2.username = `${username}-tab2`;
    tabs.push(tab2);
    await openConversation(tab2.page, desk);
    for (const tab of tabs) {
      await expect.poll(() => conversationLink(tab.page, desk).getAttribute("aria-current")).toBe("page");
      await expect.poll(() => badge(tab.page, news, "unread-count")).toBe(0);
    }

    await bob.send(newsId!, "first news");
    await bob.send(newsId!, "second news");
    for (const tab of tabs) {
      await expect
        .poll(() => badge(tab.page, news, "unread-count"), { timeout: uiTimeout, message: tab.username })
        .toBe(2);
      // No one mentioned her.
      expect(await badge(tab.page, news, "mention-count")).toBe(0);
    }

    await openConversation(tab1.page, news);
    await waitForMessage(tab1.page, "second news");
    await expect.poll(() => badge(tab1.page, news, "unread-count"), { timeout: uiTimeout }).toBe(0);
    // The other device was never on the channel, yet its badge goes too.
    await expect.poll(() => badge(tab2.page, news, "unread-count"), { timeout: uiTimeout }).toBe(0);
    expect(await conversationLink(tab2.page, news).getAttribute("aria-current")).not.toBe("page");

    // A message that arrives while tab 1 shows the channel is read there at once: neither
    // device keeps a badge for it.
    await bob.send(newsId!, "third news");
    await waitForMessage(tab1.page, "third news");
    for (const tab of tabs) {
      await expect
        .poll(() => badge(tab.page, news, "unread-count"), { timeout: uiTimeout, message: tab.username })
        .toBe(0);
    }

    expect(tab1.problems).toEqual([]);
    expect(tab2.problems).toEqual([]);
  });
});
