/**
 * A file a message carries, as held in the store: asked for while it shows (once, then again
 * whenever it changes or its URLs are about to expire, so a link or image never points at
 * an expired URL).
 */
import { useEffect } from "react";
import { useChat, useChatState } from "../chat-context.js";
import type { HeldFile } from "../state/app-state.js";
import { urlRefreshMarginMs } from "../state/file-cache.js";

export function useFile(fileId: string): HeldFile | undefined {
  const { files } = useChat();
  const held = useChatState((s) => s.files[fileId]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: asks again whenever what is held changes (stale, expiring)
  useEffect(() => {
    files.ensure(fileId);
  }, [files, fileId, held]);

  const expiresAt = held?.details?.expiresAt ?? null;
  useEffect(() => {
    if (expiresAt === null) return;
    const timer = setTimeout(
      () => files.ensure(fileId),
      Math.max(0, expiresAt - urlRefreshMarginMs - Date.now()),
    );
    return () => clearTimeout(timer);
  }, [files, fileId, expiresAt]);

  return held;
}
