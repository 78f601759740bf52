/**
 * The OpenAPI 3.1 document of the HTTP API, made from the route table (http-routes.ts)
 * and the op schemas (core/ops.ts): the same schemas validate the requests, type the
 * code and describe the API. TypeBox schemas are JSON Schema already; serialising them
 * drops TypeBox's symbol keys, and the domain schemas (Message, Channel…) become
 * components referenced by `$ref`.
 */
import { type Static, Type as T, type TSchema } from "@sinclair/typebox";
import { ColinkError, type ErrorBody, ErrorCode, httpStatusOf } from "../core/errors.js";
import { type OpName, ops } from "../core/ops.js";
import {
  ChannelSchema,
  MemberSchema,
  MessageSchema,
  MessageVersionSchema,
  PresenceSchema,
  ReactionSummarySchema,
  ScheduledSchema,
  UnreadSchema,
  UserSchema,
  UserSettingsSchema,
} from "../core/types.js";
import { type Json, operationIdOf, paramNamesOf, type RouteSpec } from "./http-routes.js";

/** Schema of an error body: what `{error}` holds in every error answer. */
export const ErrorBodySchema = T.Object({
  code: T.Union(Object.values(ErrorCode).map((c) => T.Literal(c))),
  message: T.String(),
  retryable: T.Boolean({ description: "whether the same request may succeed after a back-off" }),
  details: T.Optional(T.Record(T.String(), T.Unknown())),
});

// The schema and core/errors.ts's interface must describe the same body.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const errorBodyMatches: Same<Static<typeof ErrorBodySchema>, ErrorBody> = true;
void errorBodyMatches;

/** Schema of an error answer. */
export const ErrorSchema = T.Object({ error: ErrorBodySchema });

/** The domain schemas that get a name under `components.schemas`. */
const namedSchemas: Record<string, TSchema> = {
  User: UserSchema,
  Channel: ChannelSchema,
  Member: MemberSchema,
  ReactionSummary: ReactionSummarySchema,
  Message: MessageSchema,
  MessageVersion: MessageVersionSchema,
  Scheduled: ScheduledSchema,
  Presence: PresenceSchema,
  UserSettings: UserSettingsSchema,
  Unread: UnreadSchema,
  ErrorBody: ErrorBodySchema,
  Error: ErrorSchema,
};

/**
 * Error codes every op route can answer: bad input or token, a body over the limit (even
 * where none is read), a rate budget, and server faults.
 */
const commonErrors: readonly ErrorCode[] = [
  "bad_request",
  "unauthenticated",
  "too_large",
  "rate_limited",
  "internal",
  "unavailable",
];

/** An OpenAPI 3.1 document (the parts Colink uses are typed loosely: it is plain JSON). */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  security: Array<Record<string, string[]>>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, Json>;
    responses: Record<string, Json>;
    securitySchemes: Record<string, Json>;
  };
}

/** One operation of the document. */
export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  "x-colink-op": OpName;
  "x-colink-alternative-op"?: OpName;
  parameters: OpenApiParameter[];
  requestBody?: { required: boolean; content: { "application/json": { schema: Json; example: Json } } };
  responses: Record<string, Json>;
}

/** A path or query parameter. */
export interface OpenApiParameter {
  name: string;
  in: "path" | "query";
  required: boolean;
  description?: string;
  schema: Json;
  example?: string;
}

/** A schema as plain JSON: TypeBox's symbol keys dropped. */
function plain(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

/**
 * Replaces every subschema equal to a named one by a `$ref` to it. Equality is by JSON
 * text, since TypeBox copies schemas as it composes them.
 */
class SchemaRefs {
  private readonly byText = new Map<string, string>();

  constructor(named: Record<string, TSchema>) {
    for (const [name, schema] of Object.entries(named)) this.byText.set(JSON.stringify(schema), name);
  }

  /** The named schemas, each with its own subschemas referenced. */
  components(named: Record<string, TSchema>): Record<string, Json> {
    return Object.fromEntries(
      Object.entries(named).map(([name, schema]) => [name, this.apply(plain(schema), true) as Json]),
    );
  }

  /** `node` with named subschemas referenced (`node` itself too unless `isRoot`). */
  apply(node: unknown, isRoot = false): unknown {
    if (Array.isArray(node)) return node.map((n) => this.apply(n));
    if (typeof node !== "object" || node === null) return node;
    const name = isRoot ? undefined : this.byText.get(JSON.stringify(node));
    if (name !== undefined) return { $ref: `#/components/schemas/${name}` };
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, this.apply(v)]));
  }
}

