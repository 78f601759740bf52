/** Channel ops about the channel itself and its members, DMs included. */
import * as rules from "../../core/channel-rules.js";
import { fail } from "../../core/errors.js";
import type { ArgsOf } from "../../core/ops.js";
import type { Principal } from "../../core/types.js";
import type { ChannelState, Reply } from "./channel-state.js";

/** Most people in a group DM, the caller included. */
export const maxGroupDmSize = 8;

/** `ch.create`: the caller becomes the owner. */
export function createChannel(st: ChannelState, p: Principal, a: ArgsOf<"ch.create">): Reply<"ch.create"> {
  if (st.exists) throw fail.conflict("channel id already in use");
  if (!rules.canCreateChannel(p)) throw fail.forbidden("guests cannot create channels");
  st.create({ name: a.name, kind: a.kind, topic: a.topic ?? "", createdBy: p.userId });
  st.setMember(p.userId, "owner", null);
  return { result: { channel: st.view() } };
}

/**
 * `dm.open`: the channel of exactly this set of people. Its id is derived from the set
 * (transport/routing.ts), so concurrent opens all reach this one actor, which creates it
 * once; the others find it.
 */
export async function openDm(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"dm.open">,
): Promise<Reply<"dm.open">> {
  const people = [...new Set([p.userId, ...a.userIds])].sort();
  if (people.length > maxGroupDmSize)
    throw fail.badRequest(`a group DM holds at most ${maxGroupDmSize} people`);
  if (st.exists) {
    const same = people.length === st.memberCount && people.every((u) => st.isMember(u));
    if (!same) throw fail.conflict("another conversation holds this id");
    return { result: { channel: st.view() } };
  }
  if (p.role === "guest" && people.length > 1) {
    // Guests may reach only people they already share a channel with; kept simple: refuse.
    throw fail.forbidden("guests cannot open direct messages");
  }
  const users = await Promise.all(people.map((u) => st.deps.directory.getUser(u)));
  if (users.some((u) => u === null || u.deactivated)) throw fail.notFound("user");
  if (st.exists) return { result: { channel: st.view() } }; // created while the users were read
  st.create({ name: "", kind: people.length <= 2 ? "dm" : "group_dm", topic: "", createdBy: p.userId });
  for (const u of people) st.setMember(u, "member", u === p.userId ? null : p.userId);
  const channel = st.view();
  for (const u of people) if (u !== p.userId) st.notifyUser(u, "dm.opened", { channel, by: p.userId });
  return { result: { channel } };
}

/** `ch.update`: rename or change the topic. */
export function updateChannel(st: ChannelState, p: Principal, a: ArgsOf<"ch.update">): Reply<"ch.update"> {
  const s = st.readable(p);
  if (!rules.canManage(s)) throw fail.forbidden("only channel owners and moderators can change the channel");
  if (s.channel.archived) throw fail.forbidden("channel is archived");
  const name = a.name ?? s.channel.name;
  const topic = a.topic ?? s.channel.topic;
  if (name !== s.channel.name || topic !== s.channel.topic) st.change({ name, topic });
  return { result: { channel: st.view() } };
}

/**
 * `ch.archive`: read-only from now on. Audited the first time, whoever archives: an
 * admin's archive of someone else's channel is the case the audit log is for, and an
 * owner's is kept beside it so the log answers "who archived this" either way.
 */
export function archiveChannel(st: ChannelState, p: Principal): Reply<"ch.archive"> {
  // A site admin archives any channel, private ones they are not in included; to anyone
  // else such a channel stays not found.
  const s = st.standing(p);
  if (!rules.canArchive(s)) {
    if (!rules.canRead(s)) throw fail.notFound("channel");
    throw fail.forbidden("only the channel owner or an admin can archive it");
  }
  if (!s.channel.archived) {
    st.change({ archived: true });
    st.audit(p.userId, "ch.archive", st.id, {
      name: s.channel.name,
      kind: s.channel.kind,
      as: s.role === "owner" ? "owner" : p.role,
    });
  }
  return { result: { channel: st.view() } };
}

/** `ch.join`: public channels only. */
export function joinChannel(st: ChannelState, p: Principal): Reply<"ch.join"> {
  const s = st.readable(p);
  if (s.role === null) {
    if (!rules.canJoin(s))
      throw fail.forbidden(s.channel.archived ? "channel is archived" : "cannot join this channel");
    st.setMember(p.userId, "member", null);
  }
  return { result: { channel: st.view() } };
}

/** `ch.leave`: idempotent. */
export function leaveChannel(st: ChannelState, p: Principal): Reply<"ch.leave"> {
  const s = st.readable(p);
  // A DM's people are its identity (dm.open finds it by them): it is hidden, not left.
  if (s.channel.kind === "dm" || s.channel.kind === "group_dm")
    throw fail.forbidden("direct messages cannot be left");
  if (s.role !== null) st.dropMember(p.userId, "left", null, p.role === "guest");
  return { result: {} };
}

/** `ch.invite`: any non-guest member adds someone (not into DMs). */
export async function inviteMember(
  st: ChannelState,
  p: Principal,
  a: ArgsOf<"ch.invite">,
): Promise<Reply<"ch.invite">> {
  const s = st.readable(p);
  if (!rules.canInvite(s)) throw fail.forbidden("cannot invite to this channel");
  const existing = st.member(a.userId);
  if (existing) return { result: { member: existing } };
  const user = await st.deps.directory.getUser(a.userId);
  if (!user || user.deactivated) throw fail.notFound("user");
  // The read above yielded; membership may have changed meanwhile, so look again.
  const again = st.member(a.userId);
  if (again) return { result: { member: again } };
  return { result: { member: st.setMember(a.userId, "member", p.userId) } };
}

/** `ch.kick`: channel staff or site staff remove a member. */
export function kickMember(st: ChannelState, p: Principal, a: ArgsOf<"ch.kick">): Reply<"ch.kick"> {
  const s = st.readable(p);
  if (s.channel.archived) throw fail.forbidden("channel is archived");
  const target = st.member(a.userId);
  if (!target) throw fail.notFound("member");
  if (a.userId === p.userId) throw fail.badRequest("use ch.leave to leave a channel");
  if (!rules.canKick(s, target.role)) throw fail.forbidden("cannot remove this member");
  st.dropMember(a.userId, "kicked", p.userId, true);
  return { result: {} };
}

/** `ch.members` */
export function listMembers(st: ChannelState, p: Principal): Reply<"ch.members"> {
  st.readable(p);
  return { result: { members: st.memberList() } };
}

/** `ch.get` */
export function getChannel(st: ChannelState, p: Principal): Reply<"ch.get"> {
  st.readable(p);
  return { result: { channel: st.view() } };
}
