import { Value } from "@sinclair/typebox/value";
import { describe, expect, it } from "vitest";
import { ColinkError } from "../core/errors.js";
import { type OpName, ops, parseArgs } from "../core/ops.js";
import {
  callOf,
  connectionOps,
  examplePrincipal,
  exampleRequest,
  httpRoutes,
  operationIdOf,
  paramNamesOf,
  type RouteRequest,
  type RouteSpec,
} from "./http-routes.js";
import { errorCodesOf, type OpenApiOperation, openApiDocument } from "./openapi.js";

const doc = openApiDocument(httpRoutes);
const operationOf = (r: RouteSpec): OpenApiOperation => doc.paths[r.path]![r.method]!;
const named = (r: RouteSpec) => `${r.method.toUpperCase()} ${r.path}`;

/** Every `$ref` in a JSON value. */
function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refsIn(n, out);
  else if (typeof node === "object" && node !== null)
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refsIn(v, out);
    }
  return out;
}

/** The args an example request makes, with a placeholder for a channel the server would locate. */
function exampleArgs(r: RouteSpec) {
  const call = callOf(r, exampleRequest(r), examplePrincipal);
  return { op: call.op, args: call.locateBy ? { ...call.args, channelId: "Cplaceholder" } : call.args };
}

describe("the route table", () => {
  it("has a route for every op but the connection's own", () => {
    const routed = new Set<string>(
      httpRoutes.flatMap((r) => [r.op, ...(r.alternative ? [r.alternative.op] : [])]),
    );
    const missing = (Object.keys(ops) as OpName[]).filter(
      (op) => !routed.has(op) && !connectionOps.includes(op),
    );
    expect(missing).toEqual([]);
    for (const op of connectionOps) expect(routed.has(op), op).toBe(false);
  });

  it("maps every path parameter to an arg of its op, and every query parameter too", () => {
    for (const r of httpRoutes) {
      const argNames = Object.keys((ops[r.op].args as { properties: object }).properties);
      for (const name of paramNamesOf(r.path)) expect(argNames, named(r)).toContain(r.params?.[name] ?? name);
      expect(Object.keys(r.params ?? {}).sort(), named(r)).toEqual(paramNamesOf(r.path).sort());
      for (const arg of Object.values(r.query ?? {})) expect(argNames, named(r)).toContain(arg);
      if (r.locateBy) expect(argNames, named(r)).toContain(r.locateBy);
    }
  });

  it("has valid examples: the request makes valid args and the result fits the op's result schema", () => {
    for (const r of httpRoutes) {
      const { op, args } = exampleArgs(r);
      expect(op, `${named(r)} example calls its main op`).toBe(r.op);
      expect(() => parseArgs(op, args), named(r)).not.toThrow();
      const errors = [...Value.Errors(ops[op].result, r.example.result)].map((e) => `${e.path} ${e.message}`);
      expect(errors, named(r)).toEqual([]);
    }
  });
});

