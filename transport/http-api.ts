/**
 * The HTTP API: a thin JSON layer over the same actor calls as the WebSocket ops, with
 * the same validation and the same error codes (mapped to one HTTP status each).
 * uWS discipline: everything needed from `req` is copied before the first await,
 * `onAborted` is registered first, and late writes are corked.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import type { Outcome } from "../actors/envelope.js";
import type { Limits } from "../core/config.js";
import { type ErrorBody, errorBodyOf, fail, httpStatusOf } from "../core/errors.js";
import { type OpName, parseArgs } from "../core/ops.js";
import type { DevLogin, TokenVerifier } from "../core/ports.js";
import type { Principal } from "../core/types.js";
import type { Dispatcher } from "./dispatcher.js";
import { routeOp } from "./routing.js";

/** What a route sees of a request, copied out of uWS. */
interface RequestCopy {
  params: string[];
  query: URLSearchParams;
  headers: { authorization: string; idempotencyKey: string };
  body: unknown;
}

/** An op call built from a request. */
interface OpCall {
  op: OpName;
  args: Record<string, unknown>;
}

type Method = "get" | "post" | "patch" | "del";

/** A REST route: how to build the op call, and the status of success. */
interface Route {
  method: Method;
  path: string;
  build(req: RequestCopy, principal: Principal): OpCall | Promise<OpCall>;
  created?: boolean;
}

const statusText: Record<number, string> = {
  200: "200 OK",
  201: "201 Created",
  400: "400 Bad Request",
  401: "401 Unauthorized",
  403: "403 Forbidden",
  404: "404 Not Found",
  409: "409 Conflict",
  413: "413 Payload Too Large",
  429: "429 Too Many Requests",
  500: "500 Internal Server Error",
  503: "503 Service Unavailable",
};

/** A query parameter as a number when it is all digits; otherwise as given, for the schema to refuse. */
function queryNumber(q: URLSearchParams, name: string): number | string | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  return /^\d{1,16}$/.test(v) ? Number(v) : v;
}

function queryFlag(q: URLSearchParams, name: string): boolean | string | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  return v;
}

function bodyMap(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw fail.badRequest("body must be a JSON object");
  return body as Record<string, unknown>;
}

/** Drops undefined values so optional fields stay absent for the schema. */
function defined(args: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(args)) if (args[k] === undefined) delete args[k];
  return args;
}

/** The HTTP API. */
export class HttpApi {
  constructor(
    private readonly app: TemplatedApp,
    private readonly dispatcher: Dispatcher,
    private readonly verifier: TokenVerifier,
    private readonly devLogin: DevLogin | null,
    private readonly limits: Limits,
    private readonly isReady: () => Promise<boolean>,
  ) {}

  /** The REST routes over actor ops. */
  private readonly routes: Route[] = [
    {
      method: "post",
      path: "/v1/channels",
      created: true,
      build: (r) => ({ op: "ch.create", args: bodyMap(r.body) }),
    },
    {
      method: "get",
      path: "/v1/channels",
      build: (r) => ({
        op: "ch.list",
        args: defined({
          includePublic: queryFlag(r.query, "includePublic"),
          includeArchived: queryFlag(r.query, "includeArchived"),
        }),
      }),
    },
    {
      method: "get",
      path: "/v1/channels/:id",
      build: (r) => ({ op: "ch.get", args: { channelId: r.params[0] } }),
    },
    {
      method: "patch",
      path: "/v1/channels/:id",
      build: (r) => ({ op: "ch.update", args: { ...bodyMap(r.body), channelId: r.params[0] } }),
    },
    {
      method: "del",
      path: "/v1/channels/:id",
      build: (r) => ({ op: "ch.archive", args: { channelId: r.params[0] } }),
    },
    {
      method: "get",
      path: "/v1/channels/:id/members",
      build: (r) => ({ op: "ch.members", args: { channelId: r.params[0] } }),
    },
    {
      method: "post",
      path: "/v1/channels/:id/members",
      build: (r, p) => {
        const body = bodyMap(r.body);
        // With no userId, or one's own, the caller joins; otherwise the caller invites.
        if (body.userId === undefined || body.userId === p.userId) {
          const { userId: _self, ...rest } = body;
          return { op: "ch.join", args: { ...rest, channelId: r.params[0] } };
        }
        return { op: "ch.invite", args: { ...body, channelId: r.params[0] } };
      },
    },
    {
      method: "del",
      path: "/v1/channels/:id/members/:userId",
      build: (r, p) =>
        r.params[1] === p.userId
          ? { op: "ch.leave", args: { channelId: r.params[0] } }
          : { op: "ch.kick", args: { channelId: r.params[0], userId: r.params[1] } },
    },
    {
      method: "post",
      path: "/v1/channels/:id/messages",
      created: true,
      build: (r) => {
        const body = bodyMap(r.body);
        // The Idempotency-Key header, when sent, is the clientMsgId; without either, a
        // fresh one makes the request a plain, non-idempotent send.
        const clientMsgId = body.clientMsgId ?? (r.headers.idempotencyKey || crypto.randomUUID());
        return { op: "msg.send", args: { ...body, clientMsgId, channelId: r.params[0] } };
      },
    },
    {
      method: "get",
      path: "/v1/channels/:id/messages",
      build: (r) => ({
        op: "msg.history",
        args: defined({
          channelId: r.params[0],
          beforeSeq: queryNumber(r.query, "before"),
          afterSeq: queryNumber(r.query, "after"),
          limit: queryNumber(r.query, "limit"),
        }),
      }),
    },
    {
      method: "patch",
      path: "/v1/messages/:id",
      build: async (r, p) => {
        const args = { ...bodyMap(r.body), messageId: r.params[0] };
        return { op: "msg.edit", args: await this.withChannel("msg.edit", args, p) };
      },
    },
    {
      method: "del",
      path: "/v1/messages/:id",
      build: async (r, p) => {
        const channelId = r.query.get("channelId") ?? undefined;
        const args = defined({ channelId, messageId: r.params[0] });
        return { op: "msg.delete", args: await this.withChannel("msg.delete", args, p) };
      },
    },
    { method: "get", path: "/v1/users/me", build: () => ({ op: "user.me", args: {} }) },
  ];

