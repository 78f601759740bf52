/**
 * Every op of the protocol: its argument schema (validated once, at the edge), its result
 * schema (for the OpenAPI document and the SDK's types) and which actor handles it.
 */
import { type Static, Type as T, type TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { fail } from "./errors.js";
import { maxUserIdLength, userIdPattern } from "./ids.js";
import {
  AuditEntrySchema,
  AuditVerdictSchema,
  ChannelSchema,
  FileSchema,
  FlagResolutions,
  FlagSchema,
  MemberSchema,
  MessageSchema,
  MessageVersionSchema,
  NotifyLevels,
  PresenceSchema,
  ScheduledSchema,
  SearchHitSchema,
  SiteRoleSchema,
  UnreadSchema,
  UserSchema,
  UserSettingsSchema,
} from "./types.js";

const Id = T.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
/** User ids come from token subjects (`sub`), which other issuers shape more freely. */
const UserId = T.String({ minLength: 1, maxLength: maxUserIdLength, pattern: userIdPattern });
const Seq = T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const ChannelName = T.String({
  minLength: 1,
  maxLength: 80,
  pattern: "^[a-z0-9][a-z0-9_-]*$",
  description: "lowercase letters, digits, '-' and '_', starting with a letter or digit (as in Slack)",
});
const Topic = T.String({ maxLength: 250 });
const ClientMsgId = T.String({
  minLength: 1,
  maxLength: 64,
  description: "idempotency key chosen by the client",
});
const MessageText = T.String({ minLength: 1, description: "limited by COLINK_MAX_MESSAGE_CHARS" });
const ChannelRef = { channelId: Id };
const strict = { additionalProperties: false };

const Emoji = T.String({
  minLength: 1,
  maxLength: 64,
  description: "a short name such as `thumbsup` or `+1` (letters, digits, _ + -), or one emoji grapheme",
});
const MessageRef = { channelId: Id, messageId: Id };
const FileId = T.String({
  minLength: 21,
  maxLength: 90,
  pattern: "^(F[0-9A-Z]{20}_[A-Za-z0-9_-]+|A[0-9A-Z]{20})$",
  description: "a file id, as file.begin (or user.avatar.begin) made it",
});
const FileUpload = {
  name: T.String({ minLength: 1, maxLength: 255 }),
  size: T.Integer({
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: "bytes; limited by COLINK_MAX_FILE_BYTES",
  }),
};
const UploadResult = T.Object({
  fileId: FileId,
  uploadUrl: T.String({ description: "PUT exactly `size` bytes here, with the same Content-Type" }),
  expiresAt: T.Integer({ description: "the URL's end, epoch ms" }),
});
const ThreadRef = { channelId: Id, rootId: Id };
/** A moderation reason or note: required, at most 500 characters. */
const ModerationText = T.String({ minLength: 1, maxLength: 500 });
/** The channel of the message an op names, when the caller knows it (else the server finds it). */
const LocatedChannel = T.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9_-]+$",
  description: "the channel of the message; found from the messageId when absent",
});
const FlagId = T.String({
  minLength: 23,
  maxLength: 90,
  pattern: "^G[0-9A-Z]{20}_[A-Za-z0-9_-]+$",
  description: "a flag id, as msg.flag made it",
});

/**
 * Who handles an op: a ChannelActor keyed by `args.channelId`, a new channel's actor, the
 * DM channel of a set of users, the channel a file (`args.fileId`) was uploaded to (the
 * caller's UserActor for an avatar), the caller's UserActor, the UserActor of the user an
 * admin op is about (`args.userId`: `targetUser`), or the connection itself.
 * `message`: the channel that holds `args.messageId` (`args.channelId` when given, else
 * the transport finds it); `flag`: the channel a flag id (`args.flagId`) was made for.
 */
export type OpRoute =
  | "channel"
  | "newChannel"
  | "dm"
  | "file"
  | "user"
  | "targetUser"
  | "connection"
  | "message"
  | "flag";

interface OpSpec<A extends TSchema, R extends TSchema> {
  args: A;
  result: R;
  route: OpRoute;
  summary: string;
}
const op = <A extends TSchema, R extends TSchema>(route: OpRoute, summary: string, args: A, result: R) =>
  ({ route, summary, args, result }) as OpSpec<A, R>;

