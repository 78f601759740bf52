/**
 * Two people chatting in the web app, each in their own browser context against one real
 * server (PGlite): alice creates a channel and bob finds it in "Browse channels"; both send,
 * and both pages show the same messages in the same order; reactions, thread replies,
 * mentions, the typing indicator and a direct message all travel from one page to the other.
 *
 * This is the app's main path seen only through what a user (or a screen reader) sees: the
 * roles and accessible names of docs/web.md. It proves the store, the optimistic sends and
 * the SDK events fit together in a browser: what one page does, the other shows, once.
 */
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  addReaction,
  badge,
  composer,
  conversationLink,
  createChannel,
  joinChannel,
  mainPane,
  messageLog,
  messageTexts,
  messageWithText,
  openConversation,
  reactionState,
  reactionToggle,
  sendMessage,
  sidebar,
  threadPane,
  twoPeopleForBlock,
  typingText,
  uiTimeout,
  uniqueName,
  waitForMessage,
  webForBlock,
} from "../support/browser.js";

describe("two people chatting in the web app", () => {
  const web = webForBlock();
  const people = twoPeopleForBlock(web);

  /** A channel alice created and bob joined, open on both pages. */
  async function sharedChannel(prefix: string): Promise<string> {
    const name = uniqueName(prefix);
    await createChannel(people.alice.page, name, { topic: `where ${prefix} is tested` });
    await joinChannel(people.bob.page, name);
    return name;
  }

  it("creates a channel, joins it from Browse channels, and shows the same messages in the same order", async () => {
    const a = people.alice.page;
    const b = people.bob.page;
    const name = await sharedChannel("room");
    await expect.poll(() => conversationLink(a, name).getAttribute("aria-current")).toBe("page");
    await expect.poll(() => conversationLink(b, name).getAttribute("aria-current")).toBe("page");

    // Turns first, each waiting for the other to see it...
    await sendMessage(a, name, "hello from alice");
    await waitForMessage(b, "hello from alice");
    await sendMessage(b, name, "hi alice, bob here");
    await waitForMessage(a, "hi alice, bob here");
    // ...then both at once, so that the server, not the pages, decides the order.
    const burst = [0, 1, 2].flatMap((i) => [`alice burst ${i}`, `bob burst ${i}`]);
    await Promise.all([
      (async () => {
        for (let i = 0; i < 3; i++) await sendMessage(a, name, `alice burst ${i}`);
      })(),
      (async () => {
        for (let i = 0; i < 3; i++) await sendMessage(b, name, `bob burst ${i}`);
      })(),
    ]);
    const all = ["hello from alice", "hi alice, bob here", ...burst];
    await expect
      .poll(async () => (await messageTexts(a)).filter((t) => all.includes(t)).length, { timeout: uiTimeout })
      .toBe(all.length);
    await expect
      .poll(async () => (await messageTexts(b)).filter((t) => all.includes(t)).length, { timeout: uiTimeout })
      .toBe(all.length);
    const seenByAlice = await messageTexts(a);
    const seenByBob = await messageTexts(b);
    expect(seenByBob).toEqual(seenByAlice);
    // Each once, and each person's own messages in the order they were sent.
    expect(new Set(seenByAlice).size).toBe(seenByAlice.length);
    expect(seenByAlice.filter((t) => t.startsWith("alice burst"))).toEqual(
      [0, 1, 2].map((i) => `alice burst ${i}`),
    );
    expect(seenByAlice.filter((t) => t.startsWith("bob burst"))).toEqual(
      [0, 1, 2].map((i) => `bob burst ${i}`),
    );
    expect(seenByAlice.slice(0, 2)).toEqual(["hello from alice", "hi alice, bob here"]);
    // No message is left pending once both pages agree.
    await expect.poll(() => messageLog(a).locator('article[data-pending="true"]').count()).toBe(0);
    // Both are reading the channel to its end: it has nothing unread for either.
    await expect.poll(() => badge(a, name, "unread-count"), { timeout: uiTimeout }).toBe(0);
    await expect.poll(() => badge(b, name, "unread-count"), { timeout: uiTimeout }).toBe(0);
    expect(people.alice.problems).toEqual([]);
    expect(people.bob.problems).toEqual([]);
  });

  it("shows reactions to both: the count to everyone, pressed for the people who reacted", async () => {
    const a = people.alice.page;
    const b = people.bob.page;
    const name = await sharedChannel("react");
    await sendMessage(b, name, "react to this");
    const onAlice = await waitForMessage(a, "react to this");
    const onBob = messageWithText(b, "react to this");

    const emoji = await addReaction(a, onAlice);
    expect(emoji).not.toBe("");
    await expect.poll(() => reactionState(onAlice, emoji)).toEqual({ name: `${emoji} 1`, pressed: "true" });
    await expect
      .poll(() => reactionState(onBob, emoji), { timeout: uiTimeout })
      .toEqual({ name: `${emoji} 1`, pressed: "false" });

    // bob adds his by the toggle: 2 for both, pressed for each.
    await reactionToggle(onBob, emoji).click();
    await expect.poll(() => reactionState(onBob, emoji)).toEqual({ name: `${emoji} 2`, pressed: "true" });
    await expect
      .poll(() => reactionState(onAlice, emoji), { timeout: uiTimeout })
      .toEqual({ name: `${emoji} 2`, pressed: "true" });

    // alice takes hers back.
    await reactionToggle(onAlice, emoji).click();
    await expect.poll(() => reactionState(onAlice, emoji)).toEqual({ name: `${emoji} 1`, pressed: "false" });
    await expect
      .poll(() => reactionState(onBob, emoji), { timeout: uiTimeout })
      .toEqual({ name: `${emoji} 1`, pressed: "true" });
  });

  it("replies in a thread: the reply shows in the Thread pane and the root counts it for the other", async () => {
    const a = people.alice.page;
    const b = people.bob.page;
    const name = await sharedChannel("thread");
    await sendMessage(a, name, "a question worth a thread");
    const rootOnAlice = messageWithText(a, "a question worth a thread");
    const rootOnBob = await waitForMessage(b, "a question worth a thread");

    await rootOnAlice.hover();
    await rootOnAlice.getByRole("button", { name: "Reply in thread" }).click();
    const paneA = threadPane(a);
    await paneA.waitFor({ timeout: uiTimeout });
    const replyBox = paneA.getByRole("textbox", { name: "Reply in thread" });
    await replyBox.fill("the first answer");
    await replyBox.press("Enter");
    const repliesA = paneA.getByRole("log", { name: "Replies" });
    await messageWithText(a, "the first answer", repliesA).waitFor({ timeout: uiTimeout });

    // bob sees the count on the root, and the reply is not in the channel's own list.
    const oneReply = rootOnBob.getByRole("button", { name: "1 reply", exact: true });
    await oneReply.waitFor({ timeout: uiTimeout });
    expect(await messageTexts(b)).not.toContain("the first answer");
    await oneReply.click();
    const paneB = threadPane(b);
    const repliesB = paneB.getByRole("log", { name: "Replies" });
    await messageWithText(b, "the first answer", repliesB).waitFor({ timeout: uiTimeout });

    // bob answers in the thread; alice's pane shows it live, and her root says 2.
    const bobBox = paneB.getByRole("textbox", { name: "Reply in thread" });
    await bobBox.fill("a second answer");
    await bobBox.press("Enter");
    await messageWithText(a, "a second answer", repliesA).waitFor({ timeout: uiTimeout });
    // (Should the pane show the root above its replies, it is not counted as one.)
    const replies = async (page: Page, log: Locator) =>
      (await messageTexts(page, log)).filter((t) => t !== "a question worth a thread");
    await expect.poll(() => replies(a, repliesA)).toEqual(["the first answer", "a second answer"]);
    await expect.poll(() => replies(b, repliesB)).toEqual(["the first answer", "a second answer"]);
    await rootOnAlice.getByRole("button", { name: "2 replies", exact: true }).waitFor({ timeout: uiTimeout });

    await paneA.getByRole("button", { name: "Close thread" }).click();
    await paneA.waitFor({ state: "hidden", timeout: uiTimeout });
    await paneB.getByRole("button", { name: "Close thread" }).click();
  });

  it("marks a mention in the sidebar of someone who has another channel open", async () => {
    const a = people.alice.page;
    const b = people.bob.page;
    const name = await sharedChannel("mention");
    const other = uniqueName("elsewhere");
    await createChannel(a, other);
    await expect.poll(() => badge(a, name, "mention-count")).toBe(0);

    await sendMessage(b, name, "@alice could you look at this?");
    await expect.poll(() => badge(a, name, "mention-count"), { timeout: uiTimeout }).toBe(1);
    await expect.poll(() => badge(a, name, "unread-count"), { timeout: uiTimeout }).toBe(1);
    // The channel alice has open gets no badge.
    expect(await badge(a, other, "mention-count")).toBe(0);
    expect(await badge(a, other, "unread-count")).toBe(0);

    // Opening it reads it: both badges go.
    await openConversation(a, name);
    await waitForMessage(a, "@alice could you look at this?");
    await expect.poll(() => badge(a, name, "mention-count"), { timeout: uiTimeout }).toBe(0);
    await expect.poll(() => badge(a, name, "unread-count"), { timeout: uiTimeout }).toBe(0);
  });

  it("suggests members when typing @ in the composer", async () => {
    const b = people.bob.page;
    const name = await sharedChannel("suggest");
    const box = composer(b, name);
    await box.click();
    await box.pressSequentially("ping @ali");
    const list = b.getByRole("listbox", { name: "Mention suggestions" });
    await list.waitFor({ timeout: uiTimeout });
    await list.getByRole("option", { name: /alice/ }).waitFor({ timeout: uiTimeout });
    await box.press("Tab");
    await expect.poll(() => box.inputValue()).toMatch(/^ping @alice\s?$/);
    await list.waitFor({ state: "hidden", timeout: uiTimeout });
    await box.fill("");
  });

  it("shows who is typing to the other person, and clears it", async () => {
    const a = people.alice.page;
    const b = people.bob.page;
    const name = await sharedChannel("typing");
    expect(await typingText(a)).toBe("");

    const box = composer(b, name);
    await box.click();
    await box.pressSequentially("I am writing something", { delay: 20 });
    await expect.poll(() => typingText(a), { timeout: uiTimeout }).toBe("bob is typing…");
    // Not to the one typing.
    expect(await typingText(b)).toBe("");
    await expect(a.getByTestId("typing-indicator").first().getAttribute("aria-live")).resolves.toBe("polite");

    await box.press("Enter");
    await waitForMessage(a, "I am writing something");
    // It goes with the message, or at the latest when the server's 5 s expire.
    await expect.poll(() => typingText(a), { timeout: uiTimeout }).toBe("");
  });

  it("opens a direct message that reaches the other person and shows up in their sidebar", async () => {
    const a = people.alice.page;
    const b = people.bob.page;
    await sidebar(a).getByRole("button", { name: "New message" }).click();
    const dialog = a.getByRole("dialog", { name: "New message" });
    await dialog.waitFor({ timeout: uiTimeout });
    await dialog.getByRole("textbox", { name: "Find people" }).fill("bob");
    const person = dialog.getByRole("checkbox", { name: /^bob\b/ });
    await person.waitFor({ timeout: uiTimeout });
    await person.check();
    await dialog.getByRole("button", { name: "Open conversation" }).click();
    await dialog.waitFor({ state: "hidden", timeout: uiTimeout });
    await mainPane(a).getByRole("heading", { name: "bob", exact: true }).waitFor({ timeout: uiTimeout });
    await expect.poll(() => conversationLink(a, "bob").getAttribute("aria-current")).toBe("page");
    // bob is signed in: his presence dot in alice's sidebar says so.
    await expect
      .poll(() => conversationLink(a, "bob").getByTestId("presence").getAttribute("data-status"), {
        timeout: uiTimeout,
      })
      .toBe("online");

    await sendMessage(a, "bob", "a private word, bob");
    await conversationLink(b, "alice").waitFor({ timeout: uiTimeout });
    await expect.poll(() => badge(b, "alice", "unread-count"), { timeout: uiTimeout }).toBe(1);
    await openConversation(b, "alice");
    await waitForMessage(b, "a private word, bob");
    await sendMessage(b, "alice", "got it");
    await waitForMessage(a, "got it");
    await expect.poll(() => badge(b, "alice", "unread-count"), { timeout: uiTimeout }).toBe(0);
    expect(await messageTexts(a)).toEqual(["a private word, bob", "got it"]);
    expect(await messageTexts(b)).toEqual(["a private word, bob", "got it"]);
  });
});
