/** Channel ops that mark messages: reactions and pins. */

import { reactionEmoji } from "../../core/emoji.js";
import { fail } from "../../core/errors.js";
import { withoutReaction, withReaction } from "../../core/message-rules.js";
import type { ArgsOf } from "../../core/ops.js";
import type { StoredMessage } from "../../core/ports.js";
import type { Principal } from "../../core/types.js";
import type { ChannelState, Reply } from "./channel-state.js";

/** Whether `userId` has reacted to `message` with `emoji`. */
function hasReacted(message: StoredMessage, emoji: string, userId: string): boolean {
  return message.reactions.some((r) => r.emoji === emoji && r.users.includes(userId));
}

/**
 * `react.add` and `react.remove`: idempotent per (message, user, emoji), the emoji in its
 * normalised form (core/emoji.ts), so that 👍 and 👍 U+FE0F are one reaction.
 */
export async function react(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"react.add">,
  add: boolean,
): Promise<Reply<"react.add">> {
  st.postable(p);
  const canonical = reactionEmoji(a.emoji);
  if (canonical === null) throw fail.badRequest("emoji must be a short name or one emoji");
  const found = await st.liveMessage(a.messageId);
  // A reaction added before emoji were normalised is kept under the form it came in: it is
  // removed by that form when the caller has none under the normalised one.
  const emoji =
    add || hasReacted(found, canonical, p.userId) || !hasReacted(found, a.emoji, p.userId)
      ? canonical
      : a.emoji;
  const reactions = add
    ? withReaction(found.reactions, emoji, p.userId)
    : withoutReaction(found.reactions, emoji, p.userId);
  if (reactions === found.reactions) return { result: { message: st.viewFor(p, found) } };
  if (reactions.length > st.deps.limits.maxDistinctReactions) {
    throw fail.conflict(`a message holds at most ${st.deps.limits.maxDistinctReactions} different emoji`);
  }
  const message: StoredMessage = { ...found, reactions };
  st.replaceMessage(message);
  st.recordReaction({ messageId: found.id, userId: p.userId, emoji, at: st.deps.now() }, add);
  st.append(add ? "reaction.added" : "reaction.removed", {
    messageId: found.id,
    emoji,
    userId: p.userId,
  });
  return { result: { message: st.viewFor(p, message) } };
}

/** `pin.add` and `pin.remove`: any member of a channel that is not archived. */
export async function pin(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"pin.add">,
  on: boolean,
): Promise<Reply<"pin.add">> {
  st.postable(p);
  const found = await st.liveMessage(a.messageId);
  if ((found.pinnedAt !== null) === on) return { result: { message: st.viewFor(p, found) } };
  if (on && (await st.pinned()).length >= st.deps.limits.maxPins) {
    throw fail.conflict(`a channel holds at most ${st.deps.limits.maxPins} pins`);
  }
  const message: StoredMessage = on
    ? { ...found, pinnedAt: st.deps.now(), pinnedBy: p.userId }
    : { ...found, pinnedAt: null, pinnedBy: null };
  st.replaceMessage(message);
  st.append(on ? "pin.added" : "pin.removed", { messageId: found.id, by: p.userId });
  return { result: { message: st.viewFor(p, message) } };
}

/** `pin.list` */
export async function listPins(st: ChannelState, p: Principal): Promise<Reply<"pin.list">> {
  st.readable(p);
  return { result: { messages: (await st.pinned()).map((m) => st.viewFor(p, m)) } };
}
