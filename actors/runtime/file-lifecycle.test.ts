import { describe, expect, it } from "vitest";
import { abandonedUploadMs, quarantineMs } from "../../core/file-rules.js";
import { silentLogger } from "../../core/logger.js";
import type { FileRecord } from "../../core/ports.js";
import { FileLifecycle } from "./file-lifecycle.js";

const now = 10 * quarantineMs;

function file(id: string, over: Partial<FileRecord>): FileRecord {
  return {
    id,
    channelId: "C1",
    uploaderId: "U1",
    name: "f",
    contentType: "text/plain",
    size: 1,
    status: "uploading",
    thumbnails: [],
    createdAt: now,
    signature: null,
    scanAttempts: 0,
    nextScanAt: null,
    quarantinedAt: null,
    ...over,
  };
}

describe("FileLifecycle", () => {
  it("deletes the bytes of files quarantined 30 days ago and the uploads abandoned a day ago, and nothing newer", async () => {
    const files = [
      file("Fold-virus", { status: "infected", quarantinedAt: now - quarantineMs - 1 }),
      file("Fnew-virus", { status: "infected", quarantinedAt: now - 1000 }),
      file("Aold-upload", { channelId: null, createdAt: now - abandonedUploadMs - 1 }),
      file("Fnew-upload", { createdAt: now - 1000 }),
    ];
    const removed: string[] = [];
    const purged: string[] = [];
    const dropped: string[] = [];
    // A fake store (named so): the SQL behind these is in the FileStore contract suite.
    const lifecycle = new FileLifecycle(
      {
        files: {
          quarantinedBefore: async (cutoff) =>
            files.filter((f) => f.quarantinedAt !== null && f.quarantinedAt < cutoff),
          markPurged: async (id) => void purged.push(id),
          abandonedUploads: async (cutoff) =>
            files.filter((f) => f.status === "uploading" && f.createdAt < cutoff),
          dropUpload: async (id) => void dropped.push(id),
        },
        blobs: { remove: async (bucket, key) => void removed.push(`${bucket}/${key}`) },
        now: () => now,
        logger: silentLogger,
      },
      60_000,
    );
    try {
      expect(await lifecycle.run()).toEqual({ purged: 1, abandoned: 1 });
      expect(removed).toEqual(["files/Fold-virus", "avatars/Aold-upload"]);
      expect(purged).toEqual(["Fold-virus"]);
      expect(dropped).toEqual(["Aold-upload"]);
    } finally {
      lifecycle.stop();
    }
  });
});
