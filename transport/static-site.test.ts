import { describe, expect, it } from "vitest";
import { parseConfig } from "../core/config.js";
import { contentSecurityPolicy, fileSourcesOf } from "./static-site.js";

describe("contentSecurityPolicy", () => {
  it("allows only this origin (single sign-on reaches the issuer by navigation, not by fetch)", () => {
    const own = contentSecurityPolicy();
    expect(own).toContain("connect-src 'self';");
    expect(own).not.toMatch(/unsafe|\*/);
  });

  it("lets the app upload to and show images from S3 when files are there, and nowhere else otherwise", () => {
    const files = (env: Record<string, string>) => fileSourcesOf(parseConfig(env).files);
    expect(files({})).toEqual([]);
    expect(files({ S3_BUCKET_FILES: "f" })).toEqual(["https://*.amazonaws.com"]);
    expect(
      files({ S3_BUCKET_FILES: "f", S3_ENDPOINT: "https://s3.example.com", S3_FORCE_PATH_STYLE: "on" }),
    ).toEqual(["https://s3.example.com"]);
    expect(files({ S3_BUCKET_FILES: "f", S3_ENDPOINT: "http://minio:9000" })).toEqual([
      "http://minio:9000",
      "http://*.minio:9000",
    ]);
    const policy = contentSecurityPolicy(["https://s3.example.com"]);
    expect(policy).toContain("img-src 'self' data: blob: https://s3.example.com;");
    expect(policy).toContain("connect-src 'self' https://s3.example.com;");
  });
});
