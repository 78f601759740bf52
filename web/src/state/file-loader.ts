/**
 * Keeps the files that messages show current: asks `file.get` once per file (again when its
 * URLs are about to expire), applies `file.updated` events (a scan's verdict, its
 * thumbnails) and asks again for the new URLs, and after a reconnect asks again for the
 * files still being scanned (events missed while offline are not replayed). The answer of
 * the latest request for a file wins, so a late answer never undoes a newer status.
 */
import { type ColinkClient, ColinkRequestError } from "@colink/client";
import { reportError } from "../logger.js";
import type { AppState, FileInfo } from "./app-state.js";
import {
  mayHaveChanged,
  needsFetch,
  withFileDetails,
  withFileUpdate,
  withMissingFile,
} from "./file-cache.js";
import type { Store } from "./store.js";

/**
 * A file answered this recently is not asked again on expiry: a clock far off the server's
 * would otherwise judge every fresh URL expired and ask without end.
 */
const minRefreshMs = 30_000;

export class FileLoader {
  /** The latest request per file id: only its answer is applied. */
  private readonly latest = new Map<string, number>();
  /** Files with a request under way. */
  private readonly asking = new Set<string>();
  /** Files whose last request failed for a reason other than not_found (offline, say). */
  private readonly failed = new Set<string>();
  /** When each file's last answer arrived. */
  private readonly answeredAt = new Map<string, number>();
  private requests = 0;

  constructor(
    private readonly client: ColinkClient,
    private readonly store: Store<AppState>,
  ) {}

  /** Asks for a file unless what is held of it is current (or a request is under way). */
  ensure(fileId: string): void {
    const held = this.store.get().files[fileId];
    const now = Date.now();
    if (this.asking.has(fileId) || !needsFetch(held, now)) return;
    if (held && !held.stale && now - (this.answeredAt.get(fileId) ?? 0) < minRefreshMs) return;
    void this.fetch(fileId);
  }

  /** `file.updated`: the file's new status shows at once; its URLs are asked again. */
  onUpdated(file: FileInfo): void {
    // Not held and not asked: nothing shows it. Asked: the answer under way may be older.
    if (!this.store.get().files[file.id] && !this.asking.has(file.id)) return;
    this.store.update((s) => ({ ...s, files: withFileUpdate(s.files, file) }));
    void this.fetch(file.id);
  }

  /** After a reconnect: asks again for every held file that may have changed meanwhile. */
  refreshUnsettled(): void {
    for (const [fileId, held] of Object.entries(this.store.get().files)) {
      if (mayHaveChanged(held)) void this.fetch(fileId);
    }
    for (const fileId of this.failed) if (!this.store.get().files[fileId]) void this.fetch(fileId);
  }

  private async fetch(fileId: string): Promise<void> {
    const request = ++this.requests;
    this.latest.set(fileId, request);
    this.asking.add(fileId);
    const current = () => this.latest.get(fileId) === request;
    try {
      const details = await this.client.request("file.get", { fileId });
      if (!current()) return;
      this.failed.delete(fileId);
      this.answeredAt.set(fileId, Date.now());
      this.store.update((s) => ({ ...s, files: withFileDetails(s.files, details) }));
    } catch (error) {
      if (!current()) return;
      this.failed.delete(fileId);
      if (error instanceof ColinkRequestError && error.code === "not_found") {
        this.store.update((s) => ({ ...s, files: withMissingFile(s.files, fileId) }));
      } else {
        // Asked again after a reconnect, or when the message shows again.
        this.failed.add(fileId);
        reportError(`loading file ${fileId}`, error);
      }
    } finally {
      if (current()) this.asking.delete(fileId);
    }
  }
}
