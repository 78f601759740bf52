/**
 * Domain types shared by every layer, defined once as TypeBox schemas so that the same
 * definition gives the TypeScript type, the validator and the OpenAPI document.
 * Times are Unix epoch milliseconds.
 */
import { type Static, Type as T } from "@sinclair/typebox";

/** A schema for one of a fixed list of strings. */
const literals = <V extends string>(values: readonly V[]) => T.Union(values.map((v) => T.Literal(v)));

/** Site-wide roles, from the token's role claim. */
export const SiteRoles = ["admin", "moderator", "member", "guest"] as const;
/** A site-wide role. */
export type SiteRole = (typeof SiteRoles)[number];
/** Schema of a site-wide role. */
export const SiteRoleSchema = literals(SiteRoles);

/** Roles inside one channel. */
export const ChannelRoles = ["owner", "moderator", "member"] as const;
/** A role inside one channel. */
export type ChannelRole = (typeof ChannelRoles)[number];
/** Schema of a channel role. */
export const ChannelRoleSchema = literals(ChannelRoles);

/** Kinds of channel; `dm` and `group_dm` are for direct messages (opened by `dm.open`, coming next). */
export const ChannelKinds = ["public", "private", "dm", "group_dm"] as const;
/** A kind of channel. */
export type ChannelKind = (typeof ChannelKinds)[number];
/** Schema of a channel kind. */
export const ChannelKindSchema = literals(ChannelKinds);

/** Who is asking: set by the transport from a verified token, never from the client. */
export interface Principal {
  userId: string;
  username: string;
  displayName: string;
  role: SiteRole;
}

/** Schema of a user profile. */
export const UserSchema = T.Object({
  id: T.String(),
  username: T.String(),
  displayName: T.String(),
  role: SiteRoleSchema,
  createdAt: T.Integer(),
});
/** A user profile. */
export type User = Static<typeof UserSchema>;

/** Schema of a channel as clients see it. */
export const ChannelSchema = T.Object({
  id: T.String(),
  name: T.String(),
  kind: ChannelKindSchema,
  topic: T.String(),
  createdBy: T.String(),
  createdAt: T.Integer(),
  archived: T.Boolean(),
  lastSeq: T.Integer({ description: "seq of the newest event in the channel's log" }),
  memberCount: T.Integer(),
});
/** A channel as clients see it. */
export type Channel = Static<typeof ChannelSchema>;

/** Schema of one member of a channel. */
export const MemberSchema = T.Object({
  userId: T.String(),
  role: ChannelRoleSchema,
  joinedAt: T.Integer(),
  lastReadSeq: T.Integer(),
});
/** One member of a channel. */
export type Member = Static<typeof MemberSchema>;

/** Schema of a message. Deleted messages keep their row with the text redacted. */
export const MessageSchema = T.Object({
  id: T.String(),
  channelId: T.String(),
  seq: T.Integer({ description: "log position of the message.created event" }),
  authorId: T.String(),
  text: T.String(),
  clientMsgId: T.String(),
  createdAt: T.Integer(),
  editedAt: T.Union([T.Integer(), T.Null()]),
  deletedAt: T.Union([T.Integer(), T.Null()]),
  threadRootId: T.Union([T.String(), T.Null()]),
  replyCount: T.Integer(),
  lastReplyAt: T.Union([T.Integer(), T.Null()]),
  mentions: T.Array(T.String()),
  files: T.Array(T.String()),
});
/** A message. */
export type Message = Static<typeof MessageSchema>;

/** Types of event in a channel's log. Every one carries `seq` in its data. */
export const ChannelEventTypes = [
  "channel.created",
  "channel.updated",
  "member.joined",
  "member.left",
  "message.created",
  "message.updated",
  "message.deleted",
] as const;
/** A type of channel event. */
export type ChannelEventType = (typeof ChannelEventTypes)[number];

/** One entry of a channel's gap-free log. The event frame's data is `{seq, ...data}`. */
export interface ChannelEvent {
  channelId: string;
  seq: number;
  type: ChannelEventType;
  data: Record<string, unknown>;
  at: number;
}
