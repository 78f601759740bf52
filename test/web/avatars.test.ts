/**
 * Avatars in the web app, against a real server with its files on local disk and a real
 * clamd (test/support/clamav.ts): alice sets an avatar through the header's `Change avatar`
 * and the dialog `Your avatar` (a PNG made with sharp: its upload's progress, the scan, then
 * the image in the dialog and the header), sends a message, and bob's page shows her image
 * next to it, by her name in "New message" and on their DM in the sidebar; she removes it, and bob's page shows her initial again once reloaded (other
 * people's profiles are read when a page meets them: the server tells only the user of a
 * change). Images that cannot be avatars say why in the dialog: not one of the four types,
 * too large, and the EICAR test file (quarantined by the scan, never linked).
 *
 * Everything is found by role, accessible name, alt text or the `avatar` test id
 * (docs/web.md, "Avatars").
 */
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  composer,
  createChannel,
  expectAccessible,
  holdUploads,
  joinChannel,
  openConversation,
  screenshot,
  sidebar,
  twoPeopleForBlock,
  uiTimeout,
  uniqueName,
  waitForMessage,
  webForBlock,
} from "../support/browser.js";
import { eicarTestFile, startClamd, type TestClamd } from "../support/clamav.js";
import { naturalWidth, png } from "../support/images.js";

/** How long a scan (and the thumbnails after it) may take to show. */
const scanTimeout = 30_000;

/** The header's button that opens the dialog `Your avatar`. */
function changeAvatar(page: Page): Locator {
  return page.getByRole("banner").getByRole("button", { name: "Change avatar" });
}

/** Opens the dialog `Your avatar` from the header. */
async function openAvatarDialog(page: Page): Promise<Locator> {
  await changeAvatar(page).click();
  const dialog = page.getByRole("dialog", { name: "Your avatar" });
  await dialog.waitFor({ timeout: uiTimeout });
  return dialog;
}

/** The avatar shown next to a message (decorative: found by its test id). */
function avatarOf(message: Locator): Locator {
  return message.getByTestId("avatar");
}