  /** Registers every route on the app. */
  register(): void {
    for (const route of this.routes) {
      const paramCount = route.path.split("/").filter((s) => s.startsWith(":")).length;
      this.app[route.method](route.path, (res, req) => {
        const copy = this.copy(req, paramCount);
        this.serve(res, route.method !== "get" && route.method !== "del", async (body) => {
          const principal = await this.authenticate(copy.headers.authorization);
          const call = await route.build({ ...copy, body }, principal);
          const args = parseArgs(call.op, call.args);
          const env = routeOp(call.op, args, principal);
          if (!env) throw fail.badRequest(`op ${call.op} has no HTTP route`);
          return [route.created ? 201 : 200, this.unwrap(await this.dispatcher.ask(env))];
        });
      });
    }
    this.app.get("/health", (res) => this.serve(res, false, async () => [200, { status: "ok" }]));
    this.app.get("/ready", (res) =>
      this.serve(res, false, async () =>
        (await this.isReady()) ? [200, { status: "ready" }] : [503, { status: "not ready" }],
      ),
    );
    this.app.post("/auth/dev/token", (res) =>
      this.serve(res, true, async (body) => {
        if (!this.devLogin) throw fail.notFound("dev login (COLINK_DEV_AUTH is off)");
        const { accessToken, principal } = await this.devLogin.login(bodyMap(body).username);
        const outcome = await this.dispatcher.ask({
          actor: "user",
          key: principal.userId,
          op: "user.hello",
          args: {},
          principal,
        });
        return [200, { accessToken, ...this.unwrap(outcome) }];
      }),
    );
    this.app.get("/auth/dev/jwks", (res) =>
      this.serve(res, false, async () => {
        if (!this.devLogin) throw fail.notFound("dev issuer");
        return [200, this.devLogin.jwks()];
      }),
    );
    this.app.any("/*", (res) => this.serve(res, false, async () => Promise.reject(fail.notFound("route"))));
  }

  private copy(req: HttpRequest, paramCount: number): Omit<RequestCopy, "body"> {
    return {
      params: Array.from({ length: paramCount }, (_, i) => req.getParameter(i) ?? ""),
      query: new URLSearchParams(req.getQuery() ?? ""),
      headers: {
        authorization: req.getHeader("authorization"),
        idempotencyKey: req.getHeader("idempotency-key"),
      },
    };
  }

  private async authenticate(authorization: string): Promise<Principal> {
    if (!authorization.toLowerCase().startsWith("bearer "))
      throw fail.unauthenticated("missing bearer token");
    return this.verifier.verify(authorization.slice(7).trim());
  }

  /**
   * Message routes name only the message: validate everything else first (so a bad body
   * is a 400, not a 404), then find the channel that holds it unless the caller said.
   */
  private async withChannel(
    op: "msg.edit" | "msg.delete",
    args: Record<string, unknown>,
    principal: Principal,
  ): Promise<Record<string, unknown>> {
    if (args.channelId !== undefined) return args;
    parseArgs(op, { ...args, channelId: "C" });
    const outcome = await this.dispatcher.ask({
      actor: "user",
      key: principal.userId,
      op: "msg.locate",
      args: { messageId: args.messageId },
      principal,
    });
    return { ...args, channelId: this.unwrap(outcome).channelId };
  }

  private unwrap(outcome: Outcome): Record<string, unknown> {
    if (outcome.ok) return outcome.result;
    throw new HttpFailure(outcome.error);
  }

  /** Reads the body (when `withBody`), runs `work`, and writes its JSON answer or error. */
  private serve(
    res: HttpResponse,
    withBody: boolean,
    work: (body: unknown) => Promise<[number, unknown]>,
  ): void {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const reply = (status: number, payload: unknown) => {
      if (aborted) return;
      res.cork(() => {
        res
          .writeStatus(statusText[status] ?? `${status}`)
          .writeHeader("content-type", "application/json")
          .end(JSON.stringify(payload));
      });
    };
    const run = (body: unknown) =>
      work(body).then(
        ([status, payload]) => reply(status, payload),
        (err: unknown) => {
          const error: ErrorBody = err instanceof HttpFailure ? err.body : errorBodyOf(err);
          reply(httpStatusOf[error.code], { error });
        },
      );
    if (!withBody) {
      void run(undefined);
      return;
    }
    this.readBody(res).then(run, (err: unknown) => {
      const error = errorBodyOf(err);
      reply(httpStatusOf[error.code], { error });
    });
  }

  /** Collects the body up to the payload limit and parses it as JSON (empty → undefined). */
  private readBody(res: HttpResponse): Promise<unknown> {
    const limit = this.limits.maxPayloadBytes;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      res.onData((chunk, isLast) => {
        if (refused) return;
        size += chunk.byteLength;
        if (size > limit) {
          refused = true;
          reject(fail.tooLarge(`body is larger than ${limit} bytes`));
          return;
        }
        // uWS reuses the chunk's memory after this callback: copy it.
        chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
        if (!isLast) return;
        const text = Buffer.concat(chunks).toString("utf8");
        if (text.trim() === "") return resolve(undefined);
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(fail.badRequest("body is not valid JSON"));
        }
      });
    });
  }
}

/** An actor's error outcome, carried to the HTTP reply unchanged. */
class HttpFailure extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
  }
}
