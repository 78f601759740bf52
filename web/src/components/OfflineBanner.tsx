/** Says so while the connection is down after it was first open (the SDK is reconnecting). */
import { useChatState } from "../chat-context.js";

export function OfflineBanner() {
  const connection = useChatState((s) => s.connection);
  return (
    <div role="status" className={connection === "offline" ? "offline-banner" : "visually-hidden"}>
      {connection === "offline" ? "Offline — reconnecting…" : ""}
    </div>
  );
}
