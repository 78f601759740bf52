/**
 * The one contract suite of the `BlobStore` port. Every adapter runs it against its real
 * server: the local-disk store behind Colink's own blob routes on a bare uWS app
 * (transport/blob-routes.test.ts) and the S3 store against S3Mock (adapters/s3). Signed
 * URLs are used as a client uses them, with fetch.
 *
 * What only one adapter can show (the local store refusing expired or altered URLs; S3Mock
 * checks no signatures) is tested beside that adapter. Each test uses keys of its own.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlobStore } from "../core/ports.js";

/** The bytes of a stream, together. */
export async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A key no other test uses. */
function freshKey(): string {
  return `F${randomBytes(6).toString("hex")}/${randomBytes(6).toString("hex")}`;
}

/** PUTs `body` to an upload URL as a browser would. */
async function put(url: string, body: Uint8Array, contentType: string): Promise<Response> {
  // A copy over a plain ArrayBuffer: what the DOM types of fetch take.
  return fetch(url, { method: "PUT", body: new Uint8Array(body), headers: { "content-type": contentType } });
}

/**
 * Registers the BlobStore contract for one adapter. `open` runs in the suite's `beforeAll`
 * (after the file's own), and the store is closed in its `afterAll`.
 */
export function describeBlobStoreContract(name: string, open: () => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let opened: BlobStore | null = null;
    const store = () => opened!;

    beforeAll(async () => {
      opened = await open();
    });
    afterAll(async () => {
      await opened?.close();
    });

    it("stores what is PUT to an upload URL, and a download URL gives it back with its type and file name", async () => {
      const key = freshKey();
      const body = randomBytes(300_000);
      const before = Date.now();
      const upload = await store().uploadUrl("files", key, {
        contentType: "application/pdf",
        size: body.length,
        expiresInSec: 300,
      });
      expect(upload.expiresAt).toBeGreaterThanOrEqual(before + 299_000);
      expect(upload.expiresAt).toBeLessThanOrEqual(Date.now() + 301_000);
      const stored = await put(upload.url, body, "application/pdf");
      expect(stored.ok, await stored.text()).toBe(true);
      expect(await store().stat("files", key)).toEqual({ size: body.length });

      const download = await store().downloadUrl("files", key, {
        expiresInSec: 60,
        fileName: 'Résumé "final" 2024.pdf',
        contentType: "application/pdf",
      });
      const got = await fetch(download.url);
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("application/pdf");
      const disposition = got.headers.get("content-disposition") ?? "";
      expect(disposition).toMatch(/^attachment; /);
      expect(disposition).toContain("filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%202024.pdf");
      expect(Buffer.from(await got.arrayBuffer()).equals(body)).toBe(true);
    });

    it("stores an empty upload", async () => {
      const key = freshKey();
      const upload = await store().uploadUrl("files", key, {
        contentType: "text/plain",
        size: 0,
        expiresInSec: 60,
      });
      const stored = await put(upload.url, new Uint8Array(0), "text/plain");
      expect(stored.ok, await stored.text()).toBe(true);
      expect(await store().stat("files", key)).toEqual({ size: 0 });
      const got = await fetch((await store().downloadUrl("files", key, { expiresInSec: 60 })).url);
      expect(got.status).toBe(200);
      expect((await got.arrayBuffer()).byteLength).toBe(0);
    });

    it("read streams an uploaded object's bytes", async () => {
      const key = freshKey();
      const body = randomBytes(3 * 1024 * 1024 + 17);
      const upload = await store().uploadUrl("files", key, {
        contentType: "application/octet-stream",
        size: body.length,
        expiresInSec: 60,
      });
      expect((await put(upload.url, body, "application/octet-stream")).ok).toBe(true);
      let chunks = 0;
      const read: Buffer[] = [];
      for await (const chunk of await store().read("files", key)) {
        chunks++;
        read.push(Buffer.from(chunk));
      }
      expect(Buffer.concat(read).equals(body)).toBe(true);
      expect(chunks).toBeGreaterThan(1);
    });

    it("write then read gives the same bytes, in every bucket, and a second write replaces the first", async () => {
      for (const bucket of ["files", "avatars", "thumbnails"] as const) {
        const key = freshKey();
        const first = randomBytes(10_000);
        await store().write(bucket, key, first, "image/webp");
        expect(await store().stat(bucket, key)).toEqual({ size: first.length });
        expect((await bytesOf(await store().read(bucket, key))).equals(first)).toBe(true);
        const second = randomBytes(5_000);
        await store().write(bucket, key, second, "image/webp");
        expect((await bytesOf(await store().read(bucket, key))).equals(second)).toBe(true);
      }
    });

    it("a written object is downloadable through a download URL", async () => {
      const key = freshKey();
      const body = randomBytes(2_000);
      await store().write("thumbnails", key, body, "image/webp");
      const got = await fetch(
        (await store().downloadUrl("thumbnails", key, { expiresInSec: 60, contentType: "image/webp" })).url,
      );
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("image/webp");
      expect(Buffer.from(await got.arrayBuffer()).equals(body)).toBe(true);
    });

    it("remove makes the object gone, and removing a missing object is fine", async () => {
      const key = freshKey();
      await store().write("avatars", key, randomBytes(100), "image/png");
      await store().remove("avatars", key);
      expect(await store().stat("avatars", key)).toBeNull();
      await expect(store().read("avatars", key)).rejects.toThrow();
      await store().remove("avatars", key);
      await store().remove("avatars", freshKey());
    });

    it("stat of a missing object is null and read of it rejects", async () => {
      const key = freshKey();
      expect(await store().stat("files", key)).toBeNull();
      await expect(store().read("files", key)).rejects.toThrow();
    });

    it("a download URL of a missing object answers 404", async () => {
      const got = await fetch((await store().downloadUrl("files", freshKey(), { expiresInSec: 60 })).url);
      expect(got.status).toBe(404);
    });
  });
}
