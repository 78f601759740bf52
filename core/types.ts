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

/** Kinds of channel; `dm` and `group_dm` are direct messages, opened by `dm.open`. */
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

/**
 * A file's scan status. `uploading` until the upload is complete; then `pending` until
 * scanned (`clean`, `infected`, or `failed` when it cannot be scanned at all), or
 * `unscanned` where no scanner is configured.
 */
export const FileStatuses = ["uploading", "pending", "clean", "infected", "failed", "unscanned"] as const;
/** A file's scan status. */
export type FileStatus = (typeof FileStatuses)[number];

/** Schema of a file's metadata. */
export const FileSchema = T.Object({
  id: T.String(),
  channelId: T.Union([T.String(), T.Null()], {
    description: "the channel it was uploaded to, and may be shared in; null for an avatar",
  }),
  uploaderId: T.String(),
  name: T.String(),
  contentType: T.String(),
  size: T.Integer({ description: "bytes" }),
  status: literals(FileStatuses),
  thumbnails: T.Array(
    T.Object({
      size: T.Union([T.Literal("small"), T.Literal("medium")]),
      width: T.Integer(),
      height: T.Integer(),
    }),
    { description: "made for clean images once scanned" },
  ),
  createdAt: T.Integer(),
});
/** A file's metadata. */
export type FileInfo = Static<typeof FileSchema>;

/** Schema of a user profile. */
export const UserSchema = T.Object({
  id: T.String(),
  username: T.String(),
  displayName: T.String(),
  role: SiteRoleSchema,
  title: T.String({ description: "job title, free text" }),
  timeZone: T.String({ description: "IANA time zone, e.g. Europe/Paris; empty when unset" }),
  avatarFileId: T.Union([T.String(), T.Null()]),
  deactivated: T.Boolean(),
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
});
/** One member of a channel. */
export type Member = Static<typeof MemberSchema>;

/** Schema of one emoji's reactions on a message, as the caller sees them. */
export const ReactionSummarySchema = T.Object({
  emoji: T.String(),
  count: T.Integer(),
  me: T.Boolean({ description: "whether the caller reacted with it (always false in broadcast events)" }),
});
/** One emoji's reactions on a message. */
export type ReactionSummary = Static<typeof ReactionSummarySchema>;

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
  threadRootId: T.Union([T.String(), T.Null()], { description: "the root's id for a thread reply" }),
  replyCount: T.Integer({ description: "replies, on a thread root" }),
  lastReplyAt: T.Union([T.Integer(), T.Null()]),
  threadParticipants: T.Array(T.String(), { description: "authors of the root and its replies, on a root" }),
  mentions: T.Array(T.String(), { description: "user ids mentioned with @username" }),
  broadcast: T.Union([T.Literal("channel"), T.Literal("here"), T.Null()], {
    description: "@channel or @here in the text",
  }),
  reactions: T.Array(ReactionSummarySchema),
  pinnedAt: T.Union([T.Integer(), T.Null()]),
  pinnedBy: T.Union([T.String(), T.Null()]),
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
  "reaction.added",
  "reaction.removed",
  "thread.updated",
  "pin.added",
  "pin.removed",
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

/**
 * Changes to a user that the event stream carries: to their profile and settings
 * (`user.events`), and to the files they uploaded (`file.events`).
 */
export const UserEventTypes = [
  "user.created",
  "user.updated",
  "settings.updated",
  "file.uploaded",
  "file.scanned",
  "file.purged",
] as const;
/** A type of user event. */
export type UserEventType = (typeof UserEventTypes)[number];

/**
 * A change to a user, kept in the user-event outbox with the change itself (one
 * statement), for the relay to Kafka. `id` grows with each change, across users.
 */
export interface UserEvent {
  id: number;
  userId: string;
  type: UserEventType;
  /** `{user}` for profile events, `{settings}` for settings, `{file}` for files (and `signature` when infected). */
  data: Record<string, unknown>;
  at: number;
}

/** Presence statuses. `offline` is derived (no live session); clients set the others. */
export const PresenceStatuses = ["online", "away", "dnd", "offline"] as const;
/** A presence status. */
export type PresenceStatus = (typeof PresenceStatuses)[number];
/** Schema of a presence status. */
export const PresenceStatusSchema = literals(PresenceStatuses);

/** Schema of one user's presence. */
export const PresenceSchema = T.Object({
  userId: T.String(),
  status: PresenceStatusSchema,
  /** When the status last changed, epoch ms. */
  since: T.Integer(),
});
/** One user's presence. */
export type Presence = Static<typeof PresenceSchema>;

/** Notification levels per channel. */
export const NotifyLevels = ["all", "mentions", "none"] as const;

/** Schema of a user's settings. */
export const UserSettingsSchema = T.Object({
  theme: T.Union([T.Literal("system"), T.Literal("light"), T.Literal("dark")]),
  language: T.String({ pattern: "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", maxLength: 35 }),
  /** Notification level per channel id; channels not listed use `all`. */
  notify: T.Record(T.String(), literals(NotifyLevels)),
});
/** A user's settings. */
export type UserSettings = Static<typeof UserSettingsSchema>;

/** Schema of one channel's unread state for the caller. */
export const UnreadSchema = T.Object({
  channelId: T.String(),
  lastReadSeq: T.Integer(),
  unread: T.Integer({
    description: "messages after lastReadSeq, not the caller's own, not in unfollowed threads",
  }),
  mentions: T.Integer({
    description: "of those, the ones that mention the caller (@username, @channel, @here)",
  }),
  threads: T.Integer({ description: "unread replies in threads the caller follows" }),
});
/** One channel's unread state. */
export type Unread = Static<typeof UnreadSchema>;

