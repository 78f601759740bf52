/**
 * Waits for the virus scan of a file the user uploaded (an avatar) to end: the server tells
 * the uploader with `file.updated` on their personal topic; `file.get` is also asked every
 * few seconds, since personal events are not replayed after a reconnect and one may be
 * missed. Resolves with the file once its status is settled (clean, unscanned, infected or
 * failed); rejects with the signal's reason when it is aborted.
 */
import type { ColinkClient } from "@colink/client";
import { reportError } from "../logger.js";
import type { FileInfo } from "./app-state.js";

/** How often `file.get` is asked while waiting, in case the event was missed. */
export const scanPollMs = 5000;

/** Statuses a scan will still change. */
function settled(file: FileInfo): boolean {
  return file.status !== "uploading" && file.status !== "pending";
}

export function scanVerdict(
  client: ColinkClient,
  fileId: string,
  signal: AbortSignal,
  pollMs: number = scanPollMs,
): Promise<FileInfo> {
  return new Promise<FileInfo>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = (end: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stopListening();
      signal.removeEventListener("abort", onAbort);
      end();
    };
    const onAbort = () => finish(() => reject(signal.reason));
    const stopListening = client.on("event", (_topic, type, data) => {
      if (type !== "file.updated") return;
      const file = data.file as FileInfo;
      if (file.id === fileId && settled(file)) finish(() => resolve(file));
    });
    const poll = () => {
      timer = setTimeout(async () => {
        try {
          const { file } = await client.request("file.get", { fileId });
          if (settled(file)) finish(() => resolve(file));
        } catch (error) {
          reportError(`checking the scan of ${fileId}`, error);
        }
        if (!done) poll();
      }, pollMs);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort);
    poll();
  });
}
