/**
 * The REST route table: for each route, its method, path template, the op it calls and
 * where each of the op's args comes from (path, query, JSON body, a header). The one
 * table drives both the registration (http-api.ts) and the OpenAPI document
 * (openapi.ts), so the document cannot drift from what the server does. The args are
 * validated by the op's own schema (`parseArgs`), exactly as over the WebSocket.
 */
import type { ErrorCode } from "../core/errors.js";
import { fail } from "../core/errors.js";
import { type OpName, ops } from "../core/ops.js";
import type { Principal } from "../core/types.js";
import * as ex from "./http-examples.js";
import { bodyMap } from "./http-json.js";

/** HTTP methods, as OpenAPI names them. */
export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/** A JSON object. */
export type Json = Record<string, unknown>;

/** Another op a route calls instead of its main one for some requests. */
export interface RouteAlternative {
  op: OpName;
  /** When it applies, in words, for the document. */
  when: string;
  /** Whether it applies to these (mapped, not yet validated) args and this caller. */
  applies(args: Json, principal: Principal): boolean;
  /** Args of the main op that the alternative does not take. */
  drop: readonly string[];
}

/** An example request and its answer. They must validate against the op's schemas (tested). */
export interface RouteExample {
  /** Path parameter values, by template name. */
  params?: Record<string, string>;
  /** Query parameter values, as they appear in the URL. */
  query?: Record<string, string>;
  body?: Json;
  result: Json;
}

/** One REST route over one op (or two, see `alternative`). */
export interface RouteSpec {
  method: HttpMethod;
  /** The path in OpenAPI form: `{name}` for a parameter segment. */
  path: string;
  op: OpName;
  /** For the document; defaults to the op name in camel case. */
  operationId?: string;
  /** Path parameter name → arg name. Every `{name}` of the path is listed. */
  params?: Readonly<Record<string, string>>;
  /** Query parameter name → arg name. Integer and boolean args are converted from the text. */
  query?: Readonly<Record<string, string>>;
  /** The other args come from a JSON object body (an empty body is `{}`). */
  body?: boolean;
  /**
   * The route names a message (or thread root) by this arg and `channelId` is optional:
   * when absent, the channel is the one that holds the message.
   */
  locateBy?: "messageId" | "rootId";
  /** An absent `clientMsgId` is the `Idempotency-Key` header, or a fresh one (no idempotency). */
  idempotencyKey?: boolean;
  /** The status of success. */
  status: 200 | 201;
  alternative?: RouteAlternative;
  /** Error codes this route can answer beyond those every op route can (see `errorCodesOf`). */
  errors?: readonly ErrorCode[];
  example: RouteExample;
}

/** Ops that belong to a connection and have no HTTP route. */
export const connectionOps: readonly OpName[] = ["auth", "sub", "unsub", "ping"];

const channelParam = { id: "channelId" } as const;
const messageParam = { id: "messageId" } as const;
const locatedQuery = { channelId: "channelId" } as const;
const C = ex.channel.id;
const M = ex.message.id;

