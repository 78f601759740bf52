/**
 * The S3 blob adapter against a real S3 API, S3Mock, started for this file
 * (test/support/s3mock.ts; the first run fetches it): the shared BlobStore contract, then
 * what the URLs sign, which S3Mock itself does not check.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3Mock, type TestS3 } from "../../test/support/s3mock.js";
import { describeBlobStoreContract } from "../blob-contract.js";
import { S3Blobs, type S3BlobsOptions } from "./s3-blobs.js";

let s3: TestS3 | null = null;
/** Bucket names of this run's own. */
const run = randomBytes(3).toString("hex");

function options(endpoint: string): S3BlobsOptions {
  return {
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "colink-test", secretAccessKey: "colink-test-secret" },
    // Two of Colink's buckets share one S3 bucket, as a deployment may.
    buckets: {
      files: `colink-files-${run}`,
      avatars: `colink-images-${run}`,
      thumbnails: `colink-images-${run}`,
    },
  };
}

beforeAll(async () => {
  s3 = await startS3Mock();
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${s3.pid}/status`, "utf8"))?.[1];
  console.log(`[s3mock] ready in ${s3.startupMs} ms, RSS ${Math.round(Number(rss) / 1024)} MiB`);
  const store = new S3Blobs(options(s3.endpoint));
  await store.ensureBuckets();
  // A second time finds them there.
  await store.ensureBuckets();
  await store.close();
}, 180_000);

afterAll(async () => {
  await s3?.cleanup();
}, 30_000);

describeBlobStoreContract("s3 (S3Mock)", async () => new S3Blobs(options(s3!.endpoint)));

describe("S3Blobs", () => {
  it("signs an upload URL's Content-Type and Content-Length, and adds no checksum a browser would not send", async () => {
    const store = new S3Blobs(options(s3!.endpoint));
    const { url } = await store.uploadUrl("files", "F1/abc", {
      contentType: "image/png",
      size: 1234,
      expiresInSec: 600,
    });
    const params = new URL(url).searchParams;
    expect(params.get("X-Amz-SignedHeaders")?.split(";")).toEqual(["content-length", "content-type", "host"]);
    expect(params.get("X-Amz-Expires")).toBe("600");
    expect([...params.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
    expect(new URL(url).pathname).toBe(`/colink-files-${run}/F1/abc`);
    await store.close();
  });

  it("a download URL carries the file name as an attachment, and the type", async () => {
    const store = new S3Blobs(options(s3!.endpoint));
    const { url } = await store.downloadUrl("thumbnails", "F1/abc/small", {
      expiresInSec: 60,
      fileName: "a/b.webp",
      contentType: "image/webp",
    });
    const params = new URL(url).searchParams;
    expect(params.get("response-content-disposition")).toBe(
      "attachment; filename=\"a_b.webp\"; filename*=UTF-8''a_b.webp",
    );
    expect(params.get("response-content-type")).toBe("image/webp");
    await store.close();
  });

  it("signs clients' URLs for the public endpoint, and talks to S3 at its own", async () => {
    const store = new S3Blobs({ ...options(s3!.endpoint), publicEndpoint: "http://files.example.com:9000" });
    const { url } = await store.uploadUrl("files", "F1/pub", {
      contentType: "text/plain",
      size: 2,
      expiresInSec: 60,
    });
    expect(new URL(url).origin).toBe("http://files.example.com:9000");
    // Its own requests still reach S3Mock.
    await store.write("files", "F1/pub", new TextEncoder().encode("hi"), "text/plain");
    expect(await store.stat("files", "F1/pub")).toEqual({ size: 2 });
    await store.close();
  });
});
