/** The composer's error area: why the last attachment failed, until dismissed or the next send. */
import { useChat, useChatState } from "../chat-context.js";
import { IconButton } from "./IconButton.js";

export function ComposerError({ composerKey }: { composerKey: string }) {
  const { uploads } = useChat();
  const error = useChatState((s) => s.attachError[composerKey] ?? null);
  if (error === null) return null;
  return (
    <div className="composer-error" role="alert">
      <span>{error}</span>
      <IconButton label="Dismiss error" icon="×" onClick={() => uploads.dismissError(composerKey)} />
    </div>
  );
}
