/**
 * An image opened from a message: a dialog named by the file's name showing the image (at
 * full size where the browser shows its type, else its medium thumbnail), its size and a
 * link `Download <name>`. Esc or `Close` closes it.
 */
import { formatFileSize } from "../format/file-size.js";
import type { FileDetails } from "../state/app-state.js";
import { viewerSource } from "../state/file-display.js";
import { serverUrl } from "../state/server-url.js";
import { Dialog } from "./Dialog.js";

export function ImageViewer({ details, onClose }: { details: FileDetails; onClose: () => void }) {
  const { file, url } = details;
  const source = viewerSource(details);
  return (
    <Dialog title={file.name} onClose={onClose} className="image-viewer">
      {source !== null && <img className="viewer-image" src={serverUrl(source)} alt={file.name} />}
      <p className="viewer-meta">
        <span>{formatFileSize(file.size)}</span>
        {url !== null && (
          <a className="button small" href={serverUrl(url)} download={file.name}>
            Download<span className="visually-hidden"> {file.name}</span>
          </a>
        )}
      </p>
    </Dialog>
  );
}
