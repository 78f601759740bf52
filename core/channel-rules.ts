/**
 * Who may do what in a channel, as pure functions of the channel, the caller's
 * membership and the caller's site role. The ChannelActor asks these on every op.
 */
import type { ChannelRecord } from "./ports.js";
import type { ChannelRole, Principal } from "./types.js";

/** What the rules look at. `role` is the caller's channel role, or null for a non-member. */
export interface Standing {
  channel: ChannelRecord;
  role: ChannelRole | null;
  principal: Principal;
}

const isSiteStaff = (p: Principal) => p.role === "admin" || p.role === "moderator";
const isChannelStaff = (r: ChannelRole | null) => r === "owner" || r === "moderator";

/**
 * May the caller see the channel, its history and its events? Members may; anyone but a
 * guest may read a public channel (as Slack lets you preview one before joining).
 */
export function canRead({ channel, role, principal }: Standing): boolean {
  if (role !== null) return true;
  return channel.kind === "public" && principal.role !== "guest";
}

/** May the caller post in the channel? Members of a channel that is not archived. */
export function canPost({ channel, role }: Standing): boolean {
  return role !== null && !channel.archived;
}

/** May the caller join it by themselves? */
export function canJoin({ channel, principal }: Standing): boolean {
  return channel.kind === "public" && !channel.archived && principal.role !== "guest";
}

/** May the caller add someone else? Any non-guest member, outside DMs. */
export function canInvite({ channel, role, principal }: Standing): boolean {
  return (
    role !== null &&
    !channel.archived &&
    principal.role !== "guest" &&
    (channel.kind === "public" || channel.kind === "private")
  );
}

/** May the caller rename it or change its topic? */
export function canManage({ channel, role, principal }: Standing): boolean {
  if (channel.kind === "dm") return false;
  return isChannelStaff(role) || principal.role === "admin";
}

/** May the caller archive it? */
export function canArchive({ channel, role, principal }: Standing): boolean {
  if (channel.kind === "dm" || channel.kind === "group_dm") return false;
  return role === "owner" || principal.role === "admin";
}

/** May the caller remove `targetRole` from the channel? Nobody removes an owner but an admin. */
export function canKick(standing: Standing, targetRole: ChannelRole): boolean {
  const { channel, role, principal } = standing;
  if (channel.kind === "dm" || channel.kind === "group_dm") return false;
  if (targetRole === "owner" && principal.role !== "admin") return false;
  return isChannelStaff(role) || isSiteStaff(principal);
}

/** Does the caller moderate this channel: channel owner or moderator, site admin or moderator? */
export function canModerate({ role, principal }: Standing): boolean {
  return isChannelStaff(role) || isSiteStaff(principal);
}

/** May the caller delete a message by `authorId`? Its author, channel staff, site staff. */
export function canDeleteMessage(standing: Standing, authorId: string): boolean {
  if (standing.principal.userId === authorId)
    return standing.role !== null || isSiteStaff(standing.principal);
  return isChannelStaff(standing.role) || isSiteStaff(standing.principal);
}

/** May the caller create channels at all? */
export function canCreateChannel(principal: Principal): boolean {
  return principal.role !== "guest";
}