/** Every REST route over an op. */
export const httpRoutes: readonly RouteSpec[] = [
  // ---- channels -----------------------------------------------------------------------
  {
    method: "post",
    path: "/v1/channels",
    op: "ch.create",
    body: true,
    status: 201,
    errors: ["conflict"],
    example: {
      body: { name: "general", kind: "public", topic: "Company-wide news" },
      result: { channel: ex.channel },
    },
  },
  {
    method: "get",
    path: "/v1/channels",
    op: "ch.list",
    query: { includePublic: "includePublic", includeArchived: "includeArchived" },
    status: 200,
    example: { query: { includePublic: "true" }, result: { channels: [{ ...ex.channel, myRole: "owner" }] } },
  },
  {
    method: "get",
    path: "/v1/channels/{id}",
    op: "ch.get",
    params: channelParam,
    status: 200,
    example: { params: { id: C }, result: { channel: ex.channel } },
  },
  {
    method: "patch",
    path: "/v1/channels/{id}",
    op: "ch.update",
    params: channelParam,
    body: true,
    status: 200,
    example: { params: { id: C }, body: { topic: "Company-wide news" }, result: { channel: ex.channel } },
  },
  {
    method: "delete",
    path: "/v1/channels/{id}",
    op: "ch.archive",
    params: channelParam,
    status: 200,
    example: { params: { id: C }, result: { channel: { ...ex.channel, archived: true } } },
  },
  {
    method: "get",
    path: "/v1/channels/{id}/members",
    op: "ch.members",
    params: channelParam,
    status: 200,
    example: { params: { id: C }, result: { members: [ex.member] } },
  },
  {
    method: "post",
    path: "/v1/channels/{id}/members",
    op: "ch.invite",
    operationId: "chInviteOrJoin",
    params: channelParam,
    body: true,
    status: 200,
    alternative: {
      op: "ch.join",
      when: "the body has no `userId`, or the caller's own",
      applies: (args, p) => args.userId === undefined || args.userId === p.userId,
      drop: ["userId"],
    },
    example: { params: { id: C }, body: { userId: ex.bob.id }, result: { member: ex.member } },
  },
  {
    method: "delete",
    path: "/v1/channels/{id}/members/{userId}",
    op: "ch.kick",
    operationId: "chKickOrLeave",
    params: { id: "channelId", userId: "userId" },
    status: 200,
    alternative: {
      op: "ch.leave",
      when: "`userId` is the caller's own",
      applies: (args, p) => args.userId === p.userId,
      drop: ["userId"],
    },
    example: { params: { id: C, userId: ex.bob.id }, result: {} },
  },
  {
    method: "get",
    path: "/v1/channels/{id}/pins",
    op: "pin.list",
    params: channelParam,
    status: 200,
    example: { params: { id: C }, result: { messages: [ex.pinned] } },
  },
  {
    method: "post",
    path: "/v1/channels/{id}/typing",
    op: "typing",
    params: channelParam,
    body: true,
    status: 200,
    example: { params: { id: C }, body: {}, result: {} },
  },
  // ---- messages -----------------------------------------------------------------------
  {
    method: "post",
    path: "/v1/channels/{id}/messages",
    op: "msg.send",
    params: channelParam,
    body: true,
    idempotencyKey: true,
    status: 201,
    example: {
      params: { id: C },
      body: { text: "Hello @bob", clientMsgId: ex.message.clientMsgId },
      result: { message: ex.message },
    },
  },
  {
    method: "get",
    path: "/v1/channels/{id}/messages",
    op: "msg.history",
    params: channelParam,
    query: { before: "beforeSeq", after: "afterSeq", limit: "limit" },
    status: 200,
    example: {
      params: { id: C },
      query: { before: "100", limit: "50" },
      result: { messages: [ex.message], hasMore: false },
    },
  },
  {
    method: "patch",
    path: "/v1/messages/{id}",
    op: "msg.edit",
    params: messageParam,
    body: true,
    locateBy: "messageId",
    status: 200,
    example: { params: { id: M }, body: { text: "Hello @bob!" }, result: { message: ex.edited } },
  },
  {
    method: "delete",
    path: "/v1/messages/{id}",
    op: "msg.delete",
    params: messageParam,
    query: locatedQuery,
    locateBy: "messageId",
    status: 200,
    example: { params: { id: M }, result: {} },
  },
  {
    method: "get",
    path: "/v1/messages/{id}/versions",
    op: "msg.versions",
    params: messageParam,
    query: locatedQuery,
    locateBy: "messageId",
    status: 200,
    example: { params: { id: M }, result: { versions: [ex.version] } },
  },
  {
    method: "put",
    path: "/v1/messages/{id}/pin",
    op: "pin.add",
    params: messageParam,
    query: locatedQuery,
    locateBy: "messageId",
    status: 200,
    errors: ["conflict"],
    example: { params: { id: M }, result: { message: ex.pinned } },
  },
  {
    method: "delete",
    path: "/v1/messages/{id}/pin",
    op: "pin.remove",
    params: messageParam,
    query: locatedQuery,
    locateBy: "messageId",
    status: 200,
    example: { params: { id: M }, result: { message: ex.message } },
  },
  {
    method: "post",
    path: "/v1/messages/{id}/reactions",
    op: "react.add",
    params: messageParam,
    body: true,
    locateBy: "messageId",
    status: 200,
    errors: ["conflict"],
    example: { params: { id: M }, body: { emoji: "thumbsup" }, result: { message: ex.reacted } },
  },
  {
    method: "delete",
    path: "/v1/messages/{id}/reactions/{emoji}",
    op: "react.remove",
    params: { id: "messageId", emoji: "emoji" },
    query: locatedQuery,
    locateBy: "messageId",
    status: 200,
    example: { params: { id: M, emoji: "thumbsup" }, result: { message: ex.message } },
  },
  // ---- threads ------------------------------------------------------------------------
  {
    method: "get",
    path: "/v1/threads/{rootId}",
    op: "thread.history",
    params: { rootId: "rootId" },
    query: { ...locatedQuery, after: "afterSeq", limit: "limit" },
    locateBy: "rootId",
    status: 200,
    example: {
      params: { rootId: M },
      query: { limit: "50" },
      result: { root: ex.root, messages: [ex.reply], hasMore: false },
    },
  },
  {
    method: "put",
    path: "/v1/threads/{rootId}/follow",
    op: "thread.follow",
    params: { rootId: "rootId" },
    query: locatedQuery,
    locateBy: "rootId",
    status: 200,
    example: { params: { rootId: M }, result: {} },
  },
  {
    method: "delete",
    path: "/v1/threads/{rootId}/follow",
    op: "thread.unfollow",
    params: { rootId: "rootId" },
    query: locatedQuery,
    locateBy: "rootId",
    status: 200,
    example: { params: { rootId: M }, result: {} },
  },
  // ---- scheduled messages -------------------------------------------------------------
  {
    method: "post",
    path: "/v1/channels/{id}/scheduled",
    op: "msg.schedule",
    params: channelParam,
    body: true,
    idempotencyKey: true,
    status: 201,
    errors: ["conflict"],
    example: {
      params: { id: C },
      body: { text: ex.scheduled.text, clientMsgId: ex.scheduled.clientMsgId, sendAt: ex.scheduled.sendAt },
      result: { scheduled: ex.scheduled },
    },
  },
  {
    method: "get",
    path: "/v1/channels/{id}/scheduled",
    op: "msg.scheduled.list",
    params: channelParam,
    status: 200,
    example: { params: { id: C }, result: { scheduled: [ex.scheduled] } },
  },
  {
    method: "delete",
    path: "/v1/channels/{id}/scheduled/{scheduleId}",
    op: "msg.scheduled.cancel",
    params: { id: "channelId", scheduleId: "scheduleId" },
    status: 200,
    example: {
      params: { id: C, scheduleId: ex.scheduled.id },
      result: { scheduled: { ...ex.scheduled, status: "cancelled" } },
    },
  },
  // ---- direct messages ----------------------------------------------------------------
  {
    method: "post",
    path: "/v1/dms",
    op: "dm.open",
    body: true,
    status: 200,
    errors: ["conflict"],
    example: { body: { userIds: [ex.bob.id] }, result: { channel: ex.dm } },
  },
  // ---- users --------------------------------------------------------------------------
  {
    method: "get",
    path: "/v1/users/me",
    op: "user.me",
    status: 200,
    example: { result: { user: ex.alice } },
  },
  {
    method: "patch",
    path: "/v1/users/me",
    op: "user.update",
    body: true,
    status: 200,
    example: {
      body: { displayName: ex.alice.displayName, title: ex.alice.title, timeZone: ex.alice.timeZone },
      result: { user: ex.alice },
    },
  },
  {
    method: "get",
    path: "/v1/search/users",
    op: "search.users",
    query: { q: "q", limit: "limit" },
    status: 200,
    example: { query: { q: "bo", limit: "10" }, result: { users: [ex.bob] } },
  },
  {
    method: "post",
    path: "/v1/files",
    op: "file.begin",
    body: true,
    status: 201,
    example: {
      body: { channelId: C, name: ex.file.name, size: ex.file.size, contentType: ex.file.contentType },
      result: {
        fileId: ex.file.id,
        uploadUrl: ex.blobUrl("files", ex.file.id),
        expiresAt: 1_767_225_900_000,
      },
    },
  },
  {
    method: "post",
    path: "/v1/users/me/avatar",
    op: "user.avatar.begin",
    body: true,
    status: 201,
    example: {
      body: { name: "me.png", size: 48_211, contentType: "image/png" },
      result: {
        fileId: "A01KDX8Q9AVATAR000000",
        uploadUrl: ex.blobUrl("avatars", "A01KDX8Q9AVATAR000000"),
        expiresAt: 1_767_225_900_000,
      },
    },
  },
  {
    method: "post",
    path: "/v1/files/{id}/complete",
    op: "file.complete",
    params: { id: "fileId" },
    status: 200,
    example: {
      params: { id: ex.file.id },
      result: { file: { ...ex.file, status: "pending", thumbnails: [] } },
    },
  },
  {
    method: "get",
    path: "/v1/files/{id}",
    op: "file.get",
    params: { id: "fileId" },
    status: 200,
    example: {
      params: { id: ex.file.id },
      result: {
        file: ex.file,
        url: ex.blobUrl("files", ex.file.id),
        thumbnails: {
          small: ex.blobUrl("thumbnails", `${ex.file.id}/small.webp`),
          medium: ex.blobUrl("thumbnails", `${ex.file.id}/medium.webp`),
        },
        expiresAt: 1_767_229_200_000,
      },
    },
  },
  {
    method: "get",
    path: "/v1/search",
    op: "search",
    query: { q: "q", channelId: "channelId", sort: "sort", limit: "limit", cursor: "cursor" },
    status: 200,
    example: {
      query: { q: "hello from:@alice", limit: "20" },
      result: { hits: [ex.hit], nextCursor: null },
    },
  },
  {
    method: "get",
    path: "/v1/users/me/settings",
    op: "user.settings.get",
    status: 200,
    example: { result: { settings: ex.settings } },
  },
  {
    method: "patch",
    path: "/v1/users/me/settings",
    op: "user.settings.set",
    body: true,
    status: 200,
    example: { body: { theme: "dark", notify: { [C]: "mentions" } }, result: { settings: ex.settings } },
  },
  {
    method: "get",
    path: "/v1/users/me/unread",
    op: "unread.summary",
    status: 200,
    example: { result: { channels: [ex.unread] } },
  },
  {
    method: "post",
    path: "/v1/users/me/read",
    op: "read.mark",
    body: true,
    status: 200,
    errors: ["not_found"],
    example: { body: { channelId: C, seq: 42 }, result: { channelId: C, lastReadSeq: 42 } },
  },
  {
    method: "get",
    path: "/v1/users/{id}",
    op: "user.get",
    params: { id: "userId" },
    status: 200,
    errors: ["not_found"],
    example: { params: { id: ex.bob.id }, result: { user: ex.bob } },
  },
  // ---- presence -----------------------------------------------------------------------
  {
    method: "put",
    path: "/v1/presence",
    op: "presence.set",
    body: true,
    status: 200,
    example: { body: { status: "away" }, result: { presence: { ...ex.presence, status: "away" } } },
  },
  {
    method: "post",
    path: "/v1/presence/query",
    op: "presence.query",
    body: true,
    status: 200,
    example: { body: { userIds: [ex.bob.id] }, result: { presence: [ex.presence] } },
  },
  // ---- moderation (issue 23) ----------------------------------------------------------
  {
    method: "post",
    path: "/v1/messages/{messageId}/flag",
    op: "msg.flag",
    params: { messageId: "messageId" },
    body: true,
    locateBy: "messageId",
    status: 201,
    example: { params: { messageId: M }, body: { reason: "spam" }, result: { flag: ex.flag } },
  },
  {
    method: "post",
    path: "/v1/admin/messages/{messageId}/remove",
    op: "msg.remove",
    params: { messageId: "messageId" },
    body: true,
    locateBy: "messageId",
    status: 200,
    errors: ["conflict"],
    example: { params: { messageId: M }, body: { reason: "advertising" }, result: { message: ex.removed } },
  },
  {
    method: "get",
    path: "/v1/admin/flags",
    op: "flags.list",
    query: { status: "status", cursor: "cursor", limit: "limit" },
    status: 200,
    example: { query: { status: "open", limit: "50" }, result: { flags: [ex.flag] } },
  },
  {
    method: "post",
    path: "/v1/admin/flags/{flagId}/resolve",
    op: "flag.resolve",
    params: { flagId: "flagId" },
    body: true,
    status: 200,
    errors: ["not_found", "conflict"],
    example: {
      params: { flagId: ex.flag.id },
      body: { resolution: "removed", note: "advertising" },
      result: { flag: ex.resolvedFlag },
    },
  },
  // ---- administration: users, roles, the audit log (issue 23; admins) ------------------
  {
    method: "post",
    path: "/v1/admin/users/{userId}/deactivate",
    op: "user.deactivate",
    params: { userId: "userId" },
    status: 200,
    errors: ["forbidden", "not_found"],
    example: { params: { userId: ex.bob.id }, result: { user: { ...ex.bob, deactivated: true } } },
  },
  {
    method: "post",
    path: "/v1/admin/users/{userId}/reactivate",
    op: "user.reactivate",
    params: { userId: "userId" },
    status: 200,
    errors: ["forbidden", "not_found"],
    example: { params: { userId: ex.bob.id }, result: { user: ex.bob } },
  },
  {
    method: "put",
    path: "/v1/admin/users/{userId}/role",
    op: "role.set",
    params: { userId: "userId" },
    body: true,
    status: 200,
    errors: ["forbidden", "not_found"],
    example: {
      params: { userId: ex.bob.id },
      body: { role: "moderator" },
      result: { user: { ...ex.bob, role: "moderator" } },
    },
  },
  {
    method: "get",
    path: "/v1/admin/users",
    op: "users.list",
    query: { q: "q", cursor: "cursor", limit: "limit" },
    status: 200,
    errors: ["forbidden"],
    example: { query: { q: "bo", limit: "50" }, result: { users: [ex.bob] } },
  },
  {
    method: "post",
    path: "/v1/admin/channels/{channelId}/archive",
    op: "ch.archive",
    operationId: "adminChArchive",
    params: { channelId: "channelId" },
    status: 200,
    example: { params: { channelId: C }, result: { channel: { ...ex.channel, archived: true } } },
  },
  {
    method: "get",
    path: "/v1/admin/audit",
    op: "audit.list",
    query: {
      actor: "actor",
      action: "action",
      target: "target",
      from: "from",
      to: "to",
      cursor: "cursor",
      limit: "limit",
    },
    status: 200,
    errors: ["forbidden"],
    example: { query: { action: "user.deactivate", limit: "50" }, result: { entries: [ex.auditEntry] } },
  },
  {
    method: "get",
    path: "/v1/admin/audit/verify",
    op: "audit.verify",
    status: 200,
    errors: ["forbidden"],
    example: { result: { ok: true, checked: 1 } },
  },
];

