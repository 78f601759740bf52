/**
 * The local-disk blob store without HTTP: what its signed URLs allow and refuse, which keys
 * it refuses, and that an upload becomes the object only once exactly its size arrived.
 * The store behind real HTTP (the shared contract, expiry and tampering end to end) is in
 * transport/blob-routes.test.ts.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ColinkError } from "../../core/errors.js";
import { bytesOf } from "../blob-contract.js";
import { keyProblem, LocalDiskBlobs, type LocalDiskBlobsOptions } from "./local-disk-blobs.js";

const root = mkdtempSync(join(tmpdir(), "colink-blobs-"));
const base = "https://chat.example.com";
const secret = randomBytes(32);

afterAll(() => rmSync(root, { recursive: true, force: true }));

function open(fields: Partial<LocalDiskBlobsOptions> = {}): Promise<LocalDiskBlobs> {
  return LocalDiskBlobs.open({ root, publicBaseUrl: base, secret, ...fields });
}

/** The path segments after /v1/blobs/ and the query of a signed URL. */
function parts(url: string): { bucket: string; key: string; params: URLSearchParams } {
  const u = new URL(url);
  const [bucket, ...key] = u.pathname.slice("/v1/blobs/".length).split("/").map(decodeURIComponent);
  return { bucket: bucket!, key: key.join("/"), params: u.searchParams };
}

/** A key no other test uses. */
const freshKey = () => `F${randomBytes(4).toString("hex")}/${randomBytes(4).toString("hex")}`;

/** Temp files of uploads left in the files bucket. */
const leftovers = () => readdirSync(join(root, "files")).filter((n) => n.startsWith(".upload-"));

