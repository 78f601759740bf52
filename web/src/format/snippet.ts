/**
 * A search hit's snippet cut into the pieces to render: the matched ranges (`marks`, UTF-16
 * offsets) and the text between them. Marks out of range, out of order or overlapping are
 * tolerated: they are clipped and merged, so every character is shown once.
 */

export interface SnippetPiece {
  text: string;
  marked: boolean;
}

export function splitSnippet(
  snippet: string,
  marks: ReadonlyArray<readonly [number, number]>,
): SnippetPiece[] {
  const ranges = marks
    .map(([start, end]) => [Math.max(0, start), Math.min(snippet.length, end)] as const)
    .filter(([start, end]) => start < end)
    .sort((a, b) => a[0] - b[0]);
  const pieces: SnippetPiece[] = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) pieces.push({ text: snippet.slice(at, from), marked: false });
    const last = pieces.at(-1);
    // A range that touches the previous mark extends it.
    if (last?.marked && from === at) last.text += snippet.slice(from, end);
    else pieces.push({ text: snippet.slice(from, end), marked: true });
    at = end;
  }
  if (at < snippet.length) pieces.push({ text: snippet.slice(at), marked: false });
  return pieces;
}
