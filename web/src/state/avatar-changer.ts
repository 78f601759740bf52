/**
 * Changes the signed-in user's avatar: an image (PNG, JPEG, GIF or WebP) goes through
 * `user.avatar.begin` (which may refuse it: too large), a PUT of its bytes to the signed URL
 * with progress, `file.complete`, then the virus scan's verdict (scan-verdict.ts), and once it
 * is clean `user.update {avatarFileId}` links it; `remove` unlinks it (`avatarFileId: null`).
 * Each step shows in the store (`avatarChange`), so the dialog may be closed and opened
 * again meanwhile. A new change (or a removal) supersedes one under way: its upload is
 * aborted, its scan no longer awaited, and nothing it answers afterwards is shown.
 */
import type { ColinkClient, User } from "@colink/client";
import { reportError } from "../logger.js";
import type { AppState, AvatarChange } from "./app-state.js";
import {
  avatarContentType,
  avatarFailure,
  avatarRemovalFailure,
  avatarScanRefusal,
  avatarTypeRefusal,
} from "./avatar-failure.js";
import { type PutRequest, putFile, UploadAborted } from "./put-file.js";
import { scanVerdict } from "./scan-verdict.js";
import { serverUrl } from "./server-url.js";
import type { Store } from "./store.js";

/** The longest file name the server takes. */
const maxNameLength = 255;

/** The scan refused the file: why, as the dialog says it. */
class AvatarRefused extends Error {}

export class AvatarChanger {
  /** The change under way: aborting it stops its upload and its wait for the scan. */
  private running: AbortController | null = null;

  constructor(
    private readonly client: ColinkClient,
    private readonly store: Store<AppState>,
    private readonly put: typeof putFile = putFile,
    private readonly scan: typeof scanVerdict = scanVerdict,
  ) {}

  /** Uploads `file` as the new avatar and, once scanned clean, links it to the profile. */
  async change(file: File): Promise<void> {
    const signal = this.start();
    const name = (file.name || "avatar").slice(0, maxNameLength);
    const contentType = avatarContentType(file.type);
    if (contentType === null) {
      this.show(signal, { step: "failed", message: avatarTypeRefusal(name) });
      return;
    }
    try {
      this.show(signal, { step: "uploading", name, size: file.size, sent: 0 });
      const begun = await this.client.request("user.avatar.begin", { name, size: file.size, contentType });
      if (signal.aborted) return;
      const upload: PutRequest = this.put(serverUrl(begun.uploadUrl), file, contentType, (sent) =>
        this.show(signal, { step: "uploading", name, size: file.size, sent }),
      );
      signal.addEventListener("abort", () => upload.abort());
      await upload.done;
      if (signal.aborted) return;
      let { file: info } = await this.client.request("file.complete", { fileId: begun.fileId });
      if (info.status === "pending" || info.status === "uploading") {
        this.show(signal, { step: "scanning", name });
        info = await this.scan(this.client, begun.fileId, signal);
      }
      if (info.status === "infected" || info.status === "failed") {
        throw new AvatarRefused(avatarScanRefusal(name, info.status));
      }
      if (signal.aborted) return;
      this.show(signal, { step: "saving", name });
      const { user } = await this.client.request("user.update", { avatarFileId: begun.fileId });
      this.applyUser(user);
      this.show(signal, { step: "done", removed: false });
    } catch (error) {
      if (signal.aborted || error instanceof UploadAborted) return;
      if (!(error instanceof AvatarRefused)) reportError(`changing the avatar to ${name}`, error);
      const message = error instanceof AvatarRefused ? error.message : avatarFailure(name, error);
      this.show(signal, { step: "failed", message });
    } finally {
      this.finish(signal);
    }
  }

  /** Removes the avatar from the profile (the placeholder shows again). */
  async remove(): Promise<void> {
    const signal = this.start();
    this.show(signal, { step: "removing" });
    try {
      const { user } = await this.client.request("user.update", { avatarFileId: null });
      this.applyUser(user);
      this.show(signal, { step: "done", removed: true });
    } catch (error) {
      reportError("removing the avatar", error);
      this.show(signal, { step: "failed", message: avatarRemovalFailure(error) });
    } finally {
      this.finish(signal);
    }
  }

  /** Forgets how the last change ended (the dialog closed, or the error dismissed); one under way goes on. */
  dismiss(): void {
    this.store.update((s) =>
      s.avatarChange?.step === "done" || s.avatarChange?.step === "failed" ? { ...s, avatarChange: null } : s,
    );
  }

  /** Stops the change under way, if any (the session ends). */
  stop(): void {
    this.running?.abort();
    this.running = null;
  }

  /** Supersedes the change under way and starts a new one. */
  private start(): AbortSignal {
    this.running?.abort();
    this.running = new AbortController();
    return this.running.signal;
  }

  private finish(signal: AbortSignal): void {
    if (this.running?.signal === signal) this.running = null;
  }

  /** Shows a step of the change, unless a newer one superseded it. */
  private show(signal: AbortSignal, change: AvatarChange): void {
    if (signal.aborted) return;
    this.store.update((s) => ({ ...s, avatarChange: change }));
  }

  /** The profile `user.update` answered: the user's own, everywhere it shows (the event follows too). */
  private applyUser(user: User): void {
    this.store.update((s) => ({ ...s, me: user, users: { ...s.users, [user.id]: user } }));
  }
}
