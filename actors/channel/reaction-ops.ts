/** Channel ops that mark messages: reactions and pins. */
import { fail } from "../../core/errors.js";
import { isValidEmoji, withoutReaction, withReaction } from "../../core/message-rules.js";
import type { ArgsOf } from "../../core/ops.js";
import type { StoredMessage } from "../../core/ports.js";
import type { Principal } from "../../core/types.js";
import type { ChannelState, OpResult } from "./channel-state.js";

/** `react.add` and `react.remove`: idempotent per (message, user, emoji). */
export async function react(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"react.add">,
  add: boolean,
): Promise<OpResult> {
  st.postable(p);
  if (!isValidEmoji(a.emoji)) throw fail.badRequest("emoji must be a short name or one emoji");
  const found = await st.liveMessage(a.messageId);
  const reactions = add
    ? withReaction(found.reactions, a.emoji, p.userId)
    : withoutReaction(found.reactions, a.emoji, p.userId);
  if (reactions === found.reactions) return { message: st.viewFor(p, found) };
  if (reactions.length > st.deps.limits.maxDistinctReactions) {
    throw fail.conflict(`a message holds at most ${st.deps.limits.maxDistinctReactions} different emoji`);
  }
  const message: StoredMessage = { ...found, reactions };
  st.replaceMessage(message);
  st.batch.react({ messageId: found.id, userId: p.userId, emoji: a.emoji, at: st.deps.now() }, add);
  st.append(add ? "reaction.added" : "reaction.removed", {
    messageId: found.id,
    emoji: a.emoji,
    userId: p.userId,
  });
  return { message: st.viewFor(p, message) };
}

/** `pin.add` and `pin.remove`: any member of a channel that is not archived. */
export async function pin(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"pin.add">,
  on: boolean,
): Promise<OpResult> {
  st.postable(p);
  const found = await st.liveMessage(a.messageId);
  if ((found.pinnedAt !== null) === on) return { message: st.viewFor(p, found) };
  if (on && (await pinned(st)).length >= st.deps.limits.maxPins) {
    throw fail.conflict(`a channel holds at most ${st.deps.limits.maxPins} pins`);
  }
  const message: StoredMessage = on
    ? { ...found, pinnedAt: st.deps.now(), pinnedBy: p.userId }
    : { ...found, pinnedAt: null, pinnedBy: null };
  st.replaceMessage(message);
  st.append(on ? "pin.added" : "pin.removed", { messageId: found.id, by: p.userId });
  return { message: st.viewFor(p, message) };
}

/** The pinned messages, newest pin first: the store's, overlaid with changes in memory. */
async function pinned(st: ChannelState): Promise<StoredMessage[]> {
  const stored = await st.deps.history.listPinned(st.id, st.deps.limits.maxPins + 1);
  const byId = new Map(stored.map((m) => [m.id, m]));
  for (const m of [...st.touched.values(), ...st.messages]) {
    if (m.pinnedAt !== null || byId.has(m.id)) byId.set(m.id, m);
  }
  return [...byId.values()].filter((m) => m.pinnedAt !== null).sort((x, y) => y.pinnedAt! - x.pinnedAt!);
}

/** `pin.list` */
export async function listPins(st: ChannelState, p: Principal): Promise<OpResult> {
  st.readable(p);
  return { messages: (await pinned(st)).map((m) => st.viewFor(p, m)) };
}
