import { describe, expect, it } from "vitest";
import { avatarAlt, avatarHue, avatarImageUrl, avatarInitial } from "./avatar-display.js";
import { fileDetails, fileInfo } from "./test-files.js";

const avatar = (status: "clean" | "pending" | "infected" | "unscanned") =>
  fileInfo({ id: "A1", channelId: null, name: "me.png", contentType: "image/png", status });

describe("avatar display", () => {
  it("shows the preferred thumbnail, else the other, else the image itself", () => {
    const both = { small: "/t/small", medium: "/t/medium" };
    const held = (thumbnails: Record<string, string>) => ({
      details: fileDetails(avatar("clean"), { thumbnails }),
      missing: false,
      stale: false,
    });
    expect(avatarImageUrl(held(both), "small")).toBe("/t/small");
    expect(avatarImageUrl(held(both), "medium")).toBe("/t/medium");
    expect(avatarImageUrl(held({ medium: "/t/medium" }), "small")).toBe("/t/medium");
    expect(avatarImageUrl(held({}), "small")).toBe("/v1/blobs/files/A1?sig=x");
  });

  it("shows the placeholder until there is an image to show", () => {
    expect(avatarImageUrl(undefined, "small")).toBeNull();
    expect(avatarImageUrl({ details: null, missing: true, stale: false }, "small")).toBeNull();
    for (const status of ["pending", "infected"] as const) {
      const held = { details: fileDetails(avatar(status)), missing: false, stale: false };
      expect(avatarImageUrl(held, "small")).toBeNull();
    }
    const unscanned = { details: fileDetails(avatar("unscanned")), missing: false, stale: false };
    expect(avatarImageUrl(unscanned, "small")).toBe("/v1/blobs/files/A1?sig=x");
    // Clean, but its URLs are being asked again (file.updated): no URL to show meanwhile.
    const stale = { details: fileDetails(avatar("clean"), { url: null }), missing: false, stale: true };
    expect(avatarImageUrl(stale, "small")).toBeNull();
  });

  it("gives each person a stable colour, an initial and the alt text of a standalone image", () => {
    expect(avatarHue("Ualice")).toBe(avatarHue("Ualice"));
    expect(avatarHue("Ualice")).toBeGreaterThanOrEqual(0);
    expect(avatarHue("Ualice")).toBeLessThan(360);
    expect(avatarInitial("alice")).toBe("A");
    expect(avatarInitial("  émile")).toBe("É");
    expect(avatarInitial("😀 smiley")).toBe("😀");
    expect(avatarInitial("")).toBe("?");
    expect(avatarAlt("Alice Liddell")).toBe("Alice Liddell's avatar");
  });
});
