/** The banner across the top: the app's name, the message search, who is signed in, and Sign out. */
import { useChatState } from "../chat-context.js";
import { PresenceDot } from "./PresenceDot.js";
import { SearchBox } from "./SearchBox.js";

export function AppHeader({
  onSignOut,
  searchQuery,
  onSearch,
}: {
  onSignOut: () => Promise<void>;
  /** The query of the search results shown, or null elsewhere. */
  searchQuery: string | null;
  onSearch: (query: string) => void;
}) {
  const me = useChatState((s) => s.me);
  const myStatus = useChatState((s) => (me ? s.presence[me.id] : undefined));
  return (
    <header className="app-header">
      <span className="brand" aria-hidden="true">
        Colink
      </span>
      <SearchBox query={searchQuery} onSearch={onSearch} />
      <div className="header-user">
        {me && (
          <span className="header-name">
            <PresenceDot status={myStatus ?? "online"} />
            <span>{me.displayName || me.username}</span>
          </span>
        )}
        <button type="button" className="button subtle on-dark" onClick={() => void onSignOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}
