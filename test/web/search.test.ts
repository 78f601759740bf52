/**
 * Message search in the web app, against one real server (PGlite): alice posts in a public
 * channel (bob joins it), in a private one bob is not in, and in a thread; then both search
 * through the header's search box. bob never sees the private channel's message; alice finds
 * both, grouped under the channels' headings, with the matched words marked; `from:@bob` and
 * `in:#<channel>` narrow; a hit opens its message (or its thread's reply) scrolled to and
 * highlighted, and the back button returns to the results; the `from:` and `in:`
 * autocomplete offer bob and alice's channel; Load more brings the next page.
 *
 * The index follows the channel logs asynchronously (about a second behind), so a search that
 * should find something is polled: searched again from the box until the hits are there.
 */
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  createChannel,
  expectAccessible,
  joinChannel,
  mainPane,
  messageLog,
  messageTexts,
  messageWithText,
  openConversation,
  screenshot,
  sendMessage,
  suffix,
  threadPane,
  twoPeopleForBlock,
  uiTimeout,
  uniqueName,
  webForBlock,
} from "../support/browser.js";

/** A word no other message has: letters only, so that no tokenizer splits it. */
function uniqueWord(prefix: string): string {
  return prefix + suffix().replace(/[0-9]/g, (d) => "abcdefghij"[Number(d)]!);
}

function searchBox(page: Page): Locator {
  return page.getByRole("search").getByRole("searchbox", { name: "Search messages" });
}

function results(page: Page): Locator {
  return page.getByRole("main", { name: "Search results" });
}

/** The hits shown: links named by their snippets. */
function hits(page: Page): Locator {
  return results(page).getByRole("listitem").getByRole("link");
}

/** Searches from the header's box and waits until the results (or the failure) are shown. */
async function search(page: Page, q: string): Promise<void> {
  const box = searchBox(page);
  await box.fill(q);
  await box.press("Enter");
  const shown = results(page).getByRole("status").or(results(page).getByRole("alert"));
  await expect
    .poll(async () => (await shown.allTextContents()).join("").trim(), { timeout: uiTimeout })
    .not.toMatch(/^(Searching…)?$/);
}

/** Searches until `count` hits are shown (the index is about a second behind the channels). */
async function searchUntil(page: Page, q: string, count: number): Promise<void> {
  await expect
    .poll(
      async () => {
        await search(page, q);
        return hits(page).count();
      },
      { timeout: uiTimeout, interval: 300 },
    )
    .toBe(count);
}

