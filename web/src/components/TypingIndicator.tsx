/** "alice is typing…" for the conversation or one thread, until the typing event expires. */
import { useChatState } from "../chat-context.js";
import { useNow } from "../hooks/use-now.js";
import { userName } from "../state/conversation-name.js";
import { typingText, typistsIn } from "../state/typing.js";

const noEntries: never[] = [];

export function TypingIndicator({
  channelId,
  threadRootId,
}: {
  channelId: string;
  threadRootId: string | null;
}) {
  const entries = useChatState((s) => s.typing[channelId] ?? noEntries);
  const users = useChatState((s) => s.users);
  const me = useChatState((s) => s.me?.id ?? "");
  const now = useNow(1000, entries.length > 0);
  const names = typistsIn(entries, threadRootId, me, now).map((id) => userName(users, id));
  return (
    <div className="typing-indicator" data-testid="typing-indicator" aria-live="polite">
      {typingText(names)}
    </div>
  );
}