const Empty = T.Object({}, strict);
const ChannelResult = T.Object({ channel: ChannelSchema });
const MessageResult = T.Object({ message: MessageSchema });

/** The op table. Its keys are the `op` strings on the wire. */
export const ops = {
  auth: op(
    "connection",
    "Authenticate a connection that was opened without a token.",
    T.Object({ token: T.String({ minLength: 1, maxLength: 16 * 1024 }) }, strict),
    T.Object({ user: UserSchema }),
  ),
  "ch.create": op(
    "newChannel",
    "Create a public or private channel; the caller becomes its owner.",
    T.Object(
      {
        name: ChannelName,
        kind: T.Union([T.Literal("public"), T.Literal("private")]),
        topic: T.Optional(Topic),
      },
      strict,
    ),
    ChannelResult,
  ),
  "ch.get": op("channel", "Read one channel.", T.Object(ChannelRef, strict), ChannelResult),
  "ch.list": op(
    "user",
    "List the caller's channels, and optionally every public channel.",
    T.Object({ includePublic: T.Optional(T.Boolean()), includeArchived: T.Optional(T.Boolean()) }, strict),
    T.Object({
      channels: T.Array(T.Intersect([ChannelSchema, T.Object({ myRole: T.Union([T.String(), T.Null()]) })])),
    }),
  ),
  "ch.update": op(
    "channel",
    "Rename a channel or change its topic (channel owner or moderator, site admin).",
    T.Object({ ...ChannelRef, name: T.Optional(ChannelName), topic: T.Optional(Topic) }, strict),
    ChannelResult,
  ),
  "ch.archive": op(
    "channel",
    "Archive a channel: it becomes read-only (channel owner, site admin).",
    T.Object(ChannelRef, strict),
    ChannelResult,
  ),
  "ch.join": op("channel", "Join a public channel.", T.Object(ChannelRef, strict), ChannelResult),
  "ch.invite": op(
    "channel",
    "Add a user to a channel (any member; not into DMs).",
    T.Object({ ...ChannelRef, userId: UserId }, strict),
    T.Object({ member: MemberSchema }),
  ),
  "ch.leave": op("channel", "Leave a channel.", T.Object(ChannelRef, strict), Empty),
  "ch.kick": op(
    "channel",
    "Remove a member (channel owner or moderator, site admin or moderator).",
    T.Object({ ...ChannelRef, userId: UserId }, strict),
    Empty,
  ),
  "ch.members": op(
    "channel",
    "List a channel's members.",
    T.Object(ChannelRef, strict),
    T.Object({ members: T.Array(MemberSchema) }),
  ),
  sub: op(
    "channel",
    "Subscribe to a channel's events, optionally resuming after a seq.",
    T.Object({ ...ChannelRef, sinceSeq: T.Optional(Seq) }, strict),
    T.Object({
      channelId: T.String(),
      lastSeq: T.Integer(),
      resync: T.Optional(T.Boolean({ description: "gap beyond the replay limit: reload history" })),
    }),
  ),
  ping: op(
    "connection",
    "Round trip that keeps the connection alive and proves it works (browsers cannot send WebSocket pings).",
    Empty,
    T.Object({ now: T.Integer({ description: "server time, epoch ms" }) }),
  ),
  unsub: op("connection", "Stop receiving a channel's events.", T.Object(ChannelRef, strict), Empty),
  "msg.send": op(
    "channel",
    "Post a message, or a thread reply with `threadRootId`. Idempotent per (channel, author, clientMsgId).",
    T.Object(
      {
        ...ChannelRef,
        text: T.String({ description: "limited by COLINK_MAX_MESSAGE_CHARS; empty only with fileIds" }),
        clientMsgId: ClientMsgId,
        threadRootId: T.Optional(T.Union([Id, T.Null()], { description: "reply in this message's thread" })),
        fileIds: T.Optional(
          T.Array(FileId, {
            maxItems: 10,
            uniqueItems: true,
            description:
              "files the sender uploaded to this channel (file.begin, file.complete), clean or still being scanned; with files the text may be empty",
          }),
        ),
      },
      strict,
    ),
    MessageResult,
  ),
  "msg.edit": op(
    "channel",
    "Change a message's text (author only).",
    T.Object({ ...ChannelRef, messageId: Id, text: MessageText }, strict),
    MessageResult,
  ),
  "msg.delete": op(
    "channel",
    "Soft-delete a message (author, channel owner or moderator, site moderator or admin).",
    T.Object({ ...ChannelRef, messageId: Id }, strict),
    Empty,
  ),
  "msg.history": op(
    "channel",
    "Page through a channel's messages, ascending by seq.",
    T.Object(
      {
        ...ChannelRef,
        beforeSeq: T.Optional(Seq),
        afterSeq: T.Optional(Seq),
        limit: T.Optional(T.Integer({ minimum: 1, maximum: 200 })),
      },
      strict,
    ),
    T.Object({ messages: T.Array(MessageSchema), hasMore: T.Boolean() }),
  ),
  "user.me": op("user", "The caller's profile.", Empty, T.Object({ user: UserSchema })),
  "dm.open": op(
    "dm",
    "Open (or find) the direct message channel of the caller and these users: kind dm for two, group_dm for 3 to 8.",
    T.Object({ userIds: T.Array(UserId, { minItems: 1, maxItems: 7, uniqueItems: true }) }, strict),
    ChannelResult,
  ),
  "thread.history": op(
    "channel",
    "A thread's replies, ascending by seq.",
    T.Object(
      {
        ...ThreadRef,
        afterSeq: T.Optional(Seq),
        limit: T.Optional(T.Integer({ minimum: 1, maximum: 200 })),
      },
      strict,
    ),
    T.Object({ root: MessageSchema, messages: T.Array(MessageSchema), hasMore: T.Boolean() }),
  ),
  "thread.follow": op(
    "channel",
    "Follow a thread: its new replies arrive on the personal topic.",
    T.Object(ThreadRef, strict),
    Empty,
  ),
  "thread.unfollow": op("channel", "Stop following a thread.", T.Object(ThreadRef, strict), Empty),
  "react.add": op(
    "channel",
    "Add a reaction. Idempotent per (message, user, emoji).",
    T.Object({ ...MessageRef, emoji: Emoji }, strict),
    MessageResult,
  ),
  "react.remove": op(
    "channel",
    "Remove one's reaction. Idempotent.",
    T.Object({ ...MessageRef, emoji: Emoji }, strict),
    MessageResult,
  ),
  "pin.add": op("channel", "Pin a message (any member).", T.Object(MessageRef, strict), MessageResult),
  "pin.remove": op("channel", "Unpin a message (any member).", T.Object(MessageRef, strict), MessageResult),
  "pin.list": op(
    "channel",
    "The channel's pinned messages, most recently pinned first.",
    T.Object(ChannelRef, strict),
    T.Object({ messages: T.Array(MessageSchema) }),
  ),
  "msg.versions": op(
    "channel",
    "Previous versions of an edited message (author, channel and site moderators).",
    T.Object(MessageRef, strict),
    T.Object({ versions: T.Array(MessageVersionSchema) }),
  ),
  "msg.schedule": op(
    "channel",
    "Schedule a message: the channel posts it at `sendAt` (stored durably). Idempotent per clientMsgId.",
    T.Object(
      {
        ...ChannelRef,
        text: MessageText,
        clientMsgId: ClientMsgId,
        // At most 2^53−1 like every integer here: a larger one passes as an integer but fails
        // the bigint column, and with it the whole group commit it shares.
        sendAt: T.Integer({
          minimum: 0,
          maximum: Number.MAX_SAFE_INTEGER,
          description: "epoch ms; a past time posts at once",
        }),
        threadRootId: T.Optional(T.Union([Id, T.Null()])),
      },
      strict,
    ),
    T.Object({ scheduled: ScheduledSchema }),
  ),
  "msg.scheduled.list": op(
    "channel",
    "The caller's pending scheduled messages in a channel.",
    T.Object(ChannelRef, strict),
    T.Object({ scheduled: T.Array(ScheduledSchema) }),
  ),
  "msg.scheduled.cancel": op(
    "channel",
    "Cancel one of the caller's pending scheduled messages.",
    T.Object({ ...ChannelRef, scheduleId: Id }, strict),
    T.Object({ scheduled: ScheduledSchema }),
  ),
  typing: op(
    "channel",
    "Tell the channel's subscribers the caller is typing (ephemeral; expires after 5 s).",
    T.Object({ ...ChannelRef, threadRootId: T.Optional(Id) }, strict),
    Empty,
  ),
  "read.mark": op(
    "user",
    "Move the caller's read marker forward in a channel, or in a thread with `threadRootId`.",
    T.Object({ ...ChannelRef, seq: Seq, threadRootId: T.Optional(Id) }, strict),
    T.Object({ channelId: T.String(), lastReadSeq: T.Integer(), threadRootId: T.Optional(T.String()) }),
  ),
  "unread.summary": op(
    "user",
    "Unread state of every channel the caller is in, for the sidebar.",
    Empty,
    T.Object({ channels: T.Array(UnreadSchema) }),
  ),
  "presence.set": op(
    "user",
    "Set the caller's status. `online` clears away and dnd; offline is derived from having no session.",
    T.Object({ status: T.Union([T.Literal("online"), T.Literal("away"), T.Literal("dnd")]) }, strict),
    T.Object({ presence: PresenceSchema }),
  ),
  "presence.query": op(
    "user",
    "Presence of users who share a channel or DM with the caller (others are left out).",
    T.Object({ userIds: T.Array(UserId, { minItems: 1, maxItems: 500 }) }, strict),
    T.Object({ presence: T.Array(PresenceSchema) }),
  ),
  "user.get": op(
    "user",
    "Another user's profile.",
    T.Object({ userId: UserId }, strict),
    T.Object({ user: UserSchema }),
  ),
  "user.update": op(
    "user",
    "Change the caller's profile.",
    T.Object(
      {
        displayName: T.Optional(T.String({ minLength: 1, maxLength: 80 })),
        title: T.Optional(T.String({ maxLength: 120 })),
        timeZone: T.Optional(T.String({ maxLength: 64, pattern: "^$|^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$" })),
        avatarFileId: T.Optional(
          T.Union([FileId, T.Null()], {
            description:
              "an avatar the caller uploaded (user.avatar.begin) that was scanned clean; null removes it",
          }),
        ),
      },
      strict,
    ),
    T.Object({ user: UserSchema }),
  ),
  search: op(
    "user",
    'Search the messages of the channels the caller can read (their channels, and public channels unless a guest): words, "phrases", -excluded, from:@user, in:#channel, before:/after:/on:YYYY-MM-DD, has:link, has:reaction, is:thread.',
    T.Object(
      {
        q: T.String({ minLength: 1, maxLength: 500 }),
        channelId: T.Optional(Id),
        sort: T.Optional(T.Union([T.Literal("recent"), T.Literal("relevance")])),
        limit: T.Optional(T.Integer({ minimum: 1, maximum: 50 })),
        cursor: T.Optional(
          T.String({ maxLength: 20, pattern: "^[0-9]+$", description: "nextCursor of the previous page" }),
        ),
      },
      strict,
    ),
    T.Object({
      hits: T.Array(SearchHitSchema),
      nextCursor: T.Union([T.String(), T.Null()], {
        description: "the next page's cursor, or null at the end",
      }),
      degraded: T.Optional(
        T.Literal(true, {
          description:
            "OpenSearch failed: Postgres full-text answered (what is not indexed there yet is missing)",
        }),
      ),
    }),
  ),
  "search.users": op(
    "user",
    "Find active users: every word of `q` starts their username or a word of their display name.",
    T.Object(
      {
        q: T.String({ minLength: 1, maxLength: 80 }),
        limit: T.Optional(T.Integer({ minimum: 1, maximum: 50 })),
      },
      strict,
    ),
    T.Object({
      users: T.Array(UserSchema),
      degraded: T.Optional(
        T.Literal(true, {
          description: "OpenSearch failed: Postgres answered from the users table",
        }),
      ),
    }),
  ),
  "file.begin": op(
    "channel",
    "Start an upload to a channel the caller can post in: the file's id and a URL to PUT its bytes to.",
    T.Object(
      {
        ...ChannelRef,
        ...FileUpload,
        contentType: T.String({
          minLength: 3,
          maxLength: 127,
          pattern: "^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$",
          description: "a MIME type without parameters, allowed by COLINK_FILE_TYPES",
        }),
      },
      strict,
    ),
    UploadResult,
  ),
  "user.avatar.begin": op(
    "user",
    "Start the upload of a new avatar (an image): its file id and a URL to PUT its bytes to. Once it is scanned, user.update sets it.",
    T.Object(
      {
        ...FileUpload,
        contentType: T.Union(
          ["image/png", "image/jpeg", "image/gif", "image/webp"].map((t) => T.Literal(t)),
          { description: "an image" },
        ),
      },
      strict,
    ),
    UploadResult,
  ),
  "file.complete": op(
    "file",
    "The upload is done: the file is checked and queued for its virus scan.",
    T.Object({ fileId: FileId }, strict),
    T.Object({ file: FileSchema }),
  ),
  "file.get": op(
    "file",
    "A file's metadata, and download URLs once it may be served.",
    T.Object({ fileId: FileId }, strict),
    T.Object({
      file: FileSchema,
      url: T.Union([T.String(), T.Null()], {
        description: "the download, or null while it may not be served",
      }),
      thumbnails: T.Object(
        { small: T.Optional(T.String()), medium: T.Optional(T.String()) },
        { description: "thumbnail URLs of a clean image" },
      ),
      expiresAt: T.Union([T.Integer(), T.Null()], { description: "the URLs' end, epoch ms" }),
    }),
  ),
  "user.settings.get": op(
    "user",
    "The caller's settings.",
    Empty,
    T.Object({ settings: UserSettingsSchema }),
  ),
  "user.settings.set": op(
    "user",
    "Change some of the caller's settings; `notify` entries are merged per channel.",
    T.Object(
      {
        theme: T.Optional(T.Union([T.Literal("system"), T.Literal("light"), T.Literal("dark")])),
        language: T.Optional(T.String({ pattern: "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", maxLength: 35 })),
        notify: T.Optional(
          T.Record(Id, T.Union(NotifyLevels.map((l) => T.Literal(l))), {
            description: "channel id → all | mentions | none",
          }),
        ),
      },
      strict,
    ),
    T.Object({ settings: UserSettingsSchema }),
  ),

  // ---- moderation (issue 23): flags and removals --------------------------------------
  "msg.flag": op(
    "message",
    "Report a message to the moderators (anyone who can read it). One open flag per message and reporter: flagging again answers the open one.",
    T.Object({ messageId: Id, reason: ModerationText, channelId: T.Optional(LocatedChannel) }, strict),
    T.Object({ flag: FlagSchema }),
  ),
  "msg.remove": op(
    "message",
    "Remove any message, with a reason (site moderator or admin, member of the channel or not). Members see it deleted; the original is kept for audit.",
    T.Object({ messageId: Id, reason: ModerationText, channelId: T.Optional(LocatedChannel) }, strict),
    MessageResult,
  ),
  "flags.list": op(
    "user",
    "The flags, newest first, with each flagged message as moderators see it (site moderator or admin).",
    T.Object(
      {
        status: T.Optional(T.Union([T.Literal("open"), T.Literal("resolved")])),
        cursor: T.Optional(FlagId),
        limit: T.Optional(T.Integer({ minimum: 1, maximum: 100 })),
      },
      strict,
    ),
    T.Object({
      flags: T.Array(FlagSchema),
      nextCursor: T.Optional(T.String({ description: "the next page's cursor; absent at the end" })),
    }),
  ),
  "flag.resolve": op(
    "flag",
    "Resolve an open flag (site moderator or admin): `removed` also removes the message (as msg.remove, with the note or else the flag's reason as the reason), `dismissed` leaves it. Resolving twice is a conflict.",
    T.Object(
      {
        flagId: FlagId,
        resolution: T.Union(FlagResolutions.map((r) => T.Literal(r))),
        note: T.Optional(ModerationText),
      },
      strict,
    ),
    T.Object({ flag: FlagSchema }),
  ),
  // ---- Administration: users, roles, the audit log (issue 23; admins only) ----
  "user.deactivate": op(
    "targetUser",
    "Deactivate a user (admin): their sockets close on every node (4006), their tokens are refused, and they vanish from the directory and search.users.",
    T.Object({ userId: UserId }, strict),
    T.Object({ user: UserSchema }),
  ),
  "user.reactivate": op(
    "targetUser",
    "Reactivate a deactivated user (admin): their tokens are accepted again.",
    T.Object({ userId: UserId }, strict),
    T.Object({ user: UserSchema }),
  ),
  "role.set": op(
    "targetUser",
    "Set a user's site role (admin); it wins over the token's role claim from then on.",
    T.Object({ userId: UserId, role: SiteRoleSchema }, strict),
    T.Object({ user: UserSchema }),
  ),
  "users.list": op(
    "user",
    "Every user for the admin page (admin), deactivated ones included, by username: every word of `q` starts the username or a word of the display name.",
    T.Object(
      {
        q: T.Optional(T.String({ maxLength: 80 })),
        cursor: T.Optional(
          T.String({ minLength: 1, maxLength: 200, description: "nextCursor of the previous page" }),
        ),
        limit: T.Optional(T.Integer({ minimum: 1, maximum: 200 })),
      },
      strict,
    ),
    T.Object({ users: T.Array(UserSchema), nextCursor: T.Optional(T.String()) }),
  ),
  "audit.list": op(
    "user",
    "The audit log newest first (admin), filtered by actor, action, target and time (from/to: epoch ms, inclusive).",
    T.Object(
      {
        actor: T.Optional(T.String({ minLength: 1, maxLength: 255 })),
        action: T.Optional(T.String({ minLength: 1, maxLength: 64 })),
        target: T.Optional(T.String({ minLength: 1, maxLength: 255 })),
        from: T.Optional(T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
        to: T.Optional(T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
        cursor: T.Optional(
          T.String({ maxLength: 19, pattern: "^[0-9]+$", description: "nextCursor of the previous page" }),
        ),
        limit: T.Optional(T.Integer({ minimum: 1, maximum: 200 })),
      },
      strict,
    ),
    T.Object({ entries: T.Array(AuditEntrySchema), nextCursor: T.Optional(T.String()) }),
  ),
  "audit.verify": op(
    "user",
    "Recompute the audit log's hash chain (admin): ok, or the id of the first entry where it breaks.",
    Empty,
    AuditVerdictSchema,
  ),
} as const;

/**
 * Ops whose requests carry their origin (client address, request id) to the actor, for
 * the audit entry the actor writes. Other ops carry none: it costs the hot path nothing.
 */
export const auditedOps: ReadonlySet<string> = new Set<string>([
  "user.deactivate",
  "user.reactivate",
  "role.set",
  "ch.archive",
  "msg.remove",
  "flag.resolve",
]);

/** The op table's type. */
export type Ops = typeof ops;
/** An op name. */
export type OpName = keyof Ops;
/** The validated arguments of an op. */
export type ArgsOf<O extends OpName> = Static<Ops[O]["args"]>;
/** The result of an op. */
export type ResultOf<O extends OpName> = Static<Ops[O]["result"]>;

const validators = new Map<string, TypeCheck<TSchema>>(
  Object.entries(ops).map(([name, spec]) => [name, TypeCompiler.Compile(spec.args as TSchema)]),
);

/** True when `name` is an op of the protocol. */
export function isOpName(name: string): name is OpName {
  return Object.hasOwn(ops, name);
}

/**
 * Validates an op's arguments at the edge. Throws ColinkError `bad_request` naming the
 * first bad field; returns the same object typed.
 */
export function parseArgs<O extends OpName>(name: O, args: unknown): ArgsOf<O> {
  const check = validators.get(name)!;
  if (check.Check(args)) {
    const bad = badStringPath(args, "");
    if (bad !== null)
      throw fail.badRequest(`invalid args for ${name}: ${bad} holds a NUL or a lone surrogate`, {
        path: bad,
      });
    return args as ArgsOf<O>;
  }
  const first = check.Errors(args).First();
  const path = first?.path || "/";
  throw fail.badRequest(`invalid args for ${name}: ${path} ${first?.message ?? "is invalid"}`, { path });
}

/**
 * The path of the first string that Postgres cannot store (a NUL) or that is not valid
 * UTF-16 (a lone surrogate), or null. Such text would fail a whole group commit.
 */
function badStringPath(value: unknown, path: string): string | null {
  if (typeof value === "string")
    return value.includes("\u0000") || !value.isWellFormed() ? path || "/" : null;
  if (typeof value !== "object" || value === null) return null;
  for (const [k, v] of Object.entries(value)) {
    const found = badStringPath(v, `${path}/${k}`);
    if (found !== null) return found;
  }
  return null;
}
