/** The reaction picker: a dialog with a button per emoji; picking one reacts and closes. */
import { Dialog } from "./Dialog.js";

export const pickableEmoji = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "✅", "🙏", "🔥", "🚀", "👏"];

export function ReactionPicker({
  onPick,
  onClose,
}: {
  onPick: (emoji: string) => void;
  onClose: () => void;
}) {
  return (
    <Dialog title="Pick a reaction" onClose={onClose} className="reaction-dialog">
      <div className="emoji-grid">
        {pickableEmoji.map((emoji) => (
          <button
            key={emoji}
            type="button"
            className="emoji-button"
            onClick={() => {
              onPick(emoji);
              onClose();
            }}
          >
            {emoji}
          </button>
        ))}
      </div>
    </Dialog>
  );
}
