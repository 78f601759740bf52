import { describe, expect, it } from "vitest";
import { type AppState, type Attachment, initialAppState } from "./app-state.js";
import {
  attachmentsOf,
  maxFilesPerMessage,
  roomFor,
  takeAttachments,
  uploading,
  withAttachError,
  withAttachments,
  withFileId,
  withoutAttachment,
  withProgress,
  withReady,
} from "./attachments.js";

function attachment(id: string): Attachment {
  return { id, name: `${id}.txt`, size: 100, contentType: "text/plain", sent: 0, fileId: null, ready: false };
}

const key = "C1";

describe("a composer's attachments", () => {
  it("uploads, then is ready with its file id", () => {
    let s: AppState = withAttachments(initialAppState, key, [attachment("a"), attachment("b")]);
    s = withFileId(s, key, "a", "Fa");
    s = withProgress(s, key, "a", 40);
    expect(attachmentsOf(s, key)[0]).toMatchObject({ fileId: "Fa", sent: 40, ready: false });
    expect(uploading(attachmentsOf(s, key))).toBe(true);
    expect(takeAttachments(s, key)).toBeNull();
    s = withReady(s, key, "a");
    s = withFileId(s, key, "b", "Fb");
    s = withReady(s, key, "b");
    expect(attachmentsOf(s, key)[0]).toMatchObject({ sent: 100, ready: true });
    expect(uploading(attachmentsOf(s, key))).toBe(false);
    const taken = takeAttachments(withAttachError(s, key, "an old error"), key)!;
    expect(taken.fileIds).toEqual(["Fa", "Fb"]);
    expect(taken.state.attachments).toEqual({});
    expect(taken.state.attachError).toEqual({});
  });

  it("a send without attachments takes nothing", () => {
    expect(takeAttachments(initialAppState, key)).toEqual({ state: initialAppState, fileIds: [] });
  });

  it("removes one, and changes nothing for an unknown one", () => {
    const s = withAttachments(initialAppState, key, [attachment("a"), attachment("b")]);
    expect(attachmentsOf(withoutAttachment(s, key, "a"), key).map((a) => a.id)).toEqual(["b"]);
    expect(withoutAttachment(s, key, "zz")).toBe(s);
    expect(withProgress(s, "other", "a", 1)).toBe(s);
    expect(withoutAttachment(withoutAttachment(s, key, "a"), key, "b").attachments).toEqual({});
  });

  it("takes at most 10 files per message", () => {
    const s = withAttachments(
      initialAppState,
      key,
      ["a", "b", "c"].map((id) => attachment(id)),
    );
    expect(roomFor(s, key)).toBe(maxFilesPerMessage - 3);
    expect(roomFor(s, "elsewhere")).toBe(maxFilesPerMessage);
  });

  it("shows an error per composer until cleared", () => {
    const s = withAttachError(initialAppState, key, "Could not attach x");
    expect(s.attachError).toEqual({ C1: "Could not attach x" });
    expect(withAttachError(s, key, "Could not attach x")).toBe(s);
    expect(withAttachError(s, key, null).attachError).toEqual({});
  });
});
