/**
 * The thumbnail pool with real sharp in real worker threads (from source: the threads load
 * thumbnail-worker.ts with tsx). Test images are made with sharp itself.
 */
import { crc32 } from "node:zlib";
import sharp, { type Sharp } from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Thumbnail, Thumbnailer } from "../../core/ports.js";
import { openThumbnailPool } from "./thumbnail-pool.js";

let pool: Thumbnailer;

beforeAll(() => {
  pool = openThumbnailPool({ threads: 1 });
});

afterAll(async () => {
  await pool.close();
});

/** A photo-like RGB image: a colour with Gaussian noise, so that it does not compress to nothing. */
function noisy(width: number, height: number): Sharp {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: "#3366cc",
      noise: { type: "gaussian", mean: 128, sigma: 30 },
    },
  });
}

function plain(width: number, height: number, background = "#cc3333"): Sharp {
  return sharp({ create: { width, height, channels: 3, background } });
}

/** The thumbnails' sizes and dimensions, in order. */
const shapes = (ts: Thumbnail[] | null) => ts?.map((t) => [t.size, t.width, t.height]);

/** "RIFF" <length> "WEBP" */
function isWebp(bytes: Uint8Array): boolean {
  const text = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString("latin1");
  return text(0, 4) === "RIFF" && text(8, 12) === "WEBP";
}

/** A valid PNG whose header declares `width` × `height`: a 1×1 image with its IHDR rewritten. */
async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await plain(1, 1).png().toBuffer());
  // After the 8-byte signature: IHDR's length (4), type (4), width (4), height (4) … CRC.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

