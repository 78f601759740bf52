/**
 * A file of a message that is not shown as an image: a group named by the file's name with
 * its size, and a link `Download <name>` when it may be had, or why not (`Scanning…`, the
 * quarantine, `Could not be scanned`, `Not available`). Never a link for a file that may
 * not be served.
 */
import { formatFileSize } from "../format/file-size.js";
import { type FileDisplay, fileStateText } from "../state/file-display.js";
import { serverUrl } from "../state/server-url.js";

export function FileCard({
  fileId,
  display,
}: {
  fileId: string;
  display: Exclude<FileDisplay, { kind: "image" }>;
}) {
  if (display.kind === "loading" || display.kind === "missing") {
    return (
      // biome-ignore lint/a11y/useSemanticElements: a file's name, size and link are a group, not a form's fieldset
      <div
        role="group"
        aria-label="File"
        aria-busy={display.kind === "loading"}
        className="file-card"
        data-file-id={fileId}
      >
        <span className="file-icon" aria-hidden="true">
          📄
        </span>
        <span className="file-state">
          {display.kind === "loading" ? fileStateText.loading : fileStateText.unavailable}
        </span>
      </div>
    );
  }
  const { file } = display;
  const blocked = display.kind === "blocked";
  return (
    // biome-ignore lint/a11y/useSemanticElements: a file's name, size and link are a group, not a form's fieldset
    <div
      role="group"
      aria-label={file.name}
      className={`file-card${blocked && display.settled ? " unavailable" : ""}`}
      data-file-id={fileId}
      data-file-status={file.status}
    >
      <span className="file-icon" aria-hidden="true">
        {file.status === "infected" ? "⚠" : "📄"}
      </span>
      <span className="file-card-text">
        <span className="file-name">{file.name}</span>
        <span className="file-meta">
          {formatFileSize(file.size)}
          {blocked && (
            <>
              {" · "}
              <span className="file-state">{display.reason}</span>
            </>
          )}
        </span>
      </span>
      {display.kind === "download" && (
        <a className="button small file-download" href={serverUrl(display.url)} download={file.name}>
          Download<span className="visually-hidden"> {file.name}</span>
        </a>
      )}
    </div>
  );
}
