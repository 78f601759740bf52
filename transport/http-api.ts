/**
 * The HTTP API: a thin JSON layer over the same actor calls as the WebSocket ops, with
 * the same validation and the same error codes (mapped to one HTTP status each). The
 * routes come from the route table (http-routes.ts), which also makes the OpenAPI
 * document served at `GET /openapi.json`.
 * Every answer carries the security headers (security-headers.ts). A `/v1` request counts
 * against its op's rate class (core/rate-classes.ts) for its client address before the
 * token is checked, and for its user after; over either budget it answers 429 with
 * `Retry-After`.
 * uWS discipline: everything needed from `req` is copied before the first await,
 * `onAborted` is registered first, and late writes are corked.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import type { Outcome } from "../actors/envelope.js";
import type { Readiness } from "../actors/runtime/actor-system.js";
import type { Limits } from "../core/config.js";
import { fail } from "../core/errors.js";
import { type Logger, silentLogger } from "../core/logger.js";
import { auditedOps, parseArgs } from "../core/ops.js";
import type { TokenVerifier } from "../core/ports.js";
import { type RateClass, rateClassOfOp } from "../core/rate-classes.js";
import type { Principal } from "../core/types.js";
import { clientAddressOf } from "./client-address.js";
import { CorsPolicy, type Header } from "./cors.js";
import type { Dispatcher } from "./dispatcher.js";
import { HttpFailure, type JsonAnswer, serveJson, statusText } from "./http-json.js";
import { callOf, httpRoutes, type OpCall, paramNamesOf, type RouteRequest } from "./http-routes.js";
import { hideLocatedChannel, locateChannel } from "./located-messages.js";
import { type OpenApiDocument, openApiDocument } from "./openapi.js";
import type { RequestRateLimits } from "./rate-limit.js";
import { originOf } from "./request-origin.js";
import { routeOp } from "./routing.js";
import type { RefusedAt } from "./token-refusals.js";

/** uWS's form of a path template: `:name` for `{name}`. */
function uwsPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

/** Whether `url` is under the prefixes browsers of `COLINK_CORS_ORIGINS` may call. */
function crossOriginPath(url: string): boolean {
  return url.startsWith("/v1/") || url.startsWith("/auth/");
}

/** uWS's name of each method. */
const uwsMethod = { get: "get", post: "post", put: "put", patch: "patch", delete: "del" } as const;

/** What every answer of the HTTP edge shares: its headers, and how a client's address is read. */
export interface HttpEdge {
  /** Headers of every answer (security-headers.ts). */
  headers: readonly Header[];
  /** COLINK_PROXY_HOPS (client-address.ts). */
  proxyHops: number;
}

/** The HTTP API. */
export class HttpApi {
  constructor(
    private readonly app: TemplatedApp,
    private readonly dispatcher: Dispatcher,
    private readonly verifier: TokenVerifier,
    private readonly limits: Limits,
    private readonly rates: RequestRateLimits,
    private readonly edge: HttpEdge,
    private readonly readiness: () => Promise<Readiness>,
    /** Which browser origins get CORS headers on `/v1` and `/auth` (see cors.ts); default none. */
    private readonly cors = new CorsPolicy([]),
    /** Where internal errors are written, with the route that failed. */
    private readonly logger: Logger = silentLogger,
    /** Told of every refused token (audited, bounded: token-refusals.ts). */
    private readonly tokenRefused: (ip: string, err: unknown, at: RefusedAt) => void = () => {},
  ) {}

  private document: OpenApiDocument | null = null;

  /** Registers every route on the app. */
  register(): void {
    for (const route of httpRoutes) {
      const paramCount = paramNamesOf(route.path).length;
      const label = `${route.method.toUpperCase()} ${route.path}`;
      const rateClass = rateClassOfOp[route.op];
      this.app[uwsMethod[route.method]](uwsPath(route.path), (res, req) => {
        const copy = this.copy(req, paramCount);
        const address = clientAddressOf(res, req, this.edge.proxyHops);
        this.serve(res, req, route.body === true, this.corsHeaders(req), label, async (body) => {
          await this.withinRate(rateClass, null, address);
          const principal = await this.authenticate(copy.authorization, address);
          await this.withinRate(rateClass, principal.userId, null);
          const call = callOf(route, { ...copy, body }, principal);
          const args = parseArgs(call.op, call.locateBy ? await this.locate(call, principal) : call.args);
          const env = routeOp(call.op, args, principal);
          if (!env) throw fail.badRequest(`op ${call.op} has no HTTP route`);
          if (auditedOps.has(call.op)) env.origin = originOf(address, copy.requestId);
          const outcome = await this.dispatcher.ask(env);
          const result = this.unwrap(call.locateBy ? hideLocatedChannel(outcome, call.locateBy) : outcome);
          // The request id its audit entry holds, for the caller to correlate.
          return env.origin
            ? [route.status, result, [["x-request-id", env.origin.requestId]]]
            : [route.status, result];
        });
      });
    }
    this.app.get("/openapi.json", (res, req) =>
      this.serve(res, req, false, [], "GET /openapi.json", async () => [200, this.openApi()]),
    );
    this.app.get("/health", (res, req) =>
      this.serve(res, req, false, [], "GET /health", async () => [200, { status: "ok" }]),
    );
    this.app.get("/ready", (res, req) =>
      this.serve(res, req, false, [], "GET /ready", async () => {
        const { ready, checks } = await this.readiness();
        return ready ? [200, { status: "ready", checks }] : [503, { status: "not ready", checks }];
      }),
    );
    if (this.cors.enabled) {
      // Preflights, before the catch-all: a browser sends one before any call that has an
      // Authorization header or a JSON body.
      for (const prefix of ["/v1/*", "/auth/*"]) {
        this.app.options(prefix, (res, req) => this.preflight(res, req));
      }
    }
    this.app.any("/*", (res, req) => {
      // An unknown path under /v1 or /auth still tells a page its 404.
      const cors = crossOriginPath(req.getUrl()) ? this.corsHeaders(req) : [];
      this.serve(res, req, false, cors, "unknown route", async () => Promise.reject(fail.notFound("route")));
    });
  }

