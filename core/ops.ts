/**
 * Every op of the protocol: its argument schema (validated once, at the edge), its result
 * schema (for the OpenAPI document and the SDK's types) and which actor handles it.
 */
import { type Static, Type as T, type TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { fail } from "./errors.js";
import { ChannelSchema, MemberSchema, MessageSchema, UserSchema } from "./types.js";

const Id = T.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
/** User ids come from token subjects (`sub`), which other issuers shape more freely. */
const UserId = T.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9_|:.@-]+$" });
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

/** Who handles an op: a ChannelActor keyed by `args.channelId`, the caller's UserActor, or the connection itself. */
export type OpRoute = "channel" | "newChannel" | "user" | "connection";

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
    "Post a message. Idempotent per (channel, author, clientMsgId).",
    T.Object({ ...ChannelRef, text: MessageText, clientMsgId: ClientMsgId }, strict),
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
} as const;

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
