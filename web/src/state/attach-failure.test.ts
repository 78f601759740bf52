import { ColinkRequestError } from "@colink/client";
import { describe, expect, it } from "vitest";
import { attachFailure, uploadContentType } from "./attach-failure.js";

describe("attachFailure", () => {
  it("says a file is too large with the server's limit, readable", () => {
    const error = new ColinkRequestError({
      code: "too_large",
      message: "the file is larger than 5242880 bytes",
      retryable: false,
    });
    expect(attachFailure("big.png", error)).toBe(
      "Could not attach big.png: it is larger than 5 MB, the largest file allowed",
    );
  });

  it("passes on other refusals and failures", () => {
    const error = new ColinkRequestError({
      code: "bad_request",
      message: "files of type application/x-msdownload are not allowed",
      retryable: false,
    });
    expect(attachFailure("app.exe", error)).toBe(
      "Could not attach app.exe: files of type application/x-msdownload are not allowed",
    );
    expect(attachFailure("a.txt", new Error("the upload failed (HTTP 403)"))).toBe(
      "Could not attach a.txt: the upload failed (HTTP 403)",
    );
  });
});

describe("uploadContentType", () => {
  it("keeps a browser's type, lowercased and without parameters, else application/octet-stream", () => {
    expect(uploadContentType("image/PNG")).toBe("image/png");
    expect(uploadContentType("text/plain;charset=utf-8")).toBe("text/plain");
    expect(uploadContentType("")).toBe("application/octet-stream");
    expect(uploadContentType("not a type")).toBe("application/octet-stream");
  });
});