/** The names of a path template's parameters, in order. */
export function paramNamesOf(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

/** The operationId of a route. */
export function operationIdOf(route: RouteSpec): string {
  return route.operationId ?? route.op.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase());
}

/** What a route needs of a request, copied out of the transport. */
export interface RouteRequest {
  /** Raw (still percent-encoded) path parameters, in template order. */
  params: string[];
  query: URLSearchParams;
  /** The `Idempotency-Key` header, or "". */
  idempotencyKey: string;
  /** The parsed JSON body, or undefined. */
  body: unknown;
}

/** An op call built from a request: not validated yet. */
export interface OpCall {
  op: OpName;
  args: Json;
  /** Set when `channelId` must be found from the message named by this arg. */
  locateBy?: "messageId" | "rootId";
}

/** The schema's JSON type of an op's arg, to convert a query value. */
function argType(op: OpName, arg: string): unknown {
  const props = (ops[op].args as { properties?: Record<string, { type?: unknown }> }).properties;
  return props?.[arg]?.type;
}

/**
 * A query value converted for its arg's schema: integers when all digits, booleans from
 * true/false/1/0; anything else stays text for the schema to refuse. Empty means absent.
 */
function queryValue(op: OpName, arg: string, raw: string | null): unknown {
  if (raw === null || raw === "") return undefined;
  switch (argType(op, arg)) {
    case "integer":
    case "number":
      return /^\d{1,16}$/.test(raw) ? Number(raw) : raw;
    case "boolean":
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      return raw;
    default:
      return raw;
  }
}

