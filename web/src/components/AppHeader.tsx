/**
 * The banner across the top: the app's name, the message search, who is signed in (their
 * avatar, a button `Change avatar` that opens the dialog `Your avatar`; their presence and
 * name), and Sign out.
 */
import { useState } from "react";
import { useChatState } from "../chat-context.js";
import { Avatar } from "./Avatar.js";
import { AvatarDialog } from "./AvatarDialog.js";
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
  const [changingAvatar, setChangingAvatar] = useState(false);
  const name = me ? me.displayName || me.username : "";
  return (
    <header className="app-header">
      <span className="brand" aria-hidden="true">
        Colink
      </span>
      <SearchBox query={searchQuery} onSearch={onSearch} />
      <div className="header-user">
        {me && (
          <>
            <button
              type="button"
              className="avatar-button"
              aria-label="Change avatar"
              aria-haspopup="dialog"
              title="Change avatar"
              onClick={() => setChangingAvatar(true)}
            >
              <Avatar userId={me.id} name={name} fileId={me.avatarFileId} size="header" />
            </button>
            <span className="header-name">
              <PresenceDot status={myStatus ?? "online"} />
              <span>{name}</span>
            </span>
          </>
        )}
        <button type="button" className="button subtle on-dark" onClick={() => void onSignOut()}>
          Sign out
        </button>
      </div>
      {changingAvatar && <AvatarDialog onClose={() => setChangingAvatar(false)} />}
    </header>
  );
}
