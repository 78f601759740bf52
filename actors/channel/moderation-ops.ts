/**
 * Channel ops of moderation (issue 23): `msg.flag` (anyone who can read the message),
 * `msg.remove` and `flag.resolve` (site moderators and admins, members of the channel or
 * not). A removal is a delete (`message.deleted` in the log, fanned out to members) whose
 * event says who removed it and why; the original is kept apart (`removed_messages`, for
 * the moderators' view of flags) and in the `msg.remove` audit entry, both written in the
 * same commit, never in the log members read. `flag.resolve` writes its own audit entry.
 *
 * Flags are not log events: members must not learn who reported what, and the log is what
 * every member (and the event stream) reads. A flag is still written in the channel's
 * group commit, so a reply acknowledges a flag that is durable (invariant 3).
 */
import { fail } from "../../core/errors.js";
import { newFlagId } from "../../core/ids.js";
import { isSiteModerator, moderatorViewOf, newFlag, resolvedFlag } from "../../core/moderation-rules.js";
import type { ArgsOf } from "../../core/ops.js";
import type { StoredMessage } from "../../core/ports.js";
import type { Principal } from "../../core/types.js";
import type { ChannelState, Reply } from "./channel-state.js";
import { redactMessage } from "./message-ops.js";

/** A reason or note with something in it (the schema bounds its length). */
function moderationText(text: string, what: string): string {
  if (text.trim().length === 0) throw fail.badRequest(`${what} is empty`, { path: `/${what}` });
  return text;
}

/** Refuses anyone but a site moderator or admin. */
function mustModerate(p: Principal, what: string): void {
  if (!isSiteModerator(p)) throw fail.forbidden(`only site moderators and admins ${what}`);
}

/**
 * Removes a message as moderator `by`: keeps the original apart and audits the removal
 * with it (`msg.remove`, the chain protects what was said), then deletes it with
 * `removedBy` and `reason` in its `message.deleted` event. The message's other open
 * flags are resolved `removed` with it (the reason as their note): once it is gone they
 * have nothing left to decide. Returns the deleted message.
 */
async function removeAs(
  st: ChannelState,
  by: string,
  found: StoredMessage,
  reason: string,
  flagId?: string,
): Promise<StoredMessage> {
  const now = st.deps.now();
  const others = (await st.openFlagsOf(found.id)).filter((f) => f.id !== flagId);
  for (const f of others) st.saveFlag(resolvedFlag(f, "removed", by, now, reason));
  st.keepOriginal({
    messageId: found.id,
    channelId: st.id,
    removedBy: by,
    reason,
    removedAt: now,
    original: found,
  });
  st.audit(by, "msg.remove", found.id, {
    channelId: st.id,
    authorId: found.authorId,
    reason,
    ...(flagId === undefined ? {} : { flagId }),
    ...(others.length === 0 ? {} : { alsoResolved: others.map((f) => f.id) }),
    original: {
      text: found.text,
      files: found.files,
      createdAt: found.createdAt,
      editedAt: found.editedAt,
      threadRootId: found.threadRootId,
    },
  });
  return redactMessage(st, found, { by, removedBy: by, reason });
}

/** `msg.flag`: one open flag per message and reporter; flagging again answers the open one. */
export async function flagMessage(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"msg.flag">,
): Promise<Reply<"msg.flag">> {
  st.readable(p);
  const reason = moderationText(a.reason, "reason");
  const found = await st.liveMessage(a.messageId);
  const open = (await st.openFlagsOf(found.id)).find((f) => f.reporterId === p.userId);
  if (open) return { result: { flag: open } };
  const now = st.deps.now();
  const flag = newFlag({
    id: newFlagId(st.id, now),
    messageId: found.id,
    channelId: st.id,
    reporterId: p.userId,
    reason,
    createdAt: now,
  });
  st.saveFlag(flag);
  return { result: { flag } };
}

/**
 * `msg.remove`: any message of the channel, by a site moderator or admin whether or not
 * they are a member (nothing else of the channel is shown to them, and they do not join).
 * Archived channels too: moderation must reach what is read-only to members.
 */
export async function removeMessage(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"msg.remove">,
): Promise<Reply<"msg.remove">> {
  mustModerate(p, "remove messages");
  const reason = moderationText(a.reason, "reason");
  // A channel that does not exist holds no message: the same answer as a wrong id.
  const found = st.exists ? await st.findMessage(a.messageId) : null;
  if (!found) throw fail.notFound("message");
  if (found.deletedAt !== null) throw fail.conflict("message is already deleted");
  const removed = await removeAs(st, p.userId, found, reason);
  return { result: { message: st.viewFor(p, removed) } };
}

/**
 * `flag.resolve`: `removed` removes the message (unless it is deleted already) with the
 * note, or else the flag's reason, as the reason, and so resolves its other open flags
 * too; `dismissed` leaves it and them. Once only.
 */
export async function resolveFlag(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"flag.resolve">,
): Promise<Reply<"flag.resolve">> {
  mustModerate(p, "resolve flags");
  const note = a.note === undefined ? undefined : moderationText(a.note, "note");
  const flag = st.exists ? await st.findFlag(a.flagId) : null;
  if (!flag) throw fail.notFound("flag");
  if (flag.status !== "open") throw fail.conflict("flag is already resolved");
  const found = await st.findMessage(flag.messageId);
  let view = found ? moderatorViewOf(found, null) : undefined;
  if (a.resolution === "removed" && found && found.deletedAt === null) {
    const removed = await removeAs(st, p.userId, found, note ?? flag.reason, flag.id);
    view = moderatorViewOf(removed, found);
  }
  const resolved = resolvedFlag(flag, a.resolution, p.userId, st.deps.now(), note);
  st.saveFlag(resolved);
  st.audit(p.userId, "flag.resolve", flag.id, {
    channelId: st.id,
    messageId: flag.messageId,
    reporterId: flag.reporterId,
    reason: flag.reason,
    resolution: a.resolution,
    ...(note === undefined ? {} : { note }),
  });
  return { result: { flag: view ? { ...resolved, message: view } : resolved } };
}