describe("LocalDiskBlobs signed URLs", () => {
  it("an upload URL allows a PUT of its bucket, key, size and type until it expires", async () => {
    const store = await open();
    const key = "F0123/ab c+é";
    const now = Date.now();
    const signed = await store.uploadUrl("files", key, {
      contentType: "image/png",
      size: 42,
      expiresInSec: 60,
    });
    expect(signed.url.startsWith(`${base}/v1/blobs/files/F0123/ab%20c%2B%C3%A9?`)).toBe(true);
    const { bucket, key: urlKey, params } = parts(signed.url);
    expect(urlKey).toBe(key);
    expect(store.verify("PUT", bucket, urlKey, params, now)).toEqual({
      ok: true,
      op: "put",
      bucket: "files",
      key,
      size: 42,
      contentType: "image/png",
      expiresAt: signed.expiresAt,
    });
    expect(signed.expiresAt).toBeGreaterThanOrEqual(now + 60_000);
    expect(signed.expiresAt).toBeLessThan(now + 62_000);
    expect(store.verify("PUT", bucket, urlKey, params, signed.expiresAt)).toMatchObject({ ok: true });
    expect(store.verify("PUT", bucket, urlKey, params, signed.expiresAt + 1)).toMatchObject({
      ok: false,
      refusal: "expired",
    });
  });

  it("a download URL allows a GET with its file name and type, or none", async () => {
    const store = await open();
    const named = await store.downloadUrl("avatars", "U1/a", {
      expiresInSec: 30,
      fileName: "photo 1.png",
      contentType: "image/png",
    });
    const n = parts(named.url);
    expect(store.verify("GET", n.bucket, n.key, n.params, Date.now())).toMatchObject({
      ok: true,
      op: "get",
      fileName: "photo 1.png",
      contentType: "image/png",
    });
    const bare = parts((await store.downloadUrl("avatars", "U1/a", { expiresInSec: 30 })).url);
    expect(store.verify("GET", bare.bucket, bare.key, bare.params, Date.now())).toMatchObject({
      ok: true,
      fileName: null,
      contentType: null,
    });
  });

  it("refuses a URL with any signed part changed, added or dropped", async () => {
    const store = await open();
    const put = parts(
      (await store.uploadUrl("files", "F1/x", { contentType: "text/plain", size: 5, expiresInSec: 60 })).url,
    );
    const get = parts(
      (await store.downloadUrl("files", "F1/x", { expiresInSec: 60, fileName: "x.txt" })).url,
    );
    const now = Date.now();
    const changed = (params: URLSearchParams, name: string, value: string | null) => {
      const copy = new URLSearchParams(params);
      if (value === null) copy.delete(name);
      else copy.set(name, value);
      return copy;
    };
    const badSignature = { ok: false, refusal: "bad_signature" };
    expect(store.verify("PUT", "files", "F1/x", changed(put.params, "size", "6"), now)).toMatchObject(
      badSignature,
    );
    expect(store.verify("PUT", "files", "F1/x", changed(put.params, "ct", "text/html"), now)).toMatchObject(
      badSignature,
    );
    const later = String(Number(put.params.get("exp")) + 3600);
    expect(store.verify("PUT", "files", "F1/x", changed(put.params, "exp", later), now)).toMatchObject(
      badSignature,
    );
    expect(store.verify("PUT", "files", "F1/y", put.params, now)).toMatchObject(badSignature);
    expect(store.verify("PUT", "avatars", "F1/x", put.params, now)).toMatchObject(badSignature);
    // An upload URL is no download URL.
    expect(store.verify("GET", "files", "F1/x", put.params, now)).toMatchObject(badSignature);
    expect(store.verify("GET", "files", "F1/x", changed(get.params, "name", "x.html"), now)).toMatchObject(
      badSignature,
    );
    expect(store.verify("GET", "files", "F1/x", changed(get.params, "name", null), now)).toMatchObject(
      badSignature,
    );
    expect(store.verify("GET", "files", "F1/x", changed(get.params, "ct", "text/html"), now)).toMatchObject(
      badSignature,
    );
    const sig = get.params.get("sig")!;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith("A") ? "B" : "A"}`;
    expect(store.verify("GET", "files", "F1/x", changed(get.params, "sig", flipped), now)).toMatchObject(
      badSignature,
    );
    expect(store.verify("GET", "files", "F1/x", changed(get.params, "sig", "short"), now)).toMatchObject(
      badSignature,
    );
    // Parameters the server does not act on change nothing.
    expect(store.verify("GET", "files", "F1/x", changed(get.params, "size", "1"), now)).toMatchObject({
      ok: true,
    });
    // Another secret signs other URLs.
    const other = await open({ secret: randomBytes(32) });
    expect(other.verify("GET", "files", "F1/x", get.params, now)).toMatchObject(badSignature);
  });

  it("refuses unsigned URLs, unknown buckets and methods as malformed", async () => {
    const store = await open();
    const get = parts((await store.downloadUrl("files", "F1/x", { expiresInSec: 60 })).url);
    const malformed = { ok: false, refusal: "malformed" };
    expect(store.verify("GET", "files", "F1/x", new URLSearchParams(), Date.now())).toMatchObject(malformed);
    expect(store.verify("GET", "secrets", "F1/x", get.params, Date.now())).toMatchObject(malformed);
    expect(store.verify("DELETE", "files", "F1/x", get.params, Date.now())).toMatchObject(malformed);
    expect(store.verify("GET", "files", "../x", get.params, Date.now())).toMatchObject(malformed);
    expect(store.verify("PUT", "files", "F1/x", get.params, Date.now())).toMatchObject(malformed);
  });

  it("refuses keys that could leave the bucket's dir or hide as a temp file", async () => {
    const store = await open();
    for (const key of [
      "",
      "..",
      "../x",
      "F1/../../x",
      "/etc/passwd",
      "F1//x",
      "F1/./x",
      ".upload-1",
      "a\0b",
      "a\\b",
      "a\nb",
      "x/",
    ]) {
      expect(keyProblem(key), JSON.stringify(key)).not.toBeNull();
      await expect(
        store.uploadUrl("files", key, { contentType: "text/plain", size: 1, expiresInSec: 60 }),
        JSON.stringify(key),
      ).rejects.toThrow();
    }
    for (const key of ["F0123/abc", "F1/abc/small", "a b/ü.txt", "x..y"])
      expect(keyProblem(key), key).toBeNull();
    await expect(
      store.uploadUrl("files", "F1/x", { contentType: "text/plain\r\nx: y", size: 1, expiresInSec: 60 }),
    ).rejects.toThrow();
  });

  it("refuses a secret shorter than 32 bytes", async () => {
    await expect(open({ secret: "too short" })).rejects.toThrow(/32 bytes/);
  });
});

describe("LocalDiskBlobs uploads", () => {
  it("an upload is not visible until all its bytes are on disk", async () => {
    const store = await open();
    const key = freshKey();
    const halves = [randomBytes(1000), randomBytes(1000)];
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    async function* slowly() {
      yield halves[0]!;
      await gate;
      yield halves[1]!;
    }
    const receiving = store.receive("files", key, 2000, slowly());
    await new Promise((r) => setTimeout(r, 50));
    expect(await store.stat("files", key)).toBeNull();
    expect(leftovers()).toHaveLength(1);
    release();
    await receiving;
    expect((await bytesOf(await store.read("files", key))).equals(Buffer.concat(halves))).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it("stops pulling a body as soon as it is larger than signed, and keeps nothing of it", async () => {
    const store = await open();
    const key = freshKey();
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield randomBytes(1000);
      }
    }
    const err = await store.receive("files", key, 10_500, endless()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ColinkError);
    expect((err as ColinkError).code).toBe("too_large");
    expect(pulled).toBe(11);
    expect(await store.stat("files", key)).toBeNull();
    expect(leftovers()).toEqual([]);
  });

  it("refuses a body shorter than signed, leaving the object it would have replaced", async () => {
    const store = await open();
    const key = freshKey();
    const old = randomBytes(100);
    await store.write("files", key, old, "text/plain");
    const err = await store.receive("files", key, 100, [randomBytes(99)]).catch((e: unknown) => e);
    expect((err as ColinkError).code).toBe("bad_request");
    expect((await bytesOf(await store.read("files", key))).equals(old)).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it("a body that fails part-way leaves nothing", async () => {
    const store = await open();
    const key = freshKey();
    async function* broken() {
      yield randomBytes(500);
      throw new Error("the client went away");
    }
    await expect(store.receive("files", key, 1000, broken())).rejects.toThrow("went away");
    expect(await store.stat("files", key)).toBeNull();
    expect(leftovers()).toEqual([]);
  });

  it("opening removes temp files of uploads a dead process left an hour ago, not those of running ones", async () => {
    await open();
    const stale = join(root, "avatars", ".upload-stale");
    const fresh = join(root, "avatars", ".upload-fresh");
    writeFileSync(stale, "x");
    writeFileSync(fresh, "x");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    await open();
    expect(readdirSync(join(root, "avatars")).filter((n) => n.startsWith(".upload-"))).toEqual([
      ".upload-fresh",
    ]);
    rmSync(fresh);
  });
});
