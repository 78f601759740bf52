/**
 * Takes a valid request to what answers it: the connection itself (ConnectionOps) or the
 * actor its op routes to, through the dispatcher. Before anything answers it, the
 * connection must be authenticated and the request within its class's rate budgets for
 * the user and the client address (rate-limit.ts). The answer goes back through the
 * SocketWriter; a `sub`'s grant is applied only while it is the connection's latest wish
 * for that channel.
 *
 * Counting a budget takes a turn of the event loop (a Redis round trip in a cluster), and
 * the answers may come back out of order (a refusal from memory overtakes a count still
 * in Redis): a connection's requests wait in `conn.counting` and go on strictly in the
 * order they came, as they did before the limits. A request keeps its id in `pending`
 * meanwhile, so it counts against the in-flight cap and a duplicate id is caught.
 *
 * A refused connection is held (request-hold.ts) until the refusal's `retryAfterMs`.
 */
import type { Routed } from "../actors/runtime/actor-host.js";
import { CloseCode, type ErrorBody, errorBodyLogged, fail } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { type ArgsOf, auditedOps, type OpName } from "../core/ops.js";
import { channelTopic, errorFrame } from "../core/protocol.js";
import { rateClassOfOp } from "../core/rate-classes.js";
import type { Principal } from "../core/types.js";
import type { ClusterTopics } from "./cluster-topics.js";
import type { Conn, CountedRequest, Socket } from "./connection.js";
import type { ConnectionOps } from "./connection-ops.js";
import type { Dispatcher } from "./dispatcher.js";
import { hideLocatedChannel, locateChannel, needsLocating } from "./located-messages.js";
import type { RequestRateLimits } from "./rate-limit.js";
import type { RequestHold } from "./request-hold.js";
import type { ValidRequest } from "./request-intake.js";
import { originOf } from "./request-origin.js";
import { routeOp } from "./routing.js";
import type { SocketWriter } from "./socket-writer.js";

/** Routes each valid request of a connection and sends its answer back. */
export class RequestRouter {
  private nextIntent = 1;
  /** Checked once: a line per request only at debug. */
  private readonly debug: boolean;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly rates: RequestRateLimits,
    private readonly hold: RequestHold,
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
      this.afterCounting(ws, conn, req, principal);
    } catch (err) {
      this.writer.send(ws, errorFrame(id, errorBodyLogged(err, this.logger, { conn: conn.id, id, op })));
    }
  }

  /** Counts the request against its budgets, then runs it (or answers the refusal) in its turn. */
  private afterCounting(ws: Socket, conn: Conn, req: ValidRequest, principal: Principal): void {
    const { id, op } = req;
    const entry: CountedRequest = {
      id,
      refusal: undefined,
      run: (refusal) => {
        if (!refusal) this.run(ws, conn, req, principal);
        else {
          this.writer.send(ws, errorFrame(id, refusal));
          const wait = refusal.details?.retryAfterMs;
          if (refusal.code === "rate_limited" && typeof wait === "number")
            this.hold.hold(conn, refusal, wait);
        }
      },
    };
    conn.pending.add(id);
    if (!conn.counting) conn.counting = [];
    conn.counting.push(entry);
    this.rates.take(rateClassOfOp[op], principal.userId, conn.address).then(
      (refusal) => this.counted(conn, entry, refusal ? refusal.toBody() : null),
      (err: unknown) =>
        this.counted(conn, entry, errorBodyLogged(err, this.logger, { conn: conn.id, id, op })),
    );
  }

  /** A request's budgets are counted: runs every request at the head of the line that is ready. */
  private counted(conn: Conn, entry: CountedRequest, refusal: ErrorBody | null): void {
    entry.refusal = refusal;
    const line = conn.counting;
    if (!line) return;
    while (line.length > 0 && line[0]!.refusal !== undefined) {
      const next = line.shift()!;
      conn.pending.delete(next.id);
      if (!conn.closed) next.run(next.refusal!);
    }
    if (line.length === 0 && conn.counting === line) conn.counting = null;
  }

  /** Runs a request that is within its budgets. */
  private run(ws: Socket, conn: Conn, req: ValidRequest, principal: Principal): void {
    const { id, op, args } = req;
    try {
      if (op === "ping") {
        this.connectionOps.ping(ws, id);
        return;
      }
      if (op === "unsub") {
        this.connectionOps.unsub(ws, conn, id, args as ArgsOf<"unsub">);
        return;
      }
      if (needsLocating(op, args)) {
        this.callLocated(ws, conn, id, op, args, principal);
        return;
      }
      const env = routeOp(op, args, principal);
      if (!env) throw fail.badRequest(`op "${op}" is not available here`);
      if (auditedOps.has(op)) env.origin = originOf(conn.address);
      this.callActor(ws, conn, id, op, env);
    } catch (err) {
      this.writer.send(ws, errorFrame(id, errorBodyLogged(err, this.logger, { conn: conn.id, id, op })));
    }
  }

  /**
   * An op that names a message but not its channel (moderation's `msg.flag`, `msg.remove`):
   * finds the channel, then calls its actor; a channel the caller cannot read answers as a
   * message that does not exist (located-messages.ts).
   */
  private callLocated(
    ws: Socket,
    conn: Conn,
    id: number,
    op: OpName,
    args: Record<string, unknown>,
    principal: Principal,
  ): void {
    conn.pending.add(id);
    const refuse = (err: unknown) =>
      this.writer.answer(ws, id, {
        ok: false,
        error: errorBodyLogged(err, this.logger, { conn: conn.id, id, op }),
      });
    locateChannel(this.dispatcher, args.messageId, principal).then((found) => {
      if (conn.closed) return;
      if ("error" in found) {
        this.writer.answer(ws, id, { ok: false, error: found.error });
        return;
      }
      try {
        const env = routeOp(op, { ...args, channelId: found.channelId }, principal)!;
        if (auditedOps.has(op)) env.origin = originOf(conn.address);
        this.dispatcher.call(env, {
          settle: (outcome) => this.writer.answer(ws, id, hideLocatedChannel(outcome, "messageId")),
        });
      } catch (err) {
        refuse(err);
      }
    }, refuse);
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
