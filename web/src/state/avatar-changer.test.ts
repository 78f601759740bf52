import { type ColinkClient, ColinkRequestError, type User } from "@colink/client";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { type AppState, type AvatarChange, type FileInfo, initialAppState } from "./app-state.js";
import { AvatarChanger } from "./avatar-changer.js";
import type { putFile } from "./put-file.js";
import { createStore } from "./store.js";
import { fileInfo } from "./test-files.js";

const me: User = {
  id: "Ualice",
  username: "alice",
  displayName: "alice",
  role: "member",
  title: "",
  timeZone: "",
  avatarFileId: null,
  deactivated: false,
  createdAt: 0,
};

const avatarFile = (status: FileInfo["status"]) =>
  fileInfo({ id: "A1", channelId: null, name: "me.png", contentType: "image/png", status });

/** A client answering the avatar ops; `user.update` links what it is given. */
function fakeClient(options: { begin?: () => Promise<unknown>; completed?: FileInfo } = {}) {
  const asked: Array<{ op: string; args: Record<string, unknown> }> = [];
  const client = {
    async request(op: string, args: Record<string, unknown>) {
      asked.push({ op, args });
      switch (op) {
        case "user.avatar.begin":
          return options.begin
            ? options.begin()
            : { fileId: "A1", uploadUrl: "/v1/blobs/avatars/A1?sig=x", expiresAt: 1 };
        case "file.complete":
          return { file: options.completed ?? avatarFile("pending") };
        case "user.update":
          return { user: { ...me, avatarFileId: args.avatarFileId } };
        default:
          throw new Error(`unexpected ${op}`);
      }
    },
  } as unknown as ColinkClient;
  return { client, asked };
}

/** A PUT that reports half the bytes, then the rest, and succeeds. */
const put: typeof putFile = (url, body, _type, onProgress) => {
  puts.push(url);
  onProgress(body.size / 2);
  onProgress(body.size);
  return { done: Promise.resolve(), abort: () => {} };
};
const puts: string[] = [];

function setup(client: ColinkClient, scan: (fileId: string, signal: AbortSignal) => Promise<FileInfo>) {
  const store = createStore<AppState>({ ...initialAppState, me, users: { [me.id]: me } });
  const steps: Array<AvatarChange | null> = [];
  store.subscribe(() => {
    const change = store.get().avatarChange;
    if (steps.at(-1) !== change) steps.push(change);
  });
  const changer = new AvatarChanger(client, store, put, (_client, fileId, signal) => scan(fileId, signal));
  return { store, steps, changer };
}

const png = () => new File([new Uint8Array(10)], "me.png", { type: "image/png" });

describe("AvatarChanger", () => {
  // The page's origin, against which a relative upload URL is resolved.
  beforeAll(() => {
    vi.stubGlobal("location", { origin: "http://localhost:8080" });
    return () => vi.unstubAllGlobals();
  });

  it("uploads, waits for the scan, links the avatar and shows each step", async () => {
    const { client, asked } = fakeClient();
    const { store, steps, changer } = setup(client, async () => avatarFile("clean"));
    await changer.change(png());
    expect(asked.map((a) => a.op)).toEqual(["user.avatar.begin", "file.complete", "user.update"]);
    expect(asked[0]!.args).toEqual({ name: "me.png", size: 10, contentType: "image/png" });
    expect(asked[2]!.args).toEqual({ avatarFileId: "A1" });
    expect(puts.at(-1)).toBe("http://localhost:8080/v1/blobs/avatars/A1?sig=x");
    expect(steps.map((s) => s?.step)).toEqual([
      "uploading",
      "uploading",
      "uploading",
      "scanning",
      "saving",
      "done",
    ]);
    expect(store.get().me?.avatarFileId).toBe("A1");
    expect(store.get().users[me.id]?.avatarFileId).toBe("A1");
    changer.dismiss();
    expect(store.get().avatarChange).toBeNull();
  });

  it("links an unscanned avatar at once, and removes it", async () => {
    const { client, asked } = fakeClient({ completed: avatarFile("unscanned") });
    const { store, changer } = setup(client, () => Promise.reject(new Error("no scan expected")));
    await changer.change(png());
    expect(store.get().me?.avatarFileId).toBe("A1");
    await changer.remove();
    expect(asked.at(-1)).toEqual({ op: "user.update", args: { avatarFileId: null } });
    expect(store.get().me?.avatarFileId).toBeNull();
    expect(store.get().avatarChange).toEqual({ step: "done", removed: true });
  });

  it("says why: a type that is no image, too large, infected", async () => {
    const tooLarge = new ColinkRequestError({
      code: "too_large",
      message: "an avatar is at most 5242880 bytes",
      retryable: false,
    });
    const refused = fakeClient({ begin: () => Promise.reject(tooLarge) });
    const first = setup(refused.client, async () => avatarFile("clean"));
    await first.changer.change(new File(["x"], "cv.pdf", { type: "application/pdf" }));
    expect(refused.asked).toEqual([]);
    expect(first.store.get().avatarChange).toEqual({
      step: "failed",
      message: "Could not use cv.pdf: an avatar must be a PNG, JPEG, GIF or WebP image",
    });
    await first.changer.change(png());
    expect(first.store.get().avatarChange).toEqual({
      step: "failed",
      message: "Could not use me.png: it is larger than 5 MB, the largest avatar allowed",
    });

    const infected = fakeClient();
    const second = setup(infected.client, async () => avatarFile("infected"));
    await second.changer.change(png());
    expect(infected.asked.map((a) => a.op)).not.toContain("user.update");
    expect(second.store.get().avatarChange).toEqual({
      step: "failed",
      message: "Could not use me.png: it contained a virus",
    });
    expect(second.store.get().me?.avatarFileId).toBeNull();
  });

  it("lets a removal supersede a change waiting for its scan", async () => {
    const { client, asked } = fakeClient();
    const { store, changer } = setup(
      client,
      (_fileId, signal) =>
        new Promise<FileInfo>((_resolve, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason)),
        ),
    );
    const changing = changer.change(png());
    await new Promise((r) => setTimeout(r, 0));
    expect(store.get().avatarChange?.step).toBe("scanning");
    await changer.remove();
    await changing;
    expect(asked.filter((a) => a.op === "user.update").map((a) => a.args)).toEqual([{ avatarFileId: null }]);
    expect(store.get().avatarChange).toEqual({ step: "done", removed: true });
  });
});