  private serve(
    res: HttpResponse,
    req: HttpRequest,
    withBody: boolean,
    cors: readonly Header[],
    label: string,
    work: (body: unknown) => Promise<JsonAnswer>,
  ): void {
    serveJson(
      res,
      {
        withBody,
        headers: cors.length === 0 ? this.edge.headers : [...this.edge.headers, ...cors],
        contentLength: req.getHeader("content-length"),
        label,
        maxBodyBytes: this.limits.maxPayloadBytes,
        logger: this.logger,
      },
      work,
    );
  }

  /** Counts the request against its class's budget; throws the `rate_limited` refusal when over. */
  private async withinRate(cls: RateClass, userId: string | null, address: string | null): Promise<void> {
    const refusal = await this.rates.take(cls, userId, address);
    if (refusal) throw refusal;
  }

  /** The CORS headers for the answer to `req` (read now: uWS invalidates `req` later). */
  private corsHeaders(req: HttpRequest): readonly Header[] {
    return this.cors.enabled ? this.cors.responseHeaders(req.getHeader("origin")) : [];
  }

  /** Answers a CORS preflight: 204, with the permissions only for a listed origin (cors.ts). */
  private preflight(res: HttpResponse, req: HttpRequest): void {
    const headers = [...this.edge.headers, ...this.cors.preflightHeaders(req.getHeader("origin"))];
    res.cork(() => {
      res.writeStatus(statusText[204]!);
      for (const [name, value] of headers) res.writeHeader(name, value);
      res.endWithoutBody();
    });
  }

  private copy(
    req: HttpRequest,
    paramCount: number,
  ): Omit<RouteRequest, "body"> & { authorization: string; requestId: string } {
    return {
      params: Array.from({ length: paramCount }, (_, i) => req.getParameter(i) ?? ""),
      query: new URLSearchParams(req.getQuery() ?? ""),
      authorization: req.getHeader("authorization"),
      idempotencyKey: req.getHeader("idempotency-key"),
      requestId: req.getHeader("x-request-id"),
    };
  }

  /** The OpenAPI document, built on first request. */
  private openApi(): OpenApiDocument {
    this.document ??= openApiDocument(httpRoutes);
    return this.document;
  }

  private async authenticate(authorization: string, address: string): Promise<Principal> {
    if (!authorization.toLowerCase().startsWith("bearer "))
      throw fail.unauthenticated("missing bearer token");
    const principal = await this.verifier.verify(authorization.slice(7).trim()).catch((err: unknown) => {
      this.tokenRefused(address, err, "http");
      throw err;
    });
    await this.greet(principal);
    return principal;
  }

  /** Principals already known to their user actor (bounded), by user id. */
  private readonly greeted = new Map<string, string>();

  /**
   * Creates the user on first sight, as the WebSocket does on connect, so that a user
   * seen only over HTTP exists (can be invited, mentioned, found). Once per claims.
   */
  private async greet(p: Principal): Promise<void> {
    const claims = JSON.stringify([p.username, p.displayName, p.role]);
    if (this.greeted.get(p.userId) === claims) return;
    this.unwrap(
      await this.dispatcher.ask({ actor: "user", key: p.userId, op: "user.hello", args: {}, principal: p }),
    );
    if (this.greeted.size >= 10_000) this.greeted.delete(this.greeted.keys().next().value!);
    this.greeted.set(p.userId, claims);
  }

  /**
   * Routes that name only a message (or thread root): validate everything else first (so
   * a bad body is a 400, not a 404), then find the channel that holds the message. An id
   * that names no message is the same miss as one in a channel the caller cannot read
   * (`hideLocatedChannel`).
   */
  private async locate(call: OpCall, principal: Principal): Promise<Record<string, unknown>> {
    const locateBy = call.locateBy!;
    parseArgs(call.op, { ...call.args, channelId: "C" });
    const found = await locateChannel(this.dispatcher, call.args[locateBy], principal, locateBy);
    if ("error" in found) throw new HttpFailure(found.error);
    return { ...call.args, channelId: found.channelId };
  }

  private unwrap(outcome: Outcome): Record<string, unknown> {
    if (outcome.ok) return outcome.result;
    throw new HttpFailure(outcome.error);
  }
}
