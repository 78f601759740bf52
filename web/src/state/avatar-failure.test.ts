import { ColinkRequestError } from "@colink/client";
import { describe, expect, it } from "vitest";
import {
  avatarContentType,
  avatarFailure,
  avatarRemovalFailure,
  avatarScanRefusal,
  avatarTypeRefusal,
} from "./avatar-failure.js";

describe("avatar failures", () => {
  it("takes only the four image types", () => {
    expect(avatarContentType("image/png")).toBe("image/png");
    expect(avatarContentType("IMAGE/JPEG; charset=binary")).toBe("image/jpeg");
    expect(avatarContentType("image/gif")).toBe("image/gif");
    expect(avatarContentType("image/webp")).toBe("image/webp");
    expect(avatarContentType("image/svg+xml")).toBeNull();
    expect(avatarContentType("")).toBeNull();
    expect(avatarTypeRefusal("cv.pdf")).toBe(
      "Could not use cv.pdf: an avatar must be a PNG, JPEG, GIF or WebP image",
    );
  });

  it("says why the server, the upload or the scan refused it", () => {
    const tooLarge = new ColinkRequestError({
      code: "too_large",
      message: "an avatar is at most 5242880 bytes",
      retryable: false,
    });
    expect(avatarFailure("big.png", tooLarge)).toBe(
      "Could not use big.png: it is larger than 5 MB, the largest avatar allowed",
    );
    expect(avatarFailure("me.png", new Error("the upload failed (HTTP 403)"))).toBe(
      "Could not use me.png: the upload failed (HTTP 403)",
    );
    expect(avatarScanRefusal("me.png", "infected")).toBe("Could not use me.png: it contained a virus");
    expect(avatarScanRefusal("me.png", "failed")).toBe("Could not use me.png: it could not be scanned");
    expect(avatarRemovalFailure(new Error("offline"))).toBe("Could not remove your avatar: offline");
  });
});
