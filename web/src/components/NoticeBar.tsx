/** Shows an action that failed (the last one), until dismissed. */
import { useChat, useChatState } from "../chat-context.js";

export function NoticeBar() {
  const { actions } = useChat();
  const notice = useChatState((s) => s.notice);
  if (!notice) return null;
  return (
    <div className="notice" role="alert">
      <span>{notice}</span>
      <button type="button" className="button subtle" onClick={() => actions.dismissNotice()}>
        Dismiss
      </button>
    </div>
  );
}