describe("thumbnail pool", () => {
  it("makes a small (96 px box) and a medium (480 px box) WebP of a 2000×1000 PNG", async () => {
    const got = await pool.thumbnails(await noisy(2000, 1000).png().toBuffer());
    expect(shapes(got)).toEqual([
      ["small", 96, 48],
      ["medium", 480, 240],
    ]);
    for (const t of got!) {
      expect(t.bytes).toBeInstanceOf(Uint8Array);
      expect(isWebp(t.bytes)).toBe(true);
      const decoded = await sharp(t.bytes).metadata();
      expect([decoded.format, decoded.width, decoded.height]).toEqual(["webp", t.width, t.height]);
    }
  });

  it("keeps the aspect ratio of any shape, the long side on the box", async () => {
    for (const [w, h] of [
      [1234, 567],
      [700, 2100],
      [5000, 4],
    ] as const) {
      const got = (await pool.thumbnails(await plain(w, h).jpeg().toBuffer()))!;
      for (const t of got) {
        const side = t.size === "small" ? 96 : 480;
        expect(Math.max(t.width, t.height)).toBe(side);
        // Rounded to whole pixels, never below one.
        const short = Math.max(1, Math.round((side * Math.min(w, h)) / Math.max(w, h)));
        expect(Math.abs(Math.min(t.width, t.height) - short)).toBeLessThanOrEqual(1);
        expect(t.width >= t.height).toBe(w >= h);
      }
    }
  });

  it("turns a JPEG upright by its EXIF orientation (6: turned 90° on its side)", async () => {
    const jpeg = await plain(1200, 600).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    expect(shapes(await pool.thumbnails(jpeg))).toEqual([
      ["small", 48, 96],
      ["medium", 240, 480],
    ]);
  });

  it("takes the first frame of an animated GIF", async () => {
    // Three 100×100 frames stacked: red, green, blue.
    const frames = Buffer.alloc(100 * 300 * 3);
    for (let px = 0; px < 100 * 300; px++) frames[px * 3 + Math.floor(px / (100 * 100))] = 255;
    const gif = await sharp(frames, { raw: { width: 100, height: 300, channels: 3, pageHeight: 100 } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(3);
    const got = await pool.thumbnails(gif);
    expect(shapes(got)).toEqual([
      ["small", 96, 96],
      ["medium", 100, 100],
    ]);
    const [r, g, b] = await sharp(got![1]!.bytes).raw().toBuffer();
    expect(r).toBeGreaterThan(200);
    expect(g! + b!).toBeLessThan(40);
  });

  it("does not enlarge an image smaller than a box", async () => {
    expect(shapes(await pool.thumbnails(await plain(60, 40).png().toBuffer()))).toEqual([
      ["small", 60, 40],
      ["medium", 60, 40],
    ]);
    expect(shapes(await pool.thumbnails(await plain(300, 150).webp().toBuffer()))).toEqual([
      ["small", 96, 48],
      ["medium", 300, 150],
    ]);
  });

  it("reads WebP, AVIF and TIFF too", async () => {
    for (const image of [
      await plain(800, 400).webp().toBuffer(),
      await plain(800, 400).avif().toBuffer(),
      await plain(800, 400).tiff().toBuffer(),
    ]) {
      expect(shapes(await pool.thumbnails(image))).toEqual([
        ["small", 96, 48],
        ["medium", 480, 240],
      ]);
    }
  });

  it("answers null for bytes that are not an image", async () => {
    const random = new Uint8Array(4096);
    crypto.getRandomValues(random);
    expect(await pool.thumbnails(random)).toBeNull();
    expect(await pool.thumbnails(new TextEncoder().encode("just some text, not a picture"))).toBeNull();
    expect(await pool.thumbnails(new Uint8Array(0))).toBeNull();
  });

  it("answers null for a truncated JPEG or PNG (an upload cut short)", async () => {
    const jpeg = await noisy(800, 600).jpeg().toBuffer();
    const png = await noisy(800, 600).png().toBuffer();
    expect(await pool.thumbnails(jpeg.subarray(0, jpeg.length / 2))).toBeNull();
    expect(await pool.thumbnails(png.subarray(0, png.length / 2))).toBeNull();
  });

  it("answers null for an SVG: only raster formats are read", async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="200" height="100"/></svg>';
    // sharp itself would render it.
    expect((await sharp(Buffer.from(svg)).metadata()).format).toBe("svg");
    expect(await pool.thumbnails(new TextEncoder().encode(svg))).toBeNull();
  });

  it("refuses a decompression bomb: a small PNG declaring 20000×20000 pixels answers null", async () => {
    const bomb = await pngDeclaring(20_000, 20_000);
    expect(bomb.length).toBeLessThan(1000);
    const header = await sharp(bomb, { limitInputPixels: false }).metadata();
    expect([header.width, header.height]).toEqual([20_000, 20_000]);
    expect(await pool.thumbnails(bomb)).toBeNull();
  });

  it("answers null for an image above the byte limit without reading it", async () => {
    const small = openThumbnailPool({ threads: 1, maxInputBytes: 1000 });
    try {
      const jpeg = await noisy(200, 200).jpeg().toBuffer();
      expect(jpeg.length).toBeGreaterThan(1000);
      expect(await small.thumbnails(jpeg)).toBeNull();
      const tiny = await plain(20, 20).png().toBuffer();
      expect(tiny.length).toBeLessThanOrEqual(1000);
      expect(shapes(await small.thumbnails(tiny))).toEqual([
        ["small", 20, 20],
        ["medium", 20, 20],
      ]);
    } finally {
      await small.close();
    }
  });

  it("moves a whole buffer to its thread, and copies a view into a larger one", async () => {
    const png = await plain(200, 100).png().toBuffer();
    const whole = new Uint8Array(png); // its own ArrayBuffer
    const moved = pool.thumbnails(whole);
    expect(whole.byteLength).toBe(0);
    expect(shapes(await moved)).toEqual([
      ["small", 96, 48],
      ["medium", 200, 100],
    ]);

    const larger = new Uint8Array(png.length + 16);
    larger.set(png, 8);
    const view = larger.subarray(8, 8 + png.length);
    expect(shapes(await pool.thumbnails(view))).toEqual(shapes(await moved));
    expect(view.byteLength).toBe(png.length);
    expect(Buffer.from(view).equals(png)).toBe(true);
  });

  it("answers every one of many images given at once", async () => {
    const images = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        plain(400 + i * 50, 300)
          .jpeg()
          .toBuffer(),
      ),
    );
    const got = await Promise.all(images.map((image) => pool.thumbnails(image)));
    got.forEach((ts, i) => {
      expect(ts?.[1]?.width).toBe(Math.min(480, 400 + i * 50));
    });
  });

  it("refuses an image while its queue is full, and takes images again once it has room", async () => {
    const busy = openThumbnailPool({ threads: 1, maxQueue: 2 });
    try {
      const jpeg = () => noisy(1600, 1200).jpeg().toBuffer();
      const results = await Promise.allSettled(
        await Promise.all(Array.from({ length: 8 }, jpeg)).then((all) => all.map((j) => busy.thumbnails(j))),
      );
      const refused = results.filter((r) => r.status === "rejected");
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) expect(String(r.reason)).toMatch(/queue/i);
      for (const r of results) if (r.status === "fulfilled") expect(r.value).toHaveLength(2);
      expect(await busy.thumbnails(await jpeg())).toHaveLength(2);
    } finally {
      await busy.close();
    }
  });

  it("finishes the image being made on close, refuses those waiting, and rejects once closed", async () => {
    const closing = openThumbnailPool({ threads: 1 });
    const jpeg = () => noisy(1600, 1200).jpeg().toBuffer();
    expect(await closing.thumbnails(await jpeg())).toHaveLength(2); // the thread is up
    const images = await Promise.all([jpeg(), jpeg(), jpeg()]);
    const pending = images.map((image) => closing.thumbnails(image));
    const settled = Promise.allSettled(pending);
    await closing.close();
    const [first, ...waiting] = await settled;
    expect(first?.status).toBe("fulfilled");
    for (const w of waiting) expect(w.status).toBe("rejected");
    await expect(closing.thumbnails(await jpeg())).rejects.toThrow(/closed/);
    await closing.close(); // twice is fine
  });
});
