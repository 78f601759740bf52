/**
 * A composer's attachments before they are sent: a chip per file with its name, its size,
 * its upload's progress (a progress bar named `Uploading <name>` until the file is ready),
 * and a button `Remove <name>`.
 */
import { useChat, useChatState } from "../chat-context.js";
import { formatFileSize } from "../format/file-size.js";
import { attachmentsOf } from "../state/attachments.js";
import { IconButton } from "./IconButton.js";

export function AttachmentList({ composerKey }: { composerKey: string }) {
  const { uploads } = useChat();
  const attachments = useChatState((s) => attachmentsOf(s, composerKey));
  if (attachments.length === 0) return null;
  return (
    <ul className="attachment-list" aria-label="Attachments">
      {attachments.map((a) => (
        <li key={a.id} className={`attachment-chip${a.ready ? " ready" : ""}`}>
          <span className="attachment-icon" aria-hidden="true">
            {a.contentType.startsWith("image/") ? "🖼" : "📄"}
          </span>
          <span className="attachment-text">
            <span className="attachment-name">{a.name}</span>
            <span className="attachment-size">{formatFileSize(a.size)}</span>
          </span>
          {a.ready ? (
            <span className="attachment-done">Ready</span>
          ) : (
            <progress aria-label={`Uploading ${a.name}`} max={Math.max(a.size, 1)} value={a.sent} />
          )}
          <IconButton label={`Remove ${a.name}`} icon="×" onClick={() => uploads.remove(composerKey, a.id)} />
        </li>
      ))}
    </ul>
  );
}
