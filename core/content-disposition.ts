/**
 * The Content-Disposition of a download, the same whichever store serves it (Colink's own
 * blob route, or S3 through a presigned GET): always `attachment`, so that a file someone
 * uploaded never renders as a page of this origin, with the file name (RFC 6266) both as
 * an ASCII fallback and, for every browser since 2011, UTF-8 (RFC 8187).
 */

/** File names longer than this (in characters) are cut: browsers and file systems cut them anyway. */
const maxNameLength = 200;

/** The name as a file name: no control characters, no path, not empty. */
export function safeFileName(name: string): string {
  const cleaned = Array.from(name.normalize("NFC"))
    // Control characters would split or end the header; separators would make a path.
    .filter((c) => !isControl(c))
    .map((c) => (c === "/" || c === "\\" ? "_" : c))
    .join("")
    .trim();
  const cut = Array.from(cleaned).slice(0, maxNameLength).join("");
  return cut === "" || cut === "." || cut === ".." ? "download" : cut;
}

/** C0 and C1 control characters, and DEL. */
function isControl(c: string): boolean {
  const code = c.codePointAt(0)!;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** RFC 8187's value encoding: percent-encoded UTF-8 with only attr-chars left as they are. */
function extValue(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `attachment`, with `fileName` (made safe) when there is one. */
export function attachmentDisposition(fileName?: string | null): string {
  if (fileName == null) return "attachment";
  const name = safeFileName(fileName);
  // The quoted fallback: printable ASCII without the quote and backslash it would need escaped.
  const ascii = name.replace(/[^\u0020-\u007e]|["\\%]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${extValue(name)}`;
}
