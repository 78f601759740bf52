import { describe, expect, it } from "vitest";
import type { FileInfo, HeldFile } from "./app-state.js";
import { fileDisplay, fileStateText, fitThumbnail, viewerSource } from "./file-display.js";
import { fileDetails, fileInfo } from "./test-files.js";

function held(file: FileInfo, stale = false, urls = {}): HeldFile {
  return { details: fileDetails(file, urls), missing: false, stale };
}

const image = fileInfo({
  id: "F1",
  name: "whiteboard.png",
  contentType: "image/png",
  thumbnails: [
    { size: "small", width: 96, height: 54 },
    { size: "medium", width: 480, height: 270 },
  ],
});
const thumbs = { thumbnails: { small: "/t/small", medium: "/t/medium" } };

describe("how a file shows", () => {
  it("loads, and says when it is not available", () => {
    expect(fileDisplay(undefined)).toEqual({ kind: "loading" });
    expect(fileDisplay({ details: null, missing: false, stale: true })).toEqual({ kind: "loading" });
    expect(fileDisplay({ details: null, missing: true, stale: false })).toEqual({ kind: "missing" });
  });

  it("shows a clean image by its medium thumbnail, else its small one", () => {
    expect(fileDisplay(held(image, false, thumbs))).toMatchObject({
      kind: "image",
      thumbnail: "/t/medium",
      width: 480,
      height: 270,
    });
    const small = { ...image, thumbnails: [{ size: "small" as const, width: 40, height: 30 }] };
    expect(fileDisplay(held(small, false, { thumbnails: { small: "/t/small" } }))).toMatchObject({
      kind: "image",
      thumbnail: "/t/small",
      width: 40,
    });
  });

  it("offers a download for other files, and for an image without thumbnails", () => {
    const text = fileInfo({ id: "F2" });
    expect(fileDisplay(held(text))).toEqual({
      kind: "download",
      file: text,
      url: "/v1/blobs/files/F2?sig=x",
    });
    expect(fileDisplay(held({ ...image, thumbnails: [] }))).toMatchObject({ kind: "download" });
    expect(fileDisplay(held(fileInfo({ id: "F3", status: "unscanned" })))).toMatchObject({
      kind: "download",
    });
  });

  it("never offers a file that may not be served, and says why", () => {
    const reason = (status: FileInfo["status"], urls = {}) => {
      const d = fileDisplay(held(fileInfo({ id: "F4", status }), false, urls));
      return d.kind === "blocked" ? d.reason : d.kind;
    };
    expect(reason("pending")).toBe(fileStateText.scanning);
    expect(reason("uploading")).toBe(fileStateText.uploading);
    expect(reason("infected")).toBe("Quarantined: this file contained a virus");
    // Even if a URL were held, an infected file shows none.
    expect(reason("infected", { url: "/x" })).toBe(fileStateText.infected);
    expect(reason("failed")).toBe("Could not be scanned");
    // Unscanned where the operator blocks unscanned files: no URL.
    expect(reason("unscanned", { url: null })).toBe("Not available");
  });

  it("shows a file just scanned clean as loading until its URLs arrive", () => {
    const d = fileDisplay({
      details: { file: image, url: null, thumbnails: {}, expiresAt: null },
      missing: false,
      stale: true,
    });
    expect(d).toMatchObject({ kind: "blocked", reason: fileStateText.loading, settled: false });
  });

  it("views an image at full size when browsers show its type, else by its medium thumbnail", () => {
    expect(viewerSource(fileDetails(image, thumbs))).toBe("/v1/blobs/files/F1?sig=x");
    const tiff = fileInfo({ ...image, contentType: "image/tiff" });
    expect(viewerSource(fileDetails(tiff, thumbs))).toBe("/t/medium");
  });

  it("scales a thumbnail down to fit the message, never up", () => {
    expect(fitThumbnail(480, 270)).toEqual({ width: 360, height: 203 });
    expect(fitThumbnail(240, 480)).toEqual({ width: 160, height: 320 });
    expect(fitThumbnail(96, 54)).toEqual({ width: 96, height: 54 });
  });
});