describe("avatars in the web app, scanned by clamd", () => {
  let clamd: TestClamd | null = null;
  beforeAll(async () => {
    clamd = await startClamd();
  });
  afterAll(async () => {
    await clamd?.cleanup();
  });
  const web = webForBlock(() => ({ CLAMAV_URL: `tcp://${clamd!.host}:${clamd!.port}` }));
  const people = twoPeopleForBlock(web);

  it("sets an avatar that the other person sees next to a message, and removes it", async () => {
    const a = people.alice.page;
    const b = people.bob.page;
    const image = await png(256, 256);

    // The PUT is held until the dialog's progress bar has been seen.
    const uploads = await holdUploads(a, "avatars");
    const dialog = await openAvatarDialog(a);
    expect(await dialog.textContent()).toContain("You have no avatar");
    expect(await dialog.getByRole("button", { name: "Remove avatar" }).count()).toBe(0);
    const chooser = a.waitForEvent("filechooser");
    await dialog.getByRole("button", { name: "Choose image" }).click();
    await (await chooser).setFiles({ name: "face.png", mimeType: "image/png", buffer: image });
    const progress = dialog.getByRole("progressbar", { name: "Uploading face.png" });
    await progress.waitFor({ timeout: uiTimeout });
    expect(await dialog.getByRole("status").textContent()).toBe("Uploading face.png…");
    await uploads.release();
    await progress.waitFor({ state: "hidden", timeout: uiTimeout });

    // Scanned and linked: the preview (the medium thumbnail: 256 px, never enlarged) and the header's avatar (the small one).
    await expect
      .poll(() => dialog.getByRole("status").textContent(), { timeout: scanTimeout })
      .toBe("Your avatar is set");
    const preview = dialog.getByAltText("alice's avatar", { exact: true });
    await expect.poll(() => preview.evaluate(naturalWidth), { timeout: uiTimeout }).toBe(256);
    await expect
      .poll(() => changeAvatar(a).locator("img").evaluate(naturalWidth), { timeout: uiTimeout })
      .toBe(96);
    expect(await changeAvatar(a).locator("img").getAttribute("alt")).toBe("");
    await expectAccessible(a, "the dialog Your avatar");
    await screenshot(a, "avatar-dialog");
    await a.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden", timeout: uiTimeout });

    // bob meets alice in a channel: her avatar is next to her message (decorative: alt="").
    const name = uniqueName("faces");
    await createChannel(a, name);
    await joinChannel(b, name);
    await composer(a, name).fill("hello with a face");
    await composer(a, name).press("Enter");
    const onBob = await waitForMessage(b, "hello with a face");
    const bobSees = avatarOf(onBob).locator("img");
    await expect.poll(() => bobSees.evaluate(naturalWidth), { timeout: uiTimeout }).toBe(96);
    expect(await bobSees.getAttribute("alt")).toBe("");
    const onAlice = await waitForMessage(a, "hello with a face");
    await expect
      .poll(() => avatarOf(onAlice).locator("img").evaluate(naturalWidth), { timeout: uiTimeout })
      .toBe(96);
    await expectAccessible(b, "a channel with avatars");
    await screenshot(b, "avatar-in-messages");

    // bob starts a DM with her: her avatar is by her name in "New message", then in the sidebar.
    await sidebar(b).getByRole("button", { name: "New message" }).click();
    const newMessage = b.getByRole("dialog", { name: "New message" });
    await newMessage.waitFor({ timeout: uiTimeout });
    await newMessage.getByRole("textbox", { name: "Find people" }).fill("alice");
    const person = newMessage.getByRole("checkbox", { name: "alice", exact: true });
    await person.waitFor({ timeout: uiTimeout });
    await expect
      .poll(() => newMessage.getByTestId("avatar").locator("img").evaluate(naturalWidth), {
        timeout: uiTimeout,
      })
      .toBe(96);
    await person.check();
    await newMessage.getByRole("button", { name: "Open conversation" }).click();
    await newMessage.waitFor({ state: "hidden", timeout: uiTimeout });
    const dm = sidebar(b).getByRole("link", { name: "alice", exact: true });
    await dm.waitFor({ timeout: uiTimeout });
    await expect
      .poll(() => dm.getByTestId("avatar").locator("img").evaluate(naturalWidth), { timeout: uiTimeout })
      .toBe(96);
    expect(await dm.getByTestId("presence").count()).toBe(1);
    await screenshot(b, "avatar-in-sidebar");
    await openConversation(b, name);

    // alice removes it: her own page shows her initial at once …
    const again = await openAvatarDialog(a);
    await again.getByRole("button", { name: "Remove avatar" }).click();
    await expect
      .poll(() => again.getByRole("status").textContent(), { timeout: uiTimeout })
      .toBe("Your avatar was removed");
    expect(await again.getByRole("img").count()).toBe(0);
    expect(await again.getByRole("button", { name: "Remove avatar" }).count()).toBe(0);
    await a.keyboard.press("Escape");
    await expect.poll(() => changeAvatar(a).locator("img").count(), { timeout: uiTimeout }).toBe(0);
    await expect.poll(() => avatarOf(onAlice).locator("img").count(), { timeout: uiTimeout }).toBe(0);
    expect((await avatarOf(onAlice).textContent())?.trim()).toBe("A");

    // … and bob's once his page reads her profile again.
    await b.reload();
    const reloaded = await waitForMessage(b, "hello with a face");
    await expect.poll(() => avatarOf(reloaded).textContent(), { timeout: uiTimeout }).toBe("A");
    expect(await avatarOf(reloaded).locator("img").count()).toBe(0);

    expect(people.alice.problems).toEqual([]);
    expect(people.bob.problems).toEqual([]);
  });

  it("says why an image cannot be an avatar: not one of the four types, too large, a virus", async () => {
    const a = people.alice.page;
    const dialog = await openAvatarDialog(a);
    const input = dialog.locator('input[type="file"]');
    const alert = dialog.getByRole("alert");
    expect(await input.getAttribute("accept")).toBe("image/png,image/jpeg,image/gif,image/webp");

    await input.setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hi") });
    await expect
      .poll(() => alert.textContent(), { timeout: uiTimeout })
      .toContain("Could not use notes.txt: an avatar must be a PNG, JPEG, GIF or WebP image");
    await alert.getByRole("button", { name: "Dismiss error" }).click();
    await alert.waitFor({ state: "hidden", timeout: uiTimeout });

    await input.setInputFiles({
      name: "huge.png",
      mimeType: "image/png",
      buffer: Buffer.alloc(5 * 1024 * 1024 + 1),
    });
    await expect
      .poll(() => alert.textContent(), { timeout: uiTimeout })
      .toContain("Could not use huge.png: it is larger than 5 MB, the largest avatar allowed");
    await expectAccessible(a, "the dialog Your avatar with an error");

    await input.setInputFiles({
      name: "virus.png",
      mimeType: "image/png",
      buffer: Buffer.from(eicarTestFile),
    });
    await expect
      .poll(() => alert.textContent(), { timeout: scanTimeout })
      .toContain("Could not use virus.png: it contained a virus");
    expect(await changeAvatar(a).locator("img").count()).toBe(0);
    await screenshot(a, "avatar-refused");
    await a.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden", timeout: uiTimeout });
    expect(people.alice.problems).toEqual([]);
  });
});
