/** Channel ops about messages: send (threads, mentions), edit, delete, history, versions. */
import * as rules from "../../core/channel-rules.js";
import { fail } from "../../core/errors.js";
import { IdPrefix, newId } from "../../core/ids.js";
import { newMessage, parseMentions } from "../../core/message-rules.js";
import type { ArgsOf } from "../../core/ops.js";
import type { StoredMessage } from "../../core/ports.js";
import type { Principal } from "../../core/types.js";
import type { ChannelState, Reply } from "./channel-state.js";
import { attachableFiles } from "./file-ops.js";

/** Resolves the mentions in `text` to members of this channel (others are never notified). */
async function mentionsIn(
  st: ChannelState,
  text: string,
): Promise<Pick<StoredMessage, "mentions" | "broadcast">> {
  const parsed = parseMentions(text);
  if (parsed.usernames.length === 0) return { mentions: [], broadcast: parsed.broadcast };
  const users = await st.deps.directory.getUsersByUsername(parsed.usernames);
  const mentions = users.filter((u) => st.isMember(u.id)).map((u) => u.id);
  return { mentions, broadcast: parsed.broadcast };
}

/** Sends `mention` on the personal topic of each member the message newly mentions. */
function notifyMentions(st: ChannelState, m: StoredMessage, before: StoredMessage | null): void {
  const already = new Set(before?.mentions ?? []);
  const everyone = m.broadcast !== null && before?.broadcast == null;
  const targets = everyone ? [...st.memberIds()] : m.mentions.filter((u) => !already.has(u));
  for (const userId of targets) {
    if (userId === m.authorId || !st.isMember(userId)) continue;
    st.notifyUser(userId, "mention", { channelId: st.id, message: st.viewFor(null, m) });
  }
}

/** Who follows a thread: its participants unless they unfollowed, and explicit followers. */
function followersOf(root: StoredMessage, follows: Map<string, boolean>): string[] {
  const out = new Set(root.threadParticipants.filter((u) => follows.get(u) !== false));
  for (const [u, following] of follows) if (following) out.add(u);
  return [...out];
}

/** `msg.send`, and a thread reply with `threadRootId`. */
export async function sendMessage(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"msg.send">,
): Promise<Reply<"msg.send">> {
  // A retry returns the original even if the sender may no longer post (invariant 4).
  st.readable(p);
  const knownId = st.sentMessageId(p.userId, a.clientMsgId);
  if (knownId !== undefined) {
    const original = await st.findMessage(knownId);
    if (original) return { result: { message: st.viewFor(p, original) } };
  }
  st.postable(p);
  const fileIds = await attachableFiles(st, p, a.fileIds ?? []);
  // A message may be only its files; otherwise it needs text.
  if (fileIds.length === 0 || a.text !== "") st.checkText(a.text);
  const message = await postMessage(st, p.userId, a.text, a.clientMsgId, a.threadRootId ?? null, fileIds);
  // The actor sends this reply as the bytes of the message's `message.created` event (see
  // `withReplyBytes` in channel-actor.ts).
  return { result: { message: st.viewFor(p, message) } };
}

/**
 * Posts a message as `authorId` (a send, or a scheduled message falling due): appends
 * `message.created`, and for a reply updates the root in the same batch with
 * `thread.updated`, auto-follows the author and notifies the thread's followers.
 */
export async function postMessage(
  st: ChannelState,
  authorId: string,
  text: string,
  clientMsgId: string,
  threadRootId: string | null,
  files: string[] = [],
): Promise<StoredMessage> {
  let root: StoredMessage | null = null;
  if (threadRootId !== null) {
    const found = await st.liveMessage(threadRootId);
    // Replies do not nest: a reply to a reply joins the root's thread.
    root = found.threadRootId === null ? found : await st.liveMessage(found.threadRootId);
  }
  const { mentions, broadcast } = await mentionsIn(st, text);
  const follows = root ? await st.followsOf(root.id) : null;
  const now = st.deps.now();
  const message: StoredMessage = newMessage({
    id: newId(IdPrefix.message, now),
    channelId: st.id,
    seq: st.lastSeq + 1,
    authorId,
    text,
    clientMsgId,
    createdAt: now,
    threadRootId: root?.id ?? null,
    mentions,
    broadcast,
    files,
  });
  st.append("message.created", { message: st.viewFor(null, message) });
  st.addMessage(message);
  notifyMentions(st, message, null);
  if (root && follows) {
    // The root's latest state: the reads above yielded.
    const current = (await st.findMessage(root.id)) ?? root;
    const participants =
      current.threadParticipants.length > 0 ? current.threadParticipants : [current.authorId];
    const updated: StoredMessage = {
      ...current,
      replyCount: current.replyCount + 1,
      lastReplyAt: now,
      threadParticipants: participants.includes(authorId) ? participants : [...participants, authorId],
    };
    threadChanged(st, updated);
    // Being mentioned in a thread makes one follow it (unless one unfollowed it).
    for (const userId of mentions) {
      if (follows.get(userId) === undefined && !updated.threadParticipants.includes(userId)) {
        st.setFollow(updated.id, userId, true, follows);
      }
    }
    for (const userId of followersOf(updated, follows)) {
      // A mentioned follower already got `mention` for this reply.
      if (userId === authorId || mentions.includes(userId) || !(await st.canUserRead(userId))) continue;
      st.notifyUser(userId, "thread.reply", {
        channelId: st.id,
        rootId: updated.id,
        message: st.viewFor(null, message),
      });
    }
  }
  return message;
}

