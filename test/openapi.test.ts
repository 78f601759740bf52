/**
 * End to end: the OpenAPI document that a running server serves at `GET /openapi.json`
 * (no token needed). It is OpenAPI 3.1; it lists every route of the route table with its
 * method, every op but the connection's own has a route, its path parameters are
 * declared, its examples validate against the op schemas, and every operation it lists
 * is really served (without a token it is 401, not 404).
 */
import { Value } from "@sinclair/typebox/value";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpName, ops, parseArgs } from "../core/ops.js";
import {
  callOf,
  connectionOps,
  examplePrincipal,
  httpRoutes,
  paramNamesOf,
  type RouteRequest,
  type RouteSpec,
} from "../transport/http-routes.js";
import { type OpenApiDocument, type OpenApiOperation, openApiDocument } from "../transport/openapi.js";
import { startServer, type TestServer } from "./harness.js";

type Media = { "application/json": { schema: unknown; example: Record<string, unknown> } };

describe("GET /openapi.json", () => {
  let server: TestServer;
  let doc: OpenApiDocument;
  let contentType: string | null;

  beforeAll(async () => {
    server = await startServer("pglite");
    const res = await fetch(`${server.baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    contentType = res.headers.get("content-type");
    doc = (await res.json()) as OpenApiDocument;
  });
  afterAll(async () => {
    await server.cleanup();
  });

  const operationOf = (r: RouteSpec): OpenApiOperation | undefined => doc.paths[r.path]?.[r.method];
  const named = (r: RouteSpec) => `${r.method.toUpperCase()} ${r.path}`;

  it("is an OpenAPI 3.1 JSON document with bearer auth, the one the route table makes", () => {
    expect(contentType).toBe("application/json");
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument(httpRoutes))));
  });

  it("lists every route of the table with its method, and nothing else", () => {
    for (const r of httpRoutes) expect(operationOf(r), named(r)).toBeDefined();
    const listed = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(listed.sort()).toEqual(httpRoutes.map(named).sort());
  });

  it("has a route for every op except the connection-level ones", () => {
    const documented = new Set<string>();
    for (const item of Object.values(doc.paths))
      for (const op of Object.values(item)) {
        documented.add(op["x-colink-op"]);
        if (op["x-colink-alternative-op"]) documented.add(op["x-colink-alternative-op"]);
      }
    const expected = (Object.keys(ops) as OpName[]).filter((op) => !connectionOps.includes(op));
    expect([...documented].sort()).toEqual(expected.sort());
    expect(connectionOps).toEqual(["auth", "sub", "unsub", "ping"]);
  });

  it("declares every path parameter of a template, required", () => {
    for (const r of httpRoutes) {
      const params = operationOf(r)!.parameters.filter((p) => p.in === "path");
      expect(
        params.map((p) => p.name),
        named(r),
      ).toEqual(paramNamesOf(r.path));
      for (const p of params)
        expect(p, named(r)).toMatchObject({ required: true, schema: expect.any(Object) });
    }
  });

  it("has examples that validate against the op schemas", () => {
    let checked = 0;
    for (const r of httpRoutes) {
      const op = operationOf(r)!;
      // The request the documented examples make, mapped to args by the route table.
      const params = op.parameters.filter((p) => p.in === "path");
      const query = new URLSearchParams();
      for (const p of op.parameters)
        if (p.in === "query" && p.example !== undefined) query.set(p.name, p.example);
      const body = (op.requestBody?.content as Media | undefined)?.["application/json"].example;
      const request: RouteRequest = {
        params: params.map((p) => encodeURIComponent(p.example ?? "")),
        query,
        idempotencyKey: "",
        body,
      };
      const call = callOf(r, request, examplePrincipal);
      const args = call.locateBy ? { ...call.args, channelId: "Cexample" } : call.args;
      expect(call.op, named(r)).toBe(r.op);
      expect(() => parseArgs(call.op, args), named(r)).not.toThrow();
      expect(Value.Check(ops[r.op].args, args), named(r)).toBe(true);
      if (r.body) expect(body, named(r)).toBeDefined();

      const ok = op.responses[String(r.status)] as { content: Media };
      const result = ok.content["application/json"].example;
      const errors = [...Value.Errors(ops[r.op].result, result)].map((e) => `${e.path} ${e.message}`);
      expect(errors, named(r)).toEqual([]);
      checked++;
    }
    expect(checked).toBe(httpRoutes.length);
  });

  it("serves every documented operation: without a token it is 401, not 404", async () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => {
          const p = op.parameters.find((x) => x.name === name);
          return encodeURIComponent(p?.example ?? "x");
        });
        const res = await fetch(`${server.baseUrl}${url}`, {
          method: method.toUpperCase(),
          body: op.requestBody ? "{}" : undefined,
        });
        expect(`${method.toUpperCase()} ${url} → ${res.status}`).toBe(`${method.toUpperCase()} ${url} → 401`);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
      }
    }
  });
});
