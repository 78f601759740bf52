/**
 * The `FileStore` part of the Store contract: a file's life from upload to scan verdict,
 * claims that hand each pending file to one scanner at a time, the quarantine with its
 * audit row, and which files a channel's messages share.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../../core/ports.js";
import type { FileInfo } from "../../core/types.js";
import { created, fresh, T0, TestChannel } from "./test-data.js";

/** A new file's metadata, uploading to `channelId`. */
function newFile(channelId: string, over: Partial<FileInfo> = {}): FileInfo {
  return {
    id: fresh("F"),
    channelId,
    uploaderId: "Ualice",
    name: "report.pdf",
    contentType: "application/pdf",
    size: 1234,
    status: "uploading",
    thumbnails: [],
    createdAt: T0,
    ...over,
  };
}

/** Registers the FileStore tests over `store`, which the suite opens before they run. */
export function describeFileStoreContract(store: Store): void {
  describe("FileStore", () => {
    it("keeps a file from upload to a clean scan, once per step", async () => {
      const file = newFile(fresh("C"));
      await store.createFile(file);
      expect(await store.getFile(file.id)).toEqual({
        ...file,
        signature: null,
        scanAttempts: 0,
        nextScanAt: null,
        quarantinedAt: null,
      });
      expect(await store.getFile(fresh("F"))).toBeNull();
      const done = await store.completeUpload(file.id, "pending", T0 + 10);
      expect(done).toMatchObject({ status: "pending", nextScanAt: T0 + 10 });
      // Only an upload in progress completes.
      expect(await store.completeUpload(file.id, "pending", T0 + 20)).toBeNull();

      const thumbnails = [{ size: "small" as const, width: 96, height: 48 }];
      const scanned = await store.recordScan(file.id, { status: "clean", thumbnails }, T0 + 30);
      expect(scanned).toMatchObject({ status: "clean", thumbnails, nextScanAt: null });
      // A verdict is final: a late second scan changes nothing.
      expect(await store.recordScan(file.id, { status: "infected", signature: "X" }, T0 + 40)).toBeNull();
      expect((await store.getFile(file.id))?.status).toBe("clean");

      const unscanned = newFile(file.channelId!);
      await store.createFile(unscanned);
      expect(await store.completeUpload(unscanned.id, "unscanned", T0)).toMatchObject({
        status: "unscanned",
        nextScanAt: null,
      });
      const both = await store.getFiles([file.id, unscanned.id, fresh("F")]);
      expect(both.map((f) => f.id).sort()).toEqual([file.id, unscanned.id].sort());
      expect(await store.getFiles([])).toEqual([]);
    });

    it("hands each due file to one claim at a time, and again once its lease or retry time is up", async () => {
      // Far in the future, so that other tests' pending files are not due at these times.
      const at = 4_000_000_000_000 + Math.floor(Math.random() * 1_000_000_000);
      const files = [newFile(fresh("C")), newFile(fresh("C"))];
      for (const f of files) {
        await store.createFile(f);
        await store.completeUpload(f.id, "pending", at);
      }
      const mine = (claimed: Array<{ id: string }>) =>
        claimed.filter((c) => files.some((f) => f.id === c.id)).map((c) => c.id);
      expect(mine(await store.claimScans(at - 1, 1000, 100))).toEqual([]);
      const first = await store.claimScans(at, 1000, 100);
      expect(mine(first).sort()).toEqual(files.map((f) => f.id).sort());
      expect(first.find((f) => f.id === files[0]!.id)).toMatchObject({
        scanAttempts: 1,
        nextScanAt: at + 1000,
      });
      // Claimed: nobody else takes them until the lease ends.
      expect(mine(await store.claimScans(at + 999, 1000, 100))).toEqual([]);
      // The scanner could not tell: it tries again later.
      expect(await store.recordScan(files[0]!.id, { retryAt: at + 5000 }, at + 1)).toMatchObject({
        status: "pending",
        nextScanAt: at + 5000,
      });
      // The other one's scanner died: its lease ends and it is claimed again.
      const again = await store.claimScans(at + 1000, 1000, 100);
      expect(mine(again)).toEqual([files[1]!.id]);
      expect(again.find((f) => f.id === files[1]!.id)?.scanAttempts).toBe(2);
      // Its retry falls due (and the other's second lease has ended too).
      expect(mine(await store.claimScans(at + 5000, 1000, 100)).sort()).toEqual(
        files.map((f) => f.id).sort(),
      );
      await store.recordScan(files[0]!.id, { status: "failed", reason: "too large" }, at + 6000);
      expect((await store.getFile(files[0]!.id))?.status).toBe("failed");
    });

    it("quarantines an infected file with its audit row, and lists it for deletion after the cutoff", async () => {
      const file = newFile(fresh("C"), { name: "eicar.com" });
      await store.createFile(file);
      await store.completeUpload(file.id, "pending", T0);
      const infected = await store.recordScan(
        file.id,
        { status: "infected", signature: "Eicar-Test" },
        T0 + 5,
      );
      expect(infected).toMatchObject({ status: "infected", signature: "Eicar-Test", quarantinedAt: T0 + 5 });
      const listed = async (cutoff: number) =>
        (await store.quarantinedBefore(cutoff, 10_000)).some((f) => f.id === file.id);
      expect(await listed(T0 + 5)).toBe(false);
      expect(await listed(T0 + 6)).toBe(true);
      await store.markPurged(file.id);
      expect(await listed(T0 + 6)).toBe(false);
    });

    it("records each step of a file in the user-event outbox with the step itself (file.events)", async () => {
      const uploaderId = fresh("U");
      const clean = newFile(fresh("C"), { uploaderId });
      const infected = newFile(clean.channelId!, { uploaderId, name: "eicar.com" });
      for (const f of [clean, infected]) {
        await store.createFile(f);
        await store.completeUpload(f.id, "pending", T0);
      }
      // A step that changes nothing records nothing.
      expect(await store.completeUpload(clean.id, "pending", T0)).toBeNull();
      await store.recordScan(clean.id, { retryAt: T0 + 1000 }, T0 + 1);
      await store.recordScan(clean.id, { status: "clean", thumbnails: [] }, T0 + 2);
      await store.recordScan(infected.id, { status: "infected", signature: "Eicar-Test" }, T0 + 3);
      await store.markPurged(infected.id);
      await store.markPurged(infected.id);

      const mine = [];
      for (let at = 0; ; ) {
        const page = await store.readUserEvents(at, 10_000);
        if (page.length === 0) break;
        mine.push(...page.filter((e) => e.userId === uploaderId));
        at = page[page.length - 1]!.id;
      }
      const steps = mine.map((e) => [e.type, (e.data.file as FileInfo).id, (e.data.file as FileInfo).status]);
      expect(steps).toEqual([
        ["file.uploaded", clean.id, "pending"],
        ["file.uploaded", infected.id, "pending"],
        ["file.scanned", clean.id, "clean"],
        ["file.scanned", infected.id, "infected"],
        ["file.purged", infected.id, "infected"],
      ]);
      expect(mine[2]!.data).toEqual({ file: { ...clean, status: "clean" } });
      expect(mine[2]!.at).toBe(T0 + 2);
      expect(mine[3]!.data.signature).toBe("Eicar-Test");
    });

    it("lists uploads never completed, and forgets one only while it is still uploading", async () => {
      const old = newFile(fresh("C"), { createdAt: 1000 });
      const done = newFile(fresh("C"), { createdAt: 1000 });
      for (const f of [old, done]) await store.createFile(f);
      await store.completeUpload(done.id, "pending", 2000);
      const listed = (await store.abandonedUploads(1001, 10_000)).map((f) => f.id);
      expect(listed).toContain(old.id);
      expect(listed).not.toContain(done.id);
      expect((await store.abandonedUploads(1000, 10_000)).map((f) => f.id)).not.toContain(old.id);
      await store.dropUpload(old.id);
      await store.dropUpload(done.id);
      expect(await store.getFile(old.id)).toBeNull();
      expect((await store.getFile(done.id))?.status).toBe("pending");
    });

    it("knows which files the channel's messages that are not deleted share", async () => {
      const [c] = await created(store, new TestChannel());
      const shared = fresh("F");
      const other = fresh("F");
      const gone = fresh("F");
      const kept = c!.message("Ualice", "a file", { files: [shared] });
      const deleted = c!.message("Ualice", "", { files: [gone], deletedAt: T0 + 1 });
      await store.commit([c!.post(kept, deleted)]);
      expect(await store.isFileShared(shared, c!.id)).toBe(true);
      expect(await store.isFileShared(shared, fresh("C"))).toBe(false);
      expect(await store.isFileShared(other, c!.id)).toBe(false);
      expect(await store.isFileShared(gone, c!.id)).toBe(false);
    });
  });
}
