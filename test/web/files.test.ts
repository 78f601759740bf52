/**
 * Files in the web app, against a real server with its files on local disk and a real
 * clamd (test/support/clamav.ts): alice attaches (by the button `Attach files`, the file
 * input, a drop on the conversation and a paste into the composer), sees each upload's
 * progress in a chip, and sends; bob's page shows what the scan allows, live: a clean
 * image's thumbnail (and the viewer with its download), a text file's card with its
 * download, and the EICAR test file as "Scanning…" while clamd is down and then
 * quarantined, never with a link. Refusals of `file.begin` show in the composer.
 *
 * Everything is found by role, accessible name or alt text (docs/web.md, "Files").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ColinkClient } from "../../client/index.js";
import { connectAs } from "../harness.js";
import {
  composer,
  createChannel,
  expectAccessible,
  holdUploads,
  joinChannel,
  mainPane,
  messageLog,
  screenshot,
  twoPeopleForBlock,
  uiTimeout,
  uniqueName,
  waitForMessage,
  webForBlock,
} from "../support/browser.js";
import { eicarTestFile, startClamd, type TestClamd } from "../support/clamav.js";
import { naturalWidth, png } from "../support/images.js";

/** The largest upload the server takes in these tests: 2 MB. */
const maxBytes = 2 * 1024 * 1024;
/** How long a scan (and the thumbnails after it) may take to show on the other page. */
const scanTimeout = 30_000;

