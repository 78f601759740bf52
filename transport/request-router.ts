/**
 * Takes a valid request to what answers it: the connection itself (ConnectionOps) or the
 * actor its op routes to, through the dispatcher. Before an actor sees it, the connection
 * must be authenticated and its user within the rate limit. The answer goes back through
 * the SocketWriter; a `sub`'s grant is applied only while it is the connection's latest
 * wish for that channel.
 */
import type { Routed } from "../actors/runtime/actor-host.js";
import { CloseCode, errorBodyLogged, fail } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { ArgsOf, OpName } from "../core/ops.js";
import { channelTopic, errorFrame } from "../core/protocol.js";
import type { ClusterTopics } from "./cluster-topics.js";
import type { Conn, Socket } from "./connection.js";
import type { ConnectionOps } from "./connection-ops.js";
import type { Dispatcher } from "./dispatcher.js";
import type { UserRateLimiter } from "./rate-limit.js";
import type { ValidRequest } from "./request-intake.js";
import { routeOp } from "./routing.js";
import type { SocketWriter } from "./socket-writer.js";

/** Routes each valid request of a connection and sends its answer back. */
export class RequestRouter {
  private nextIntent = 1;
  /** Checked once: a line per request only at debug. */
  private readonly debug: boolean;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly rateLimit: UserRateLimiter,
    private readonly connectionOps: ConnectionOps,
    private readonly writer: SocketWriter,
    private readonly topics: ClusterTopics,
    /** Where internal errors are written, with the connection and request they failed. */
    private readonly logger: Logger,
  ) {
    this.debug = logger.isLevelEnabled("debug");
  }

  /** Handles one request that passed the intake; a refusal is answered with its error. */
  route(ws: Socket, conn: Conn, req: ValidRequest): void {
    const { id, op, args } = req;
    try {
      if (op === "auth") {
        this.connectionOps.auth(ws, id, args as ArgsOf<"auth">);
        return;
      }
      const principal = conn.principal;
      if (!principal) {
        // Requests pipelined behind an `auth` still being checked are refused, not fatal.
        if (conn.authenticating) throw fail.unauthenticated("send auth first");
        // DESIGN: without a token at upgrade, the first frame must be `auth`.
        ws.end(CloseCode.authTimeout, "the first frame must be auth");
        return;
      }
      if (op === "ping") {
        this.connectionOps.ping(ws, id);
        return;
      }
      this.rateLimit.check(principal.userId);
      if (op === "unsub") {
        this.connectionOps.unsub(ws, conn, id, args as ArgsOf<"unsub">);
        return;
      }
      const env = routeOp(op, args, principal);
      if (!env) throw fail.badRequest(`op "${op}" is not available here`);
      this.callActor(ws, conn, id, op, env);
    } catch (err) {
      this.writer.send(ws, errorFrame(id, errorBodyLogged(err, this.logger, { conn: conn.id, id, op })));
    }
  }

  /** Sends a request to its actor; for `sub`, in a cluster, once the channel's events reach this node. */
  private callActor(ws: Socket, conn: Conn, id: number, op: OpName, env: Omit<Routed, "callId">): void {
    let intent = 0;
    if (op === "sub") {
      intent = this.nextIntent++;
      conn.subs.set(env.key, intent);
    }
    conn.pending.add(id);
    const call = (settled?: () => void) => {
      const callId = this.dispatcher.call(env, {
        settle: (outcome, grant) => {
          const current = grant !== undefined && conn.subs.get(env.key) === intent;
          this.writer.answer(ws, id, outcome, current ? grant : undefined);
          settled?.();
        },
      });
      // The call id follows the request into its actor's lines (and its commit's).
      if (this.debug) this.logger.debug({ conn: conn.id, id, op, key: env.key, callId }, "request");
    };
    if (op === "sub" && this.topics.clustered) {
      // The channel's events must reach this node before its actor takes the replay's end.
      const topic = channelTopic(env.key);
      const done = () => this.topics.subEnded(topic);
      this.topics.subStarted(topic).then(
        () => call(done),
        () => {
          done();
          if (conn.closed) return;
          conn.pending.delete(id);
          this.writer.send(ws, errorFrame(id, fail.unavailable("cluster bus unavailable, retry").toBody()));
        },
      );
    } else call();
  }
}