interface ObjectSchema extends Json {
  properties?: Record<string, Json>;
  required?: string[];
}

/** The arg names a route takes from its path and query. */
function urlArgs(route: RouteSpec): Set<string> {
  return new Set([...Object.values(route.params ?? {}), ...Object.values(route.query ?? {})]);
}

/** Args that a route makes optional: the located channel, the defaulted idempotency key. */
function optionalArgs(route: RouteSpec): Set<string> {
  const optional = new Set<string>();
  if (route.locateBy) optional.add("channelId");
  if (route.idempotencyKey) optional.add("clientMsgId");
  return optional;
}

/** The schema of one arg of an op, with a route's description. */
function argSchema(op: OpName, arg: string): Json {
  const props = (plain(ops[op].args) as ObjectSchema).properties ?? {};
  const schema = props[arg];
  if (!schema) throw new Error(`op ${op} has no arg ${arg}`);
  return schema;
}

/** The body schema of a route's op: its args minus those from the URL. */
function bodySchemaOf(route: RouteSpec, op: OpName, drop: readonly string[] = []): ObjectSchema {
  const args = plain(ops[op].args) as ObjectSchema;
  const taken = urlArgs(route);
  for (const k of drop) taken.add(k);
  const optional = optionalArgs(route);
  const properties = Object.fromEntries(Object.entries(args.properties ?? {}).filter(([k]) => !taken.has(k)));
  const required = (args.required ?? []).filter((k) => !taken.has(k) && !optional.has(k));
  const { required: _all, ...rest } = args;
  return required.length > 0 ? { ...rest, properties, required } : { ...rest, properties };
}

/** One schema, or `anyOf` both when the alternative's differs. */
function eitherOf(main: Json, alternative: Json | null): Json {
  if (alternative === null || JSON.stringify(main) === JSON.stringify(alternative)) return main;
  return { anyOf: [main, alternative] };
}

/** The error codes a route can answer. */
export function errorCodesOf(route: RouteSpec): ErrorCode[] {
  const codes = new Set<ErrorCode>(commonErrors);
  const kind = ops[route.op].route;
  // Channel ops check membership and role at the actor; unknown and hidden channels are 404.
  if (kind === "channel" || kind === "dm") {
    codes.add("forbidden");
    codes.add("not_found");
  }
  if (kind === "newChannel") codes.add("forbidden");
  if (route.locateBy) codes.add("not_found");
  for (const c of route.errors ?? []) codes.add(c);
  return [...codes].sort((a, b) => httpStatusOf[a] - httpStatusOf[b]);
}

const errorExamples: Record<ErrorCode, string> = {
  bad_request: "invalid args for msg.send: /text Expected string",
  unauthenticated: "missing bearer token",
  forbidden: "not allowed",
  not_found: "channel not found",
  conflict: "channel id already in use",
  rate_limited: "too many send requests from this user (COLINK_RATE_SEND=50 per 10 s), retry in 4 s",
  too_large: "body is larger than 65536 bytes",
  unavailable: "temporarily unavailable",
  internal: "internal error",
};

function tagOf(path: string): string {
  return path.split("/")[2] ?? "other";
}

