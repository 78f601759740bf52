/**
 * The images S9 has thumbnails made of, written as files: what a chat's uploads mostly are,
 * a phone photo, the same photo forwarded (scaled down and compressed again) and a
 * screenshot. Made with sharp; the photo's content is coarse colour noise with fine grain,
 * so that its JPEG is as large as a real 12-megapixel photo's (and as slow to decode) and
 * its thumbnails are about as large as a photo's, not a flat colour's few bytes.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";

/** One source image. */
export interface ThumbnailSource {
  name: string;
  file: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
}

/** Writes the sources into `dir`, in the order the load cycles through them. */
export async function writeThumbnailSources(dir: string): Promise<ThumbnailSource[]> {
  const photo = await photoJpeg(4032, 3024);
  const made: Array<{ name: string; format: string; data: Buffer }> = [
    { name: "phone photo", format: "jpeg", data: photo },
    { name: "screenshot", format: "png", data: await screenshotPng(2560, 1440) },
    {
      name: "forwarded photo",
      format: "jpeg",
      data: await sharp(photo).resize(1600, 1200).jpeg({ quality: 80 }).toBuffer(),
    },
  ];
  const sources: ThumbnailSource[] = [];
  for (const [i, m] of made.entries()) {
    const file = join(dir, `${i}.${m.format}`);
    writeFileSync(file, m.data);
    const { width, height } = await sharp(m.data).metadata();
    sources.push({ name: m.name, file, format: m.format, width, height, bytes: m.data.length });
  }
  return sources;
}

async function photoJpeg(width: number, height: number): Promise<Buffer> {
  const raw = { width, height, channels: 3 as const };
  const coarse = await sharp({
    create: {
      width: Math.round(width / 48),
      height: Math.round(height / 48),
      channels: 3,
      background: "#7a8c5a",
      noise: { type: "gaussian", mean: 120, sigma: 70 },
    },
  })
    .resize(width, height, { kernel: "cubic" })
    .raw()
    .toBuffer();
  const grain = await sharp({
    create: { ...raw, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 10 } },
  })
    .raw()
    .toBuffer();
  return sharp(coarse, { raw })
    .composite([{ input: grain, raw, blend: "soft-light" }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** A chat app's window: a sidebar, a panel, and lines of text. */
async function screenshotPng(width: number, height: number): Promise<Buffer> {
  const lines = Array.from(
    { length: Math.floor((height - 120) / 32) },
    (_, i) =>
      `<text x="340" y="${90 + i * 32}" font-size="22" font-family="sans-serif" fill="#1d1c1d">` +
      `user${i % 7}: line ${i}, the deploy goes out at 17:00 once the review of #${1200 + i} is done</text>`,
  ).join("");
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="${width}" height="${height}" fill="#f8f8f8"/>` +
    `<rect width="300" height="${height}" fill="#3f0e40"/>` +
    `<rect x="${width - 640}" y="100" width="600" height="400" rx="12" fill="#4a90d9"/>` +
    `${lines}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