describe("files in the web app, scanned by clamd", () => {
  let clamd: TestClamd | null = null;
  beforeAll(async () => {
    clamd = await startClamd();
  });
  afterAll(async () => {
    await clamd?.cleanup();
  });
  const web = webForBlock(() => ({
    CLAMAV_URL: `tcp://${clamd!.host}:${clamd!.port}`,
    COLINK_MAX_FILE_BYTES: String(maxBytes),
    COLINK_FILE_TYPES: "image/*,text/plain",
  }));
  const people = twoPeopleForBlock(web);

  /** A public channel alice created and bob joined, open on both pages. */
  async function sharedChannel(prefix: string): Promise<string> {
    const name = uniqueName(prefix);
    await createChannel(people.alice.page, name);
    await joinChannel(people.bob.page, name);
    return name;
  }

  /** The composer's attachment chips (`list` "Attachments") on alice's page. */
  const chips = () => mainPane(people.alice.page).getByRole("list", { name: "Attachments" });

  /** Waits until every attachment in alice's composer is uploaded (no progress bar left). */
  async function uploaded(names: string[]): Promise<void> {
    for (const name of names) {
      await chips().getByRole("listitem").filter({ hasText: name }).waitFor({ timeout: uiTimeout });
    }
    await expect.poll(() => chips().getByRole("progressbar").count(), { timeout: uiTimeout }).toBe(0);
  }

  it("uploads an image with a progress bar, then shows its thumbnail to the other, and opens it in the viewer", async () => {
    const a = people.alice.page;
    const b = people.bob.page;
    const name = await sharedChannel("pics");
    const image = await png(640, 360);

    // The PUT is held until the chip's progress bar and the disabled Send have been seen.
    const uploads = await holdUploads(a, "files");
    const chooser = a.waitForEvent("filechooser");
    await mainPane(a).getByRole("button", { name: "Attach files" }).click();
    await (await chooser).setFiles({ name: "whiteboard.png", mimeType: "image/png", buffer: image });
    const progress = chips().getByRole("progressbar", { name: "Uploading whiteboard.png" });
    await progress.waitFor({ timeout: uiTimeout });
    const chip = chips().getByRole("listitem").filter({ hasText: "whiteboard.png" });
    expect(await chip.textContent()).toMatch(/\d+(\.\d)? KB/);
    await composer(a, name).fill("the whiteboard");
    await screenshot(a, "files-uploading");
    const send = mainPane(a).getByRole("button", { name: "Send", exact: true });
    expect(await send.isDisabled()).toBe(true);
    await uploads.release();
    await progress.waitFor({ state: "hidden", timeout: uiTimeout });
    await expect.poll(() => send.isDisabled()).toBe(false);
    await composer(a, name).press("Enter");

    // bob sees the thumbnail once clamd has passed it, without reloading; so does alice.
    const onBob = await waitForMessage(b, "the whiteboard");
    const thumbnail = onBob.getByAltText("whiteboard.png", { exact: true });
    await thumbnail.waitFor({ timeout: scanTimeout });
    await expect.poll(() => thumbnail.evaluate(naturalWidth), { timeout: uiTimeout }).toBe(480);
    const onAlice = await waitForMessage(a, "the whiteboard");
    await expect
      .poll(() => onAlice.getByAltText("whiteboard.png", { exact: true }).evaluate(naturalWidth), {
        timeout: scanTimeout,
      })
      .toBe(480);
    expect(await onAlice.getAttribute("data-pending")).toBeNull();

    // The viewer: the image at full size and its download, closed by Esc.
    await onBob.getByRole("button", { name: "View whiteboard.png" }).click();
    const viewer = b.getByRole("dialog", { name: "whiteboard.png" });
    await viewer.waitFor({ timeout: uiTimeout });
    await expect
      .poll(() => viewer.getByAltText("whiteboard.png", { exact: true }).evaluate(naturalWidth), {
        timeout: uiTimeout,
      })
      .toBe(640);
    const href = await viewer.getByRole("link", { name: "Download whiteboard.png" }).getAttribute("href");
    expect(href?.startsWith(`${web.server.baseUrl}/v1/blobs/files/`)).toBe(true);
    const download = await fetch(href!);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toMatch(/^attachment;.*whiteboard\.png/);
    expect(Buffer.from(await download.arrayBuffer()).equals(image)).toBe(true);
    await expectAccessible(b, "the image viewer");
    await screenshot(b, "files-viewer");
    await b.keyboard.press("Escape");
    await viewer.waitFor({ state: "hidden", timeout: uiTimeout });
    await expectAccessible(b, "a channel with an image");

    expect(people.alice.problems).toEqual([]);
    expect(people.bob.problems).toEqual([]);
  });

  it("shows the EICAR file as scanning while clamd is down, then quarantined, never with a download", async () => {
    const a = people.alice.page;
    const b = people.bob.page;
    const name = await sharedChannel("virus");
    // bob through the SDK, to ask the server what the page must not offer.
    let bobSdk: ColinkClient | null = null;
    await clamd!.stop();
    let clamdDown = true;
    try {
      await mainPane(a)
        .locator('input[type="file"]')
        .setInputFiles({ name: "eicar.txt", mimeType: "text/plain", buffer: Buffer.from(eicarTestFile) });
      await uploaded(["eicar.txt"]);
      await composer(a, name).fill("look at this");
      await composer(a, name).press("Enter");

      const onBob = await waitForMessage(b, "look at this");
      const card = onBob.getByRole("group", { name: "eicar.txt" });
      await expect.poll(() => card.textContent(), { timeout: uiTimeout }).toContain("Scanning…");
      expect(await onBob.locator("a[href]").count()).toBe(0);
      await screenshot(b, "files-scanning");
      const fileId = await card.getAttribute("data-file-id");
      expect(fileId).toEqual(expect.any(String));
      bobSdk = (await connectAs(web.server, "bob")).client;
      expect(await bobSdk.request("file.get", { fileId: fileId! })).toMatchObject({
        file: { status: "pending", name: "eicar.txt" },
        url: null,
      });
      await clamd!.restart();
      clamdDown = false;

      // The verdict arrives live (file.updated): no reload, no polling by the page.
      await expect
        .poll(() => card.textContent(), { timeout: scanTimeout })
        .toContain("Quarantined: this file contained a virus");
      expect(await card.textContent()).not.toContain("Scanning…");
      expect(await onBob.locator("a[href]").count()).toBe(0);
      expect(await onBob.getByRole("link").count()).toBe(0);
      expect(await bobSdk.request("file.get", { fileId: fileId! })).toMatchObject({
        file: { status: "infected" },
        url: null,
        thumbnails: {},
      });
      await screenshot(b, "files-quarantined");
      // alice, who uploaded it, has no link to it either.
      const onAlice = await waitForMessage(a, "look at this");
      await expect
        .poll(() => onAlice.getByRole("group", { name: "eicar.txt" }).textContent(), { timeout: uiTimeout })
        .toContain("Quarantined: this file contained a virus");
      expect(await onAlice.locator("a[href]").count()).toBe(0);
    } finally {
      await bobSdk?.close();
      if (clamdDown) await clamd!.restart();
    }
    expect(people.bob.problems).toEqual([]);
  });

  it("attaches a file dropped on the conversation and an image pasted into the composer, and sends them without text", async () => {
    const a = people.alice.page;
    const b = people.bob.page;
    const name = await sharedChannel("drop");
    const pasted = (await png(200, 100)).toString("base64");

    const dropped = await a.evaluateHandle(() => {
      const data = new DataTransfer();
      data.items.add(new File(["minutes of the meeting"], "notes.txt", { type: "text/plain" }));
      return data;
    });
    await mainPane(a).dispatchEvent("dragenter", { dataTransfer: dropped });
    await mainPane(a).dispatchEvent("dragover", { dataTransfer: dropped });
    await mainPane(a).dispatchEvent("drop", { dataTransfer: dropped });
    await composer(a, name).evaluate((box, base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
      box.dispatchEvent(
        new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }),
      );
    }, pasted);
    await uploaded(["notes.txt", "pasted.png"]);
    expect(await composer(a, name).inputValue()).toBe("");
    await mainPane(a).getByRole("button", { name: "Send", exact: true }).click();
    await chips().waitFor({ state: "hidden", timeout: uiTimeout });

    const onBob = messageLog(b)
      .getByRole("article")
      .filter({ has: b.getByRole("group", { name: "notes.txt" }) });
    await onBob.waitFor({ timeout: uiTimeout });
    const link = onBob.getByRole("link", { name: "Download notes.txt" });
    await link.waitFor({ timeout: scanTimeout });
    const download = await fetch((await link.getAttribute("href"))!);
    expect(await download.text()).toBe("minutes of the meeting");
    expect(await onBob.getByRole("group", { name: "notes.txt" }).textContent()).toContain("22 B");
    await expect
      .poll(() => onBob.getByAltText("pasted.png", { exact: true }).evaluate(naturalWidth), {
        timeout: scanTimeout,
      })
      .toBe(200);
    await screenshot(b, "files-dropped-and-pasted");
    expect(people.alice.problems).toEqual([]);
    expect(people.bob.problems).toEqual([]);
  });

  it("says in the composer why a file cannot be attached, and removes an attachment before sending", async () => {
    const a = people.alice.page;
    const name = await sharedChannel("refused");
    const main = mainPane(a);
    const input = main.locator('input[type="file"]');
    const alert = main.getByRole("alert");

    await input.setInputFiles({
      name: "huge.png",
      mimeType: "image/png",
      buffer: Buffer.alloc(maxBytes + 1),
    });
    await expect
      .poll(() => alert.textContent(), { timeout: uiTimeout })
      .toContain("Could not attach huge.png: it is larger than 2 MB, the largest file allowed");
    await input.setInputFiles({
      name: "tool.exe",
      mimeType: "application/x-msdownload",
      buffer: Buffer.from("MZ"),
    });
    await expect
      .poll(() => alert.textContent(), { timeout: uiTimeout })
      .toContain("Could not attach tool.exe: files of type application/x-msdownload are not allowed");
    expect(await chips().count()).toBe(0);
    await expectAccessible(a, "the composer with an error");
    await screenshot(a, "files-refused");
    await alert.getByRole("button", { name: "Dismiss error" }).click();
    await alert.waitFor({ state: "hidden", timeout: uiTimeout });

    await input.setInputFiles({ name: "draft.txt", mimeType: "text/plain", buffer: Buffer.from("not yet") });
    await uploaded(["draft.txt"]);
    const send = main.getByRole("button", { name: "Send", exact: true });
    expect(await send.isDisabled()).toBe(false);
    await chips().getByRole("button", { name: "Remove draft.txt" }).click();
    await chips().waitFor({ state: "hidden", timeout: uiTimeout });
    expect(await send.isDisabled()).toBe(true);
    expect(await composer(a, name).inputValue()).toBe("");
    expect(people.alice.problems).toEqual([]);
  });
});