function operationOf(route: RouteSpec, refs: SchemaRefs): OpenApiOperation {
  const spec = ops[route.op];
  const alt = route.alternative;
  const ex = route.example;
  const parameters: OpenApiParameter[] = [];
  for (const name of paramNamesOf(route.path)) {
    const arg = route.params?.[name] ?? name;
    const p: OpenApiParameter = { name, in: "path", required: true, schema: argSchema(route.op, arg) };
    if (arg !== name) p.description = `the ${arg}`;
    if (name === "emoji") p.description = "the emoji, percent-encoded";
    if (ex.params?.[name] !== undefined) p.example = ex.params[name];
    parameters.push(p);
  }
  const required = new Set((plain(spec.args) as ObjectSchema).required ?? []);
  const optional = optionalArgs(route);
  for (const [name, arg] of Object.entries(route.query ?? {})) {
    const p: OpenApiParameter = {
      name,
      in: "query",
      required: required.has(arg) && !optional.has(arg),
      schema: argSchema(route.op, arg),
    };
    if (arg !== name) p.description = `the ${arg}`;
    if (arg === "channelId" && route.locateBy)
      p.description = `the channel of the message; found from the ${route.locateBy} when absent`;
    if (ex.query?.[name] !== undefined) p.example = ex.query[name];
    parameters.push(p);
  }

  const notes: string[] = [];
  if (alt) notes.push(`When ${alt.when}, op \`${alt.op}\`: ${ops[alt.op].summary}`);
  if (route.locateBy) notes.push("`channelId` is optional: the server finds the message's channel.");
  if (route.idempotencyKey)
    notes.push(
      "An absent `clientMsgId` is taken from the `Idempotency-Key` header; with neither, the request is not idempotent.",
    );
  const op: OpenApiOperation = {
    operationId: operationIdOf(route),
    summary: spec.summary,
    ...(notes.length > 0 ? { description: notes.join("\n\n") } : {}),
    tags: [tagOf(route.path)],
    "x-colink-op": route.op,
    ...(alt ? { "x-colink-alternative-op": alt.op } : {}),
    parameters,
    responses: {},
  };
  if (route.body) {
    const main = bodySchemaOf(route, route.op);
    const other = alt ? bodySchemaOf(route, alt.op, alt.drop) : null;
    const schema = refs.apply(eitherOf(main, other)) as Json;
    op.requestBody = {
      required: (main.required?.length ?? 0) > 0 && (other === null || (other.required?.length ?? 0) > 0),
      content: { "application/json": { schema, example: ex.body ?? {} } },
    };
  }
  const result = eitherOf(plain(spec.result), alt ? plain(ops[alt.op].result) : null);
  op.responses[String(route.status)] = {
    description: route.status === 201 ? "Created" : "OK",
    content: { "application/json": { schema: refs.apply(result), example: ex.result } },
  };
  for (const code of errorCodesOf(route))
    op.responses[String(httpStatusOf[code])] = { $ref: `#/components/responses/${code}` };
  return op;
}

/** Builds the OpenAPI 3.1 document of these routes. */
export function openApiDocument(routes: readonly RouteSpec[]): OpenApiDocument {
  const refs = new SchemaRefs(namedSchemas);
  const paths: OpenApiDocument["paths"] = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    const item = paths[route.path]!;
    if (item[route.method]) throw new Error(`two routes for ${route.method} ${route.path}`);
    item[route.method] = operationOf(route, refs);
  }
  const responses = Object.fromEntries(
    Object.values(ErrorCode).map((code) => {
      const details =
        code === "rate_limited" ? { retryAfterMs: 3250, limit: "send", scope: "user" } : undefined;
      const error = new ColinkError(code, errorExamples[code], details).toBody();
      return [
        code,
        {
          description: `${httpStatusOf[code]}: error code \`${code}\``,
          ...(code === "rate_limited"
            ? {
                headers: {
                  "Retry-After": {
                    description:
                      "seconds until the budget's window ends (`details.retryAfterMs`, rounded up)",
                    schema: { type: "integer", minimum: 1 },
                  },
                },
              }
            : {}),
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/Error" }, example: { error } },
          },
        },
      ];
    }),
  );
  return {
    openapi: "3.1.0",
    info: {
      title: "Colink HTTP API",
      version: "1",
      description:
        "REST/JSON over the same actor ops as the WebSocket protocol (docs/protocol.md): the same " +
        "validation and the same error codes, each mapped to one HTTP status. Times are epoch ms.",
    },
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas: refs.components(namedSchemas),
      responses,
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
  };
}
