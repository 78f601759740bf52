/**
 * The task of the thumbnail pool's threads (thumbnail-pool.ts): an image's bytes in, a small
 * and a medium WebP thumbnail out, or null when the bytes are not an image it reads.
 *
 * The image is decoded once, already scaled to the medium box (JPEG shrinks while it decodes),
 * oriented by its EXIF tag; both thumbnails are encoded from those pixels. Outputs carry no
 * metadata (sharp's default), so a photo's EXIF location does not reach the thumbnails.
 */
import sharp, { type Metadata, type OutputInfo, type ResizeOptions, type SharpOptions } from "sharp";
import type { Thumbnail } from "../../core/ports.js";

/** The square each thumbnail fits inside, in pixels (neither is ever enlarged). */
export const thumbnailBoxes: Readonly<Record<Thumbnail["size"], number>> = { small: 96, medium: 480 };

/**
 * The most pixels (width × height) of an image it decodes: above a 48-megapixel phone photo,
 * and far below what would take gigabytes of memory (a decompression bomb: a small file
 * declaring 20,000 × 20,000 pixels would need 1.6 GB once decoded).
 */
export const maxInputPixels = 50_000_000;

/**
 * What it decodes, as sharp names the formats (AVIF is "heif"): the raster images people
 * upload. Others that libvips also reads (SVG, PDF, FITS, raw camera files …) stay unread:
 * they are rarely uploaded as pictures, and each is more decoder code exposed to untrusted
 * bytes.
 */
const readableFormats: ReadonlySet<string> = new Set(["jpeg", "png", "webp", "gif", "heif", "tiff"]);

/** WebP quality of both thumbnails (sharp's default, stated because the sizes depend on it). */
const webpQuality = 80;

// These libvips settings are the process's, not this thread's. One libvips thread per image
// lets the pool's thread count bound the cores thumbnails take; no operation cache, as no
// image is seen twice.
sharp.concurrency(1);
sharp.cache(false);

const inputOptions: SharpOptions = {
  limitInputPixels: maxInputPixels,
  // Abort on broken pixel data (a truncated upload), not on the warnings many cameras'
  // harmless quirks raise, which browsers show anyway.
  failOn: "error",
  // One still frame: the first of an animated GIF or WebP.
  animated: false,
};

/** The thumbnails of `image`, small then medium; null when it is not an image it can read. */
export default async function thumbnails(image: Uint8Array): Promise<Thumbnail[] | null> {
  let header: Metadata;
  try {
    header = await sharp(image, inputOptions).metadata();
  } catch {
    return null; // no format libvips knows, or a header it cannot parse
  }
  if (!readableFormats.has(header.format)) return null;
  if (header.width * header.height > maxInputPixels) return null;

  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(image, inputOptions)
      .autoOrient()
      .resize(box(thumbnailBoxes.medium))
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch {
    return null; // a readable header over pixel data that is not: truncated or corrupt
  }

  // From here on the input is decoded pixels of known shape: failures are not the image's.
  const { data, info } = decoded;
  const pixels = { raw: { width: info.width, height: info.height, channels: info.channels } };
  // One after the other, so that a task keeps to one core.
  const small = await sharp(data, pixels)
    .resize(box(thumbnailBoxes.small))
    .webp({ quality: webpQuality })
    .toBuffer(output);
  const medium = await sharp(data, pixels).webp({ quality: webpQuality }).toBuffer(output);
  return [thumbnail("small", small), thumbnail("medium", medium)];
}

const output = { resolveWithObject: true } as const;

function thumbnail(size: Thumbnail["size"], made: { data: Buffer; info: OutputInfo }): Thumbnail {
  return { size, width: made.info.width, height: made.info.height, bytes: made.data };
}

function box(side: number): ResizeOptions {
  return { width: side, height: side, fit: "inside", withoutEnlargement: true };
}