/** Schema of a scheduled message. */
export const ScheduledSchema = T.Object({
  id: T.String(),
  channelId: T.String(),
  authorId: T.String(),
  text: T.String(),
  clientMsgId: T.String(),
  threadRootId: T.Union([T.String(), T.Null()]),
  sendAt: T.Integer(),
  status: T.Union([T.Literal("pending"), T.Literal("sent"), T.Literal("cancelled")]),
  messageId: T.Union([T.String(), T.Null()]),
});
/** A scheduled message. */
export type Scheduled = Static<typeof ScheduledSchema>;

/** Schema of a search hit. */
export const SearchHitSchema = T.Object({
  messageId: T.String(),
  channelId: T.String(),
  seq: T.Integer(),
  authorId: T.String(),
  createdAt: T.Integer(),
  threadRootId: T.Union([T.String(), T.Null()], { description: "the thread's root when the hit is a reply" }),
  snippet: T.String({ description: "the text around the matches (all of it when short), as plain text" }),
  marks: T.Array(T.Tuple([T.Integer(), T.Integer()]), {
    description: "[start, end) UTF-16 ranges of `snippet` that matched, in order",
  }),
});
/** One hit: the message, and a snippet of its text with the matched words' ranges. */
export type SearchHit = Static<typeof SearchHitSchema>;

/** Schema of a previous version of an edited message. */
export const MessageVersionSchema = T.Object({
  messageId: T.String(),
  version: T.Integer({ description: "1 is the original text" }),
  text: T.String(),
  editedAt: T.Integer({ description: "when this version was replaced" }),
});
/** A previous version of an edited message. */
export type MessageVersion = Static<typeof MessageVersionSchema>;

// ---- The audit log (issue 23) ----

/**
 * What the audit log records: admin and moderator actions, and security events. The
 * action is named after the op that did it (`user.deactivate`), or the event
 * (`auth.login`, `auth.token_refused`, `file.quarantine`).
 */
export const AuditActions = [
  "user.deactivate",
  "user.reactivate",
  "role.set",
  "ch.archive",
  "msg.remove",
  "flag.resolve",
  "auth.login",
  "auth.token_refused",
  "file.quarantine",
] as const;
/** An audit action. */
export type AuditAction = (typeof AuditActions)[number];

/** The previous hash of the first entry of the chain. */
export const auditGenesisHash = "0".repeat(64);

/** Schema of one entry of the audit log, as `audit.list` returns it. */
export const AuditEntrySchema = T.Object({
  id: T.String({ description: "position in the chain (a decimal integer; ids grow, with gaps)" }),
  at: T.Integer({ description: "epoch ms" }),
  actorId: T.String({ description: "who: a user id, or `system:…` for the server itself, `anonymous`" }),
  action: T.String({ description: "what: user.deactivate, role.set, auth.login, …" }),
  target: T.String({ description: "on what: a user, channel, message, flag or file id; may be empty" }),
  details: T.Record(T.String(), T.Unknown()),
  ip: T.String({ description: "the client address of the request (empty for the server's own actions)" }),
  requestId: T.String({ description: "the request's id (HTTP X-Request-Id, or made per WebSocket request)" }),
  prevHash: T.String({ description: "the previous entry's hash; 64 zeros for the first" }),
  hash: T.String({
    description:
      "sha256 hex of the jsonb text of [id, at, actorId, action, target, details, ip, requestId, prevHash] (docs/operations.md)",
  }),
});
/** One entry of the audit log. */
export type AuditEntry = Static<typeof AuditEntrySchema>;

/** Schema of what `audit.verify` found. */
export const AuditVerdictSchema = T.Object({
  ok: T.Boolean(),
  checked: T.Integer({ description: "entries checked" }),
  brokenAt: T.Optional(T.String({ description: "the id of the first entry where the chain breaks" })),
  reason: T.Optional(T.String()),
});
/** What `audit.verify` found. */
export type AuditVerdict = Static<typeof AuditVerdictSchema>;
// ---- moderation: flags (issue 23) -------------------------------------------------------

/** How a moderator resolved a flag. */
export const FlagResolutions = ["removed", "dismissed"] as const;
/** How a moderator resolved a flag. */
export type FlagResolution = (typeof FlagResolutions)[number];

/** Schema of a flag: a report of a message to the moderators. */
export const FlagSchema = T.Object({
  id: T.String({ description: "the flag's id; it names its channel, as a file id does" }),
  messageId: T.String(),
  channelId: T.String(),
  reporterId: T.String(),
  reason: T.String(),
  createdAt: T.Integer(),
  status: T.Union([T.Literal("open"), T.Literal("resolved")]),
  resolution: T.Optional(literals(FlagResolutions)),
  resolvedBy: T.Optional(T.String()),
  resolvedAt: T.Optional(T.Integer()),
  note: T.Optional(T.String()),
  /** The flagged message as moderators see it: its text is kept even after a removal. */
  message: T.Optional(MessageSchema),
  /**
   * The flagged message's channel (`flags.list` only): a moderator is often not in it, and
   * cannot look it up, yet must know where the message was said.
   */
  channel: T.Optional(
    T.Object({ name: T.String(), kind: ChannelKindSchema }, { description: "where the message was said" }),
  ),
});
/** A flag: a report of a message to the moderators. */
export type Flag = Static<typeof FlagSchema>;
