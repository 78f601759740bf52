/** Finds people (search.users), each with their avatar, and opens the DM or group DM with those checked. */
import type { User } from "@colink/client";
import { useEffect, useState } from "react";
import { useChat, useChatState } from "../chat-context.js";
import { navigate } from "../routes.js";
import { Avatar } from "./Avatar.js";
import { Dialog } from "./Dialog.js";

const maxPeople = 7;

export function NewMessageDialog({ onClose }: { onClose: () => void }) {
  const { actions } = useChat();
  const me = useChatState((s) => s.me);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<User[]>([]);
  const [picked, setPicked] = useState<User[]>([]);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const q = query.trim();
    if (q === "") {
      setFound([]);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      void actions.searchUsers(q).then((users) => live && setFound(users));
    }, 200);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [query, actions]);

  const toggle = (user: User, on: boolean) =>
    setPicked((p) => (on ? [...p.filter((u) => u.id !== user.id), user] : p.filter((u) => u.id !== user.id)));

  const shown = [...picked, ...found.filter((u) => u.id !== me?.id && !picked.some((p) => p.id === u.id))];

  const open = async () => {
    setBusy(true);
    const channel = await actions.openDirect(picked.map((u) => u.id));
    setBusy(false);
    if (!channel) return;
    onClose();
    navigate({ name: "channel", channelId: channel.id, rootId: null });
  };

  return (
    <Dialog title="New message" onClose={onClose}>
      <div className="form">
        <label htmlFor="find-people">Find people</label>
        <input
          id="find-people"
          autoFocus
          autoComplete="off"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <fieldset className="people-list">
          <legend className="visually-hidden">People</legend>
          {shown.length === 0 && query.trim() !== "" && <p className="hint">Nobody found.</p>}
          {shown.map((u) => {
            const checked = picked.some((p) => p.id === u.id);
            return (
              <label key={u.id} className="person">
                <input
                  type="checkbox"
                  checked={checked}
                  disabled={!checked && picked.length >= maxPeople}
                  onChange={(e) => toggle(u, e.target.checked)}
                />
                <Avatar
                  userId={u.id}
                  name={u.displayName || u.username}
                  fileId={u.avatarFileId}
                  size="inline"
                />
                <span>{u.displayName || u.username}</span>
                {u.displayName !== u.username && <span className="hint">@{u.username}</span>}
              </label>
            );
          })}
        </fieldset>
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="button primary"
            disabled={busy || picked.length === 0}
            onClick={open}
          >
            Open conversation
          </button>
        </div>
      </div>
    </Dialog>
  );
}
