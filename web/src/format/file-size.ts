/** A file's size as people read it: `812 B`, `14 KB`, `3.4 MB`, `1.2 GB` (1 KB = 1024 bytes). */

const units = ["KB", "MB", "GB", "TB"] as const;

export function formatFileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = value < 10 ? value.toFixed(1).replace(/\.0$/, "") : String(Math.round(value));
  return `${shown} ${units[unit]}`;
}
