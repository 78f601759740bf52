/**
 * A clean image of a message: its thumbnail (alt text: the file's name) as a button
 * `View <name>` that opens the viewer.
 */
import { useState } from "react";
import { type FileDisplay, fitThumbnail } from "../state/file-display.js";
import { serverUrl } from "../state/server-url.js";
import { ImageViewer } from "./ImageViewer.js";

export function ImageAttachment({
  display,
  onLoad,
}: {
  display: Extract<FileDisplay, { kind: "image" }>;
  /** The thumbnail has loaded (the message may have grown). */
  onLoad: () => void;
}) {
  const [viewing, setViewing] = useState(false);
  const { file } = display;
  const shown = fitThumbnail(display.width, display.height);
  return (
    <div className="file-image" data-file-id={file.id} data-file-status={file.status}>
      <button
        type="button"
        className="image-button"
        aria-label={`View ${file.name}`}
        onClick={() => setViewing(true)}
      >
        <img
          src={serverUrl(display.thumbnail)}
          alt={file.name}
          width={shown.width}
          height={shown.height}
          onLoad={onLoad}
        />
      </button>
      {viewing && <ImageViewer details={display.details} onClose={() => setViewing(false)} />}
    </div>
  );
}
