/** Shown over a conversation or thread while files are dragged over it: where they will go. */
export function DropHint() {
  return (
    <div className="drop-hint" aria-hidden="true">
      <span>Drop files to attach them</span>
    </div>
  );
}
