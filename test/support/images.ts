/** Images for the tests of files, thumbnails and avatars, made with sharp. */
import sharp from "sharp";

/** A PNG of `width` × `height`, one colour. */
export function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 90, b: 40 } } })
    .png()
    .toBuffer();
}

/** In a page: whether the image has loaded, by its natural width (0 until then, or when it failed). */
export function naturalWidth(img: HTMLElement): number {
  return img instanceof HTMLImageElement && img.complete ? img.naturalWidth : 0;
}