describe("callOf", () => {
  const request = (over: Partial<RouteRequest>): RouteRequest => ({
    params: [],
    query: new URLSearchParams(),
    idempotencyKey: "",
    body: undefined,
    ...over,
  });
  const route = (method: string, path: string) =>
    httpRoutes.find((r) => r.method === method && r.path === path)!;

  it("converts query values by the arg's schema and leaves bad ones for the schema to refuse", () => {
    const history = route("get", "/v1/channels/{id}/messages");
    const q = new URLSearchParams("before=10&limit=x&after=");
    expect(callOf(history, request({ params: ["C1"], query: q }), examplePrincipal).args).toEqual({
      channelId: "C1",
      beforeSeq: 10,
      limit: "x",
    });
    const list = route("get", "/v1/channels");
    const flags = new URLSearchParams("includePublic=1&includeArchived=false");
    expect(callOf(list, request({ query: flags }), examplePrincipal).args).toEqual({
      includePublic: true,
      includeArchived: false,
    });
  });

  it("decodes path parameters, lets them win over the body, and refuses bad percent-encoding", () => {
    const remove = route("delete", "/v1/messages/{id}/reactions/{emoji}");
    const call = callOf(remove, request({ params: ["M1", "%F0%9F%91%8D"] }), examplePrincipal);
    expect(call).toEqual({
      op: "react.remove",
      args: { messageId: "M1", emoji: "👍" },
      locateBy: "messageId",
    });
    expect(callOf(remove, request({ params: ["M1", "%2B1"] }), examplePrincipal).args.emoji).toBe("+1");
    expect(() => callOf(remove, request({ params: ["M1", "%E0%A4%A"] }), examplePrincipal)).toThrow(
      ColinkError,
    );

    const edit = route("patch", "/v1/messages/{id}");
    const body = { text: "x", messageId: "Mother", channelId: "C9" };
    // channelId given: nothing to locate.
    expect(callOf(edit, request({ params: ["M1"], body }), examplePrincipal)).toEqual({
      op: "msg.edit",
      args: { text: "x", messageId: "M1", channelId: "C9" },
    });
    expect(() => callOf(edit, request({ params: ["M1"], body: [1] }), examplePrincipal)).toThrow(
      /JSON object/,
    );
  });

  it("picks the alternative op for the caller's own id", () => {
    const members = route("post", "/v1/channels/{id}/members");
    const self = examplePrincipal.userId;
    expect(callOf(members, request({ params: ["C1"] }), examplePrincipal).op).toBe("ch.join");
    expect(callOf(members, request({ params: ["C1"], body: { userId: self } }), examplePrincipal)).toEqual({
      op: "ch.join",
      args: { channelId: "C1" },
    });
    expect(callOf(members, request({ params: ["C1"], body: { userId: "U2" } }), examplePrincipal).op).toBe(
      "ch.invite",
    );
    const remove = route("delete", "/v1/channels/{id}/members/{userId}");
    expect(callOf(remove, request({ params: ["C1", self] }), examplePrincipal)).toEqual({
      op: "ch.leave",
      args: { channelId: "C1" },
    });
    expect(callOf(remove, request({ params: ["C1", "U2"] }), examplePrincipal).op).toBe("ch.kick");
  });

  it("takes clientMsgId from the body, else the Idempotency-Key header, else a fresh one", () => {
    const send = route("post", "/v1/channels/{id}/messages");
    const args = (over: Partial<RouteRequest>) =>
      callOf(send, request({ params: ["C1"], ...over }), examplePrincipal).args;
    expect(args({ body: { text: "a", clientMsgId: "k1" }, idempotencyKey: "h" }).clientMsgId).toBe("k1");
    expect(args({ body: { text: "a" }, idempotencyKey: "h" }).clientMsgId).toBe("h");
    const fresh = [args({ body: { text: "a" } }).clientMsgId, args({ body: { text: "a" } }).clientMsgId];
    expect(fresh[0]).toEqual(expect.any(String));
    expect(fresh[0]).not.toBe(fresh[1]);
  });
});

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 with bearer auth and plain JSON (no TypeBox symbols)", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearerAuth).toEqual({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    const symbols = (node: unknown): number =>
      typeof node !== "object" || node === null
        ? 0
        : Object.getOwnPropertySymbols(node).length + Object.values(node).reduce((n, v) => n + symbols(v), 0);
    expect(symbols(doc)).toBe(0);
  });

  it("has one operation per route, with unique operation ids and the op's summary", () => {
    const count = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(count).toBe(httpRoutes.length);
    const ids = httpRoutes.map((r) => operationOf(r).operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of httpRoutes) {
      const op = operationOf(r);
      expect(op.operationId).toBe(operationIdOf(r));
      expect(op.summary).toBe(ops[r.op].summary);
      expect(op["x-colink-op"]).toBe(r.op);
    }
    expect(operationOf(httpRoutes.find((r) => r.op === "msg.scheduled.list")!).operationId).toBe(
      "msgScheduledList",
    );
  });

  it("lists path and query parameters with the op's schemas, and leaves them out of the body", () => {
    for (const r of httpRoutes) {
      const op = operationOf(r);
      const path = op.parameters.filter((p) => p.in === "path");
      expect(
        path.map((p) => p.name),
        named(r),
      ).toEqual(paramNamesOf(r.path));
      for (const p of path) expect(p.required).toBe(true);
      const query = op.parameters.filter((p) => p.in === "query").map((p) => p.name);
      expect(query, named(r)).toEqual(Object.keys(r.query ?? {}));
      const fromUrl = [...Object.values(r.params ?? {}), ...Object.values(r.query ?? {})];
      const body = op.requestBody?.content["application/json"].schema as
        | { properties?: object; anyOf?: Array<{ properties: object }> }
        | undefined;
      expect(body !== undefined, named(r)).toBe(r.body === true);
      for (const s of body?.anyOf ?? (body ? [body] : []))
        for (const arg of fromUrl) expect(Object.keys(s.properties ?? {}), named(r)).not.toContain(arg);
    }
    const search = operationOf(httpRoutes.find((r) => r.op === "search.users")!);
    expect(search.parameters).toEqual([
      {
        name: "q",
        in: "query",
        required: true,
        schema: { type: "string", minLength: 1, maxLength: 80 },
        example: "bo",
      },
      {
        name: "limit",
        in: "query",
        required: false,
        schema: { type: "integer", minimum: 1, maximum: 50 },
        example: "10",
      },
    ]);
  });

  it("makes channelId optional where the server locates the message, and clientMsgId where it defaults", () => {
    const body = (r: RouteSpec) =>
      operationOf(r).requestBody?.content["application/json"].schema as { required?: string[] };
    const edit = httpRoutes.find((r) => r.op === "msg.edit")!;
    expect(body(edit).required).toEqual(["text"]);
    const send = httpRoutes.find((r) => r.op === "msg.send")!;
    expect(body(send).required).toEqual(["text"]);
    const del = operationOf(httpRoutes.find((r) => r.op === "msg.delete")!);
    expect(del.parameters.find((p) => p.name === "channelId")?.required).toBe(false);
  });

  it("has an example for every request body and success response, equal to the table's", () => {
    for (const r of httpRoutes) {
      const op = operationOf(r);
      const ok = op.responses[String(r.status)] as { content: { "application/json": { example: unknown } } };
      expect(ok.content["application/json"].example, named(r)).toEqual(r.example.result);
      if (r.body) expect(op.requestBody!.content["application/json"].example).toEqual(r.example.body ?? {});
    }
  });

  it("lists the error answers of each route as the shared error response", () => {
    for (const r of httpRoutes) {
      const op = operationOf(r);
      const statuses = Object.keys(op.responses).filter((s) => s !== String(r.status));
      expect(statuses.length, named(r)).toBe(errorCodesOf(r).length);
      for (const s of ["400", "401", "500", "503"]) expect(statuses, named(r)).toContain(s);
      if (ops[r.op].route === "channel") expect(statuses, named(r)).toContain("404");
      if (r.body) expect(statuses, named(r)).toContain("413");
    }
    expect(doc.components.responses.not_found).toMatchObject({
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    });
  });

  it("references only components it defines, and names the domain schemas", () => {
    for (const ref of refsIn(doc)) {
      const [, , kind, name] = ref.split("/") as [string, string, "schemas" | "responses", string];
      expect(doc.components[kind][name], ref).toBeDefined();
    }
    for (const name of ["Message", "Channel", "User", "Error", "ErrorBody"])
      expect(doc.components.schemas[name]).toBeDefined();
    const send = operationOf(httpRoutes.find((r) => r.op === "msg.send")!);
    expect(send.responses["201"]).toMatchObject({
      content: {
        "application/json": {
          schema: { properties: { message: { $ref: "#/components/schemas/Message" } } },
        },
      },
    });
  });
});
