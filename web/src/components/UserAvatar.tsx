/** The avatar of a person the app holds (state `users`): decorative, for where their name shows beside it. */
import { useChatState } from "../chat-context.js";
import { userName } from "../state/conversation-name.js";
import { Avatar, type AvatarSize } from "./Avatar.js";

export function UserAvatar({ userId, size }: { userId: string; size: AvatarSize }) {
  const name = useChatState((s) => userName(s.users, userId));
  const fileId = useChatState((s) => s.users[userId]?.avatarFileId ?? null);
  return <Avatar userId={userId} name={name} fileId={fileId} size={size} />;
}
