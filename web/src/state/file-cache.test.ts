import { describe, expect, it } from "vitest";
import type { HeldFile } from "./app-state.js";
import {
  mayHaveChanged,
  needsFetch,
  urlRefreshMarginMs,
  withFileDetails,
  withFileUpdate,
  withMissingFile,
} from "./file-cache.js";
import { fileDetails, fileInfo } from "./test-files.js";

const pending = fileInfo({ id: "F1", status: "pending" });

describe("the file cache", () => {
  it("asks for a file never asked, and not again while its answer is current", () => {
    expect(needsFetch(undefined, 0)).toBe(true);
    const files = withFileDetails({}, fileDetails(fileInfo({ id: "F1" })));
    expect(needsFetch(files.F1, 1000)).toBe(false);
    expect(withFileDetails({}, fileDetails(pending)).F1).toEqual({
      details: fileDetails(pending),
      missing: false,
      stale: false,
    });
  });

  it("asks again a minute before the URLs expire", () => {
    const files = withFileDetails({}, fileDetails(fileInfo({ id: "F1" }), { expiresAt: 3_600_000 }));
    expect(needsFetch(files.F1, 3_600_000 - urlRefreshMarginMs - 1)).toBe(false);
    expect(needsFetch(files.F1, 3_600_000 - urlRefreshMarginMs)).toBe(true);
    // A file without URLs (being scanned) waits for its file.updated instead.
    expect(needsFetch(withFileDetails({}, fileDetails(pending)).F1, 1e12)).toBe(false);
  });

  it("does not ask again for a file that is not found", () => {
    const files = withMissingFile({}, "F9");
    expect(files.F9).toEqual({ details: null, missing: true, stale: false });
    expect(needsFetch(files.F9, 0)).toBe(false);
    expect(mayHaveChanged(files.F9!)).toBe(false);
  });

  it("takes file.updated's new status at once, drops the old status's URLs, and asks again", () => {
    const files = withFileDetails({}, fileDetails(pending));
    const clean = fileInfo({
      id: "F1",
      status: "clean",
      thumbnails: [{ size: "small", width: 96, height: 54 }],
    });
    const next = withFileUpdate(files, clean);
    expect(next.F1).toEqual({
      details: { file: clean, url: null, thumbnails: {}, expiresAt: null },
      missing: false,
      stale: true,
    });
    expect(needsFetch(next.F1, 0)).toBe(true);
  });

  it("keeps the URLs when the status is the same, and ignores files not held", () => {
    const clean = fileInfo({ id: "F1" });
    const files = withFileDetails({}, fileDetails(clean));
    const renamed = { ...clean, thumbnails: [{ size: "small" as const, width: 1, height: 1 }] };
    const next = withFileUpdate(files, renamed);
    expect(next.F1!.details!.url).toBe(files.F1!.details!.url);
    expect(next.F1!.details!.file).toBe(renamed);
    expect(withFileUpdate(files, fileInfo({ id: "F2" }))).toBe(files);
  });

  it("after a reconnect, asks again for files still being scanned or changed", () => {
    const held = (status: "pending" | "clean" | "infected", stale = false): HeldFile => ({
      details: fileDetails(fileInfo({ id: "F1", status })),
      missing: false,
      stale,
    });
    expect(mayHaveChanged(held("pending"))).toBe(true);
    expect(mayHaveChanged(held("clean"))).toBe(false);
    expect(mayHaveChanged(held("infected"))).toBe(false);
    expect(mayHaveChanged(held("clean", true))).toBe(true);
  });
});
