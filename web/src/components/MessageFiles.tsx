/** The files a message carries, each as an image or a file card (FileAttachment). */
import { FileAttachment } from "./FileAttachment.js";

export function MessageFiles({ fileIds }: { fileIds: readonly string[] }) {
  return (
    <div className="message-files">
      {fileIds.map((fileId) => (
        <FileAttachment key={fileId} fileId={fileId} />
      ))}
    </div>
  );
}
