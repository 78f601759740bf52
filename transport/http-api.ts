/**
 * The HTTP API: a thin JSON layer over the same actor calls as the WebSocket ops, with
 * the same validation and the same error codes (mapped to one HTTP status each). The
 * routes come from the route table (http-routes.ts), which also makes the OpenAPI
 * document served at `GET /openapi.json`.
 * uWS discipline: everything needed from `req` is copied before the first await,
 * `onAborted` is registered first, and late writes are corked.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import type { Outcome } from "../actors/envelope.js";
import type { Limits } from "../core/config.js";
import { fail } from "../core/errors.js";
import { type Logger, silentLogger } from "../core/logger.js";
import { parseArgs } from "../core/ops.js";
import type { TokenVerifier } from "../core/ports.js";
import type { Principal } from "../core/types.js";
import { CorsPolicy, type Header } from "./cors.js";
import type { Dispatcher } from "./dispatcher.js";
import { HttpFailure, type JsonAnswer, serveJson, statusText } from "./http-json.js";
import { callOf, httpRoutes, type OpCall, paramNamesOf, type RouteRequest } from "./http-routes.js";
import { type OpenApiDocument, openApiDocument } from "./openapi.js";
import type { UserRateLimiter } from "./rate-limit.js";
import { routeOp } from "./routing.js";

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

/** The HTTP API. */
export class HttpApi {
  constructor(
    private readonly app: TemplatedApp,
    private readonly dispatcher: Dispatcher,
    private readonly verifier: TokenVerifier,
    private readonly limits: Limits,
    private readonly rateLimit: UserRateLimiter,
    private readonly isReady: () => Promise<boolean>,
    /** Which browser origins get CORS headers on `/v1` and `/auth` (see cors.ts); default none. */
    private readonly cors = new CorsPolicy([]),
    /** Where internal errors are written, with the route that failed. */
    private readonly logger: Logger = silentLogger,
  ) {}

  private document: OpenApiDocument | null = null;

  /** Registers every route on the app. */
  register(): void {
    for (const route of httpRoutes) {
      const paramCount = paramNamesOf(route.path).length;
      const label = `${route.method.toUpperCase()} ${route.path}`;
      this.app[uwsMethod[route.method]](uwsPath(route.path), (res, req) => {
        const copy = this.copy(req, paramCount);
        this.serve(res, route.body === true, this.corsHeaders(req), label, async (body) => {
          const principal = await this.authenticate(copy.authorization);
          this.rateLimit.check(principal.userId);
          const call = callOf(route, { ...copy, body }, principal);
          const args = parseArgs(call.op, call.locateBy ? await this.locate(call, principal) : call.args);
          const env = routeOp(call.op, args, principal);
          if (!env) throw fail.badRequest(`op ${call.op} has no HTTP route`);
          return [route.status, this.unwrap(await this.dispatcher.ask(env))];
        });
      });
    }
    this.app.get("/openapi.json", (res) =>
      this.serve(res, false, [], "GET /openapi.json", async () => [200, this.openApi()]),
    );
    this.app.get("/health", (res) =>
      this.serve(res, false, [], "GET /health", async () => [200, { status: "ok" }]),
    );
    this.app.get("/ready", (res) =>
      this.serve(res, false, [], "GET /ready", async () =>
        (await this.isReady()) ? [200, { status: "ready" }] : [503, { status: "not ready" }],
      ),
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
      this.serve(res, false, cors, "unknown route", async () => Promise.reject(fail.notFound("route")));
    });
  }

  private serve(
    res: HttpResponse,
    withBody: boolean,
    headers: readonly Header[],
    label: string,
    work: (body: unknown) => Promise<JsonAnswer>,
  ): void {
    serveJson(
      res,
      { withBody, headers, label, maxBodyBytes: this.limits.maxPayloadBytes, logger: this.logger },
      work,
    );
  }

  /** The CORS headers for the answer to `req` (read now: uWS invalidates `req` later). */
  private corsHeaders(req: HttpRequest): readonly Header[] {
    return this.cors.enabled ? this.cors.responseHeaders(req.getHeader("origin")) : [];
  }

  /** Answers a CORS preflight: 204, with the permissions only for a listed origin (cors.ts). */
  private preflight(res: HttpResponse, req: HttpRequest): void {
    const headers = this.cors.preflightHeaders(req.getHeader("origin"));
    res.cork(() => {
      res.writeStatus(statusText[204]!);
      for (const [name, value] of headers) res.writeHeader(name, value);
      res.endWithoutBody();
    });
  }

  private copy(req: HttpRequest, paramCount: number): Omit<RouteRequest, "body"> & { authorization: string } {
    return {
      params: Array.from({ length: paramCount }, (_, i) => req.getParameter(i) ?? ""),
      query: new URLSearchParams(req.getQuery() ?? ""),
      authorization: req.getHeader("authorization"),
      idempotencyKey: req.getHeader("idempotency-key"),
    };
  }

  /** The OpenAPI document, built on first request. */
  private openApi(): OpenApiDocument {
    this.document ??= openApiDocument(httpRoutes);
    return this.document;
  }

  private async authenticate(authorization: string): Promise<Principal> {
    if (!authorization.toLowerCase().startsWith("bearer "))
      throw fail.unauthenticated("missing bearer token");
    const principal = await this.verifier.verify(authorization.slice(7).trim());
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
   * a bad body is a 400, not a 404), then find the channel that holds the message.
   */
  private async locate(call: OpCall, principal: Principal): Promise<Record<string, unknown>> {
    parseArgs(call.op, { ...call.args, channelId: "C" });
    const outcome = await this.dispatcher.ask({
      actor: "user",
      key: principal.userId,
      op: "msg.locate",
      args: { messageId: call.args[call.locateBy!] },
      principal,
    });
    return { ...call.args, channelId: this.unwrap(outcome).channelId };
  }

  private unwrap(outcome: Outcome): Record<string, unknown> {
    if (outcome.ok) return outcome.result;
    throw new HttpFailure(outcome.error);
  }
}