function decodeParam(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw fail.badRequest(`path parameter ${name} is not valid percent-encoding`, { path: `/${name}` });
  }
}

/**
 * The op call a request makes: body fields first, then query and path values (which win
 * over body fields of the same name). Throws `bad_request` for a body that is not an
 * object or a malformed path parameter. Pure: the server and the document's tests share it.
 */
export function callOf(route: RouteSpec, req: RouteRequest, principal: Principal): OpCall {
  // A copy: path and query values are written into it below.
  const args: Json = route.body ? { ...bodyMap(req.body) } : {};
  for (const [name, arg] of Object.entries(route.query ?? {})) {
    const value = queryValue(route.op, arg, req.query.get(name));
    if (value !== undefined) args[arg] = value;
  }
  paramNamesOf(route.path).forEach((name, i) => {
    const arg = route.params?.[name] ?? name;
    args[arg] = decodeParam(req.params[i] ?? "", name);
  });
  if (route.idempotencyKey && args.clientMsgId === undefined)
    args.clientMsgId = req.idempotencyKey || crypto.randomUUID();
  let op = route.op;
  const alt = route.alternative;
  if (alt?.applies(args, principal)) {
    op = alt.op;
    for (const k of alt.drop) delete args[k];
  }
  return route.locateBy && args.channelId === undefined
    ? { op, args, locateBy: route.locateBy }
    : { op, args };
}

/** The request a route's example stands for, as the transport would copy it. */
export function exampleRequest(route: RouteSpec): RouteRequest {
  const { params = {}, query = {}, body } = route.example;
  return {
    params: paramNamesOf(route.path).map((name) => encodeURIComponent(params[name] ?? "")),
    query: new URLSearchParams(query),
    idempotencyKey: "",
    body,
  };
}

/** The caller of the examples (alice). */
export const examplePrincipal: Principal = {
  userId: ex.alice.id,
  username: ex.alice.username,
  displayName: ex.alice.displayName,
  role: "member",
};