/** `msg.edit`: author only; keeps the replaced text as a version; re-reads mentions. */
export async function editMessage(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"msg.edit">,
): Promise<Reply<"msg.edit">> {
  st.postable(p);
  const found = await st.liveMessage(a.messageId);
  if (found.authorId !== p.userId) throw fail.forbidden("only the author can edit a message");
  if (found.text === a.text) return { result: { message: st.viewFor(p, found) } };
  st.checkText(a.text);
  const versions = await st.versionsOf(found.id);
  const { mentions, broadcast } = await mentionsIn(st, a.text);
  const current = await st.liveMessage(a.messageId);
  const now = st.deps.now();
  const version = { messageId: found.id, version: versions.length + 1, text: current.text, editedAt: now };
  st.addVersion(version);
  const message: StoredMessage = { ...current, text: a.text, editedAt: now, mentions, broadcast };
  st.replaceMessage(message);
  st.append("message.updated", { message: st.viewFor(null, message) });
  notifyMentions(st, message, current);
  return { result: { message: st.viewFor(p, message) } };
}

/** `msg.versions`: the author, channel staff and site staff may read them. */
export async function messageVersions(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"msg.versions">,
): Promise<Reply<"msg.versions">> {
  const s = st.readable(p);
  const found = await st.findMessage(a.messageId);
  if (!found) throw fail.notFound("message");
  if (found.authorId !== p.userId && !rules.canModerate(s)) {
    throw fail.forbidden("only the author and moderators can read earlier versions");
  }
  return { result: { versions: [...(await st.versionsOf(found.id))] } };
}

/** `msg.delete`: soft delete by the author, channel staff or site staff. */
export async function deleteMessage(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"msg.delete">,
): Promise<Reply<"msg.delete">> {
  const s = st.readable(p);
  if (s.channel.archived) throw fail.forbidden("channel is archived");
  const found = await st.findMessage(a.messageId);
  if (!found) throw fail.notFound("message");
  if (!rules.canDeleteMessage(s, found.authorId)) throw fail.forbidden("cannot delete this message");
  if (found.deletedAt !== null) return { result: {} };
  await redactMessage(st, found, { by: p.userId });
  return { result: {} };
}

/**
 * Soft-deletes a message of this channel (a delete, or a moderator's removal): its text,
 * mentions, reactions and pin are cleared, `message.deleted` is logged with `data` (who,
 * and for a removal why), and a reply is counted off its root. Returns the deleted message.
 */
export async function redactMessage(
  st: ChannelState,
  found: StoredMessage,
  data: Record<string, unknown>,
): Promise<StoredMessage> {
  const message: StoredMessage = {
    ...found,
    text: "",
    mentions: [],
    broadcast: null,
    reactions: [],
    pinnedAt: null,
    pinnedBy: null,
    deletedAt: st.deps.now(),
  };
  st.replaceMessage(message);
  st.append("message.deleted", { messageId: message.id, deletedAt: message.deletedAt, ...data });
  if (found.threadRootId !== null) await replyRemoved(st, found.threadRootId);
  return message;
}

/** A reply was deleted: its root counts one reply less (participants stay). */
async function replyRemoved(st: ChannelState, rootId: string): Promise<void> {
  const root = await st.findMessage(rootId);
  if (!root || root.replyCount === 0) return;
  threadChanged(st, { ...root, replyCount: root.replyCount - 1 });
}

/** Stores a thread root's new counters and logs `thread.updated`. */
function threadChanged(st: ChannelState, root: StoredMessage): void {
  st.replaceMessage(root);
  st.append("thread.updated", {
    rootId: root.id,
    replyCount: root.replyCount,
    lastReplyAt: root.lastReplyAt,
    threadParticipants: root.threadParticipants,
  });
}

/** `msg.history`: top-level messages (thread replies are read with `thread.history`). */
export async function history(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"msg.history">,
): Promise<Reply<"msg.history">> {
  st.readable(p);
  const page = await st.page({
    limit: a.limit ?? 50,
    ...(a.beforeSeq === undefined ? {} : { beforeSeq: a.beforeSeq }),
    ...(a.afterSeq === undefined ? {} : { afterSeq: a.afterSeq }),
  });
  return { result: { messages: page.messages.map((m) => st.viewFor(p, m)), hasMore: page.hasMore } };
}

/** `thread.history`: a root and its replies, oldest first. */
export async function threadHistory(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"thread.history">,
): Promise<Reply<"thread.history">> {
  st.readable(p);
  const root = await st.findMessage(a.rootId);
  if (!root || root.threadRootId !== null) throw fail.notFound("thread");
  const page = await st.page({ thread: root.id, afterSeq: a.afterSeq ?? 0, limit: a.limit ?? 50 });
  return {
    result: {
      root: st.viewFor(p, (await st.findMessage(root.id)) ?? root),
      messages: page.messages.map((m) => st.viewFor(p, m)),
      hasMore: page.hasMore,
    },
  };
}

/** `thread.follow` and `thread.unfollow`. */
export async function followThread(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"thread.follow">,
  following: boolean,
): Promise<Reply<"thread.follow">> {
  st.readable(p);
  const root = await st.findMessage(a.rootId);
  if (!root || root.threadRootId !== null) throw fail.notFound("thread");
  const follows = await st.followsOf(root.id);
  if (follows.get(p.userId) !== following) st.setFollow(root.id, p.userId, following, follows);
  return { result: {} };
}