describe("searching messages in the web app", () => {
  const web = webForBlock();
  const people = twoPeopleForBlock(web);
  const publicChannel = uniqueName("pub");
  const privateChannel = uniqueName("priv");
  const publicWord = uniqueWord("zephyr");
  const privateWord = uniqueWord("quokka");
  const replyWord = uniqueWord("marmot");
  const sharedWord = uniqueWord("lantern");
  const floodWord = uniqueWord("pebble");
  /** More messages than a page of history (50), so an early one opens a window of history. */
  const floodCount = 70;
  const floodText = (i: number) => `${floodWord} number ${i}`;
  const publicText = `launching the ${publicWord} ${sharedWord} today`;
  const privateText = `secret ${privateWord} plans with a ${sharedWord}`;
  const bobText = `bob brings a ${sharedWord} too`;
  const replyText = `a reply about the ${replyWord}`;

  it("alice posts in a public channel bob joins, in a private one, and in a thread", async () => {
    const a = people.alice.page;
    await createChannel(a, privateChannel, { kind: "Private" });
    await sendMessage(a, privateChannel, privateText);
    await createChannel(a, publicChannel);
    await sendMessage(a, publicChannel, publicText);
    await joinChannel(people.bob.page, publicChannel);
    await sendMessage(people.bob.page, publicChannel, bobText);

    // alice answers her public message in a thread.
    await openConversation(a, publicChannel);
    const root = messageWithText(a, publicText);
    await root.hover();
    await root.getByRole("button", { name: "Reply in thread" }).click();
    const replyBox = threadPane(a).getByRole("textbox", { name: "Reply in thread" });
    await replyBox.fill(replyText);
    await replyBox.press("Enter");
    const replies = threadPane(a).getByRole("log", { name: "Replies" });
    await messageWithText(a, replyText, replies).waitFor({ timeout: uiTimeout });
    await threadPane(a).getByRole("button", { name: "Close thread" }).click();
  }, 60_000);

  it("finds alice's messages in both channels, grouped by channel, with the matched words marked", async () => {
    const a = people.alice.page;
    await searchUntil(a, privateWord, 1);
    await searchUntil(a, sharedWord, 3);
    const publicGroup = results(a).getByRole("region", { name: publicChannel });
    const privateGroup = results(a).getByRole("region", { name: privateChannel });
    await expect.poll(() => publicGroup.getByRole("link").count()).toBe(2);
    await expect.poll(() => privateGroup.getByRole("link").count()).toBe(1);
    await expect.poll(() => results(a).getByRole("region").count()).toBe(2);
    const privateHit = privateGroup.getByRole("link", { name: privateText });
    expect(await privateHit.locator("mark").allTextContents()).toEqual([sharedWord]);
    expect(await results(a).getByRole("listitem").filter({ hasText: bobText }).textContent()).toContain(
      "bob",
    );

    await expect(a.url()).toContain(`/search?q=${sharedWord}`);
    await screenshot(a, "search");
  });

  it("never shows bob the private channel's message, and finds the public one for him", async () => {
    const b = people.bob.page;
    // alice's search above found the private word: it is indexed.
    await searchUntil(b, publicWord, 1);
    const hit = hits(b).first();
    expect((await hit.textContent())?.trim()).toBe(publicText);
    expect(await hit.locator("mark").allTextContents()).toEqual([publicWord]);

    await search(b, privateWord);
    await expect.poll(() => results(b).getByRole("status").textContent()).toBe("No results");
    expect(await hits(b).count()).toBe(0);
    await search(b, sharedWord);
    expect(await hits(b).allTextContents()).not.toContain(privateText);
    expect(await hits(b).count()).toBe(2);
    await expectAccessible(b, "the search results");
    // alice's sidebar has unread badges inside its links: their names must still match what they show.
    await expectAccessible(people.alice.page, "the search results beside a sidebar with unread badges");
  });

  it("narrows with from:@bob and in:#channel", async () => {
    const a = people.alice.page;
    await searchUntil(a, `from:@bob ${sharedWord}`, 1);
    expect((await hits(a).first().textContent())?.trim()).toBe(bobText);
    await searchUntil(a, `in:#${privateChannel} ${sharedWord}`, 1);
    expect((await hits(a).first().textContent())?.trim()).toBe(privateText);
    await expect.poll(() => results(a).getByRole("region").count()).toBe(1);
    await results(a).getByRole("region", { name: privateChannel }).waitFor({ timeout: uiTimeout });
  });

  it("opens a hit in its channel, highlighted, and the back button returns to the results", async () => {
    const a = people.alice.page;
    await searchUntil(a, publicWord, 1);
    await hits(a).first().click();
    await mainPane(a)
      .getByRole("heading", { name: publicChannel, exact: true })
      .waitFor({ timeout: uiTimeout });
    expect(a.url()).toMatch(/\/c\/[A-Za-z0-9_-]+\/m\/\d+$/);
    const message = messageWithText(a, publicText);
    await expect.poll(() => message.getAttribute("data-highlighted"), { timeout: uiTimeout }).toBe("true");
    await expect.poll(() => message.isVisible()).toBe(true);
    // The highlight fades after a few seconds.
    await expect.poll(() => message.getAttribute("data-highlighted"), { timeout: 8_000 }).toBeNull();

    await a.goBack();
    await results(a).waitFor({ timeout: uiTimeout });
    await expect.poll(() => searchBox(a).inputValue()).toBe(publicWord);
  });

  it("opens a reply's hit in its thread, highlighted", async () => {
    const a = people.alice.page;
    await searchUntil(a, replyWord, 1);
    await expect.poll(() => results(a).getByRole("listitem").first().textContent()).toContain("in thread");
    await hits(a).first().click();
    const replies = threadPane(a).getByRole("log", { name: "Replies" });
    const reply = messageWithText(a, replyText, replies);
    await expect.poll(() => reply.getAttribute("data-highlighted"), { timeout: uiTimeout }).toBe("true");
    expect(a.url()).toMatch(/\/c\/[A-Za-z0-9_-]+\/t\/[A-Za-z0-9_-]+\/m\/\d+$/);
    await messageLog(a).waitFor({ timeout: uiTimeout });
  });

  it("suggests people after from: and channels after in:, picked with Tab or Enter", async () => {
    const a = people.alice.page;
    const box = searchBox(a);
    const suggestions = a.getByRole("listbox", { name: "Search suggestions" });
    await box.fill("");
    await box.pressSequentially("from:bo");
    await suggestions.getByRole("option", { name: /bob/ }).waitFor({ timeout: uiTimeout });
    await box.press("Tab");
    await expect.poll(() => box.inputValue()).toBe("from:@bob ");
    await expect.poll(() => suggestions.count()).toBe(0);

    await box.pressSequentially(`in:${privateChannel.slice(0, 5)}`);
    await suggestions
      .getByRole("option", { name: new RegExp(privateChannel) })
      .waitFor({ timeout: uiTimeout });
    await box.press("Enter");
    await expect.poll(() => box.inputValue()).toBe(`from:@bob in:#${privateChannel} `);
    // Enter again runs the search: bob wrote nothing in the private channel.
    await box.press("Enter");
    await expect
      .poll(() => results(a).getByRole("status").textContent(), { timeout: uiTimeout })
      .toBe("No results");
  });

  it("works on a phone: one pane, a public channel's hit opens for someone not in it", async () => {
    const carol = await web.signIn("carol", { viewport: { width: 375, height: 740 } });
    const c = carol.page;
    await searchUntil(c, publicWord, 1);
    await results(c).getByRole("region", { name: publicChannel }).waitFor({ timeout: uiTimeout });
    await expect.poll(() => c.getByRole("navigation", { name: "Conversations" }).isVisible()).toBe(false);
    await expectAccessible(c, "the search results on a phone");
    await screenshot(c, "search-phone");
    await hits(c).first().click();
    const message = messageWithText(c, publicText);
    await expect.poll(() => message.getAttribute("data-highlighted"), { timeout: uiTimeout }).toBe("true");
    await c.getByRole("button", { name: "Back to conversations" }).click();
    await c.getByRole("navigation", { name: "Conversations" }).waitFor({ timeout: uiTimeout });
  });

  it("orders by relevance on request, pages with Load more, and shows a failed search", async () => {
    const b = people.bob.page;
    await openConversation(b, publicChannel);
    for (let i = 0; i < floodCount; i++) await sendMessage(b, publicChannel, floodText(i));
    // The index follows the log in order: once the last one is found, all are.
    await searchUntil(b, `"${floodText(floodCount - 1)}"`, 1);
    await searchUntil(b, floodWord, 20);
    const loadMore = results(b).getByRole("button", { name: "Load more" });
    await loadMore.click();
    await expect.poll(() => hits(b).count(), { timeout: uiTimeout }).toBe(40);
    expect(new Set(await hits(b).allTextContents()).size).toBe(40);
    await loadMore.click();
    await loadMore.click();
    await expect.poll(() => hits(b).count(), { timeout: uiTimeout }).toBe(floodCount);
    await expect.poll(() => loadMore.count()).toBe(0);

    const relevant = results(b).getByRole("button", { name: "Most relevant" });
    await relevant.click();
    await expect.poll(() => relevant.getAttribute("aria-pressed")).toBe("true");
    expect(b.url()).toContain("sort=relevance");
    await expect.poll(() => hits(b).count(), { timeout: uiTimeout }).toBe(20);

    await search(b, "!!!");
    await expect
      .poll(() => results(b).getByRole("alert").textContent(), { timeout: uiTimeout })
      .toMatch(/^Could not search/);
  }, 60_000);

  it("opens an old message in a window of history, loads newer pages on scrolling down, and a send goes to the end", async () => {
    const b = people.bob.page;
    await searchUntil(b, `"${floodText(0)}"`, 1);
    // A reload forgets the messages bob's page held (all of them: he sent them).
    await b.reload();
    await hits(b).first().waitFor({ timeout: uiTimeout });
    await hits(b).first().click();
    const oldest = messageWithText(b, floodText(0));
    await expect.poll(() => oldest.getAttribute("data-highlighted"), { timeout: uiTimeout }).toBe("true");
    // The newest messages are not loaded yet: the log is the stretch around the hit.
    const newest = messageWithText(b, floodText(floodCount - 1));
    expect(await newest.count()).toBe(0);
    await expect.poll(() => messageLog(b).getByText("Loading newer messages…").count()).toBe(1);

    // Scrolling to the end brings the newer pages, each message once.
    await expect
      .poll(
        async () => {
          await messageLog(b).evaluate((el) => {
            el.scrollTop = el.scrollHeight;
          });
          return newest.count();
        },
        { timeout: uiTimeout },
      )
      .toBe(1);
    const texts = (await messageTexts(b)).filter((t) => t.startsWith(floodWord));
    expect(texts).toEqual(Array.from({ length: floodCount }, (_, i) => floodText(i)));
    await expect.poll(() => messageLog(b).getByText("Loading newer messages…").count()).toBe(0);

    // From a window again, sending goes to the end, where the message shows.
    await b.goBack();
    await results(b).waitFor({ timeout: uiTimeout });
    await hits(b).first().click();
    await expect.poll(() => oldest.getAttribute("data-highlighted"), { timeout: uiTimeout }).toBe("true");
    await sendMessage(b, publicChannel, "back to the present");
    await newest.waitFor({ timeout: uiTimeout });
  }, 60_000);
});
