/**
 * The WebSocket gateway: `GET /ws`, binary MessagePack frames only. It authenticates
 * (token in the `access_token` query parameter, an `Authorization: Bearer` header, or a
 * first `auth` frame), validates every frame at the edge, enforces the per-connection
 * limits, and routes requests to actors. It never authorises: the actors do.
 *
 * This file wires uWS to the parts, one job each. A request's path:
 * `message` → RequestIntake (decode, validate, limits) → RequestRouter (the connection's
 * own ops in ConnectionOps, or the actor through the Dispatcher) → the actor's answer →
 * SocketWriter (coalesced per socket, written under one cork). Connections holds the
 * lifecycle and the presence sessions; ClusterTopics what the cluster is told this node
 * listens to.
 *
 * The upgrade is refused with 429 (`Retry-After`, the JSON error body) when the client's
 * address holds its connection cap or is over its `auth` budget, and, once the token names
 * the user, when the user holds theirs or is over theirs (connection-caps.ts,
 * rate-limit.ts). Every refusal carries the security headers.
 */
import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_socket_context_t,
} from "@trufflesuite/uws-js-unofficial";

import type { AccountChange } from "../actors/envelope.js";
import type { TopicInterest } from "../actors/runtime/actor-system.js";
import type { Limits } from "../core/config.js";
import {
  CloseCode,
  type ColinkError,
  type ErrorBody,
  errorBodyLogged,
  errorBodyOf,
  fail,
  httpStatusOf,
} from "../core/errors.js";
import { type Logger, silentLogger } from "../core/logger.js";
import type { TokenVerifier } from "../core/ports.js";
import { channelIdOfTopic } from "../core/protocol.js";
import type { Principal } from "../core/types.js";
import { clientAddressOf } from "./client-address.js";
import { ClusterTopics } from "./cluster-topics.js";
import { type Conn, Connections, type Socket } from "./connection.js";
import { ConnectionCaps, tooManyConnections } from "./connection-caps.js";
import { ConnectionOps } from "./connection-ops.js";
import { CorsPolicy } from "./cors.js";
import type { Dispatcher } from "./dispatcher.js";
import type { HttpEdge } from "./http-api.js";
import { retryAfterOf, statusText } from "./http-json.js";
import type { RequestRateLimits } from "./rate-limit.js";
import { RequestHold } from "./request-hold.js";
import { RequestIntake } from "./request-intake.js";
import { RequestRouter } from "./request-router.js";
import { SocketWriter } from "./socket-writer.js";
import type { RefusedAt } from "./token-refusals.js";

/** Copies what the upgrade needs out of the request (uWS invalidates `req` after the first await). */
function tokenOf(req: HttpRequest): string | null {
  const q = req.getQuery("access_token");
  if (q) return q;
  const h = req.getHeader("authorization");
  if (h.toLowerCase().startsWith("bearer ")) return h.slice(7).trim();
  return null;
}

/** The WebSocket gateway. */
export class Gateway {
  private draining = false;
  private readonly topics: ClusterTopics;
  private readonly connections: Connections;
  private readonly writer: SocketWriter;
  private readonly intake: RequestIntake;
  private readonly router: RequestRouter;

  constructor(
    private readonly app: TemplatedApp,
    dispatcher: Dispatcher,
    private readonly verifier: TokenVerifier,
    private readonly limits: Limits,
    private readonly rates: RequestRateLimits,
    /** The refused upgrades' headers, and how a client's address is read. */
    private readonly edge: HttpEdge,
    /** In a cluster: where the gateway says which topics its connections listen to. */
    interest?: TopicInterest,
    /** Which browser origins may open `/ws` (see cors.ts); default any. */
    private readonly cors = new CorsPolicy([]),
    /** Where internal errors of requests are written. */
    private readonly logger: Logger = silentLogger,
    /** The identity provider's session of a principal's token (TokenSessions.sessionOf), for sign-outs. */
    signInSessionOf?: (principal: Principal) => string | null,
    /** Told of every refused token (audited, bounded: token-refusals.ts). */
    private readonly tokenRefused: (ip: string, err: unknown, at: RefusedAt) => void = () => {},
  ) {
    this.topics = new ClusterTopics(app, interest);
    this.connections = new Connections(
      dispatcher,
      this.topics,
      limits,
      interest?.sessionPrefix ?? "",
      new ConnectionCaps(limits.maxConnsPerUser, limits.maxConnsPerIp),
      signInSessionOf,
    );
    this.writer = new SocketWriter(app, limits, this.connections.open);
    const hold = new RequestHold(limits, this.writer);
    this.intake = new RequestIntake(limits, this.writer, hold);
    const connectionOps = new ConnectionOps(
      this.connections,
      dispatcher,
      verifier,
      rates,
      this.writer,
      this.topics,
      logger,
      tokenRefused,
    );
    this.router = new RequestRouter(dispatcher, rates, hold, connectionOps, this.writer, this.topics, logger);
    // Cluster: events may have been missed (the bus was lost), so every connection is closed
    // with a resume code; clients reconnect and resume from the last seq they saw.
    interest?.onResumeNeeded(() => {
      this.onResume?.();
      this.connections.endAll(CloseCode.ownershipMoved, "resume: cluster bus recovered");
    });
    interest?.onOwnersMoved((moved) => this.connections.reannounceSessions(moved));
  }

  /** Registers `/ws` on the app. */
  register(): void {
    const limits = this.limits;
    this.app.ws<Conn>("/ws", {
      compression: 0,
      // Twice our limit: frames between the two get a coded close (4003) from us.
      maxPayloadLength: limits.maxPayloadBytes * 2,
      // Twice our limit: our sweep closes at the limit with a code; uWS closes at twice it.
      maxBackpressure: limits.maxBackpressureBytes * 2,
      closeOnBackpressureLimit: true as unknown as number,
      idleTimeout: limits.idleTimeoutSec,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.open(ws),
      message: (ws, data, isBinary) => this.message(ws, data, isBinary),
      close: (ws) => this.close(ws),
    });
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.connections.count;
  }

  /** Publishes a frame to a topic's subscribers. */
  publish(topic: string, frame: Uint8Array): void {
    this.writer.publish(topic, frame);
  }

  /** Removes a user's sockets from a topic. */
  revoke(userId: string, topic: string): void {
    this.writer.flushReplies();
    const channelId = channelIdOfTopic(topic) ?? topic;
    for (const ws of this.connections.ofUser(userId)) {
      ws.getUserData().subs.delete(channelId);
      ws.unsubscribe(topic);
    }
    this.topics.dropIfUnused([topic]);
  }

  /** Closes, with 4005, this node's connections of `userId` made with a token of sign-in session `signInSession`. */
  endSignInSession(userId: string, signInSession: string): number {
    this.writer.flushReplies();
    return this.connections.endSignInSession(userId, signInSession);
  }

  /** Runs when the cluster bus recovered (notices may have been missed), before clients are told to resume. */
  onResume: (() => void) | null = null;

  /**
   * An admin changed a user's account: closes this node's sockets of the user, with 4006
   * when deactivated (do not reconnect), or with 4506 when the role changed (reconnect: the
   * new role applies to the new connection).
   */
  accountChanged(userId: string, change: AccountChange): number {
    this.writer.flushReplies();
    if (change.deactivated) return this.connections.endUser(userId, CloseCode.deactivated, "deactivated");
    if (change.roleChanged) return this.connections.endUser(userId, CloseCode.roleChanged, "role changed");
    return 0;
  }

  /** Closes every connection with "server draining" so clients reconnect elsewhere and resume. */
  drain(): void {
    this.writer.flushReplies();
    this.draining = true;
    this.writer.stop();
    this.connections.endAll(CloseCode.serverDraining, "server draining");
  }

  private upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    const key = req.getHeader("sec-websocket-key");
    const protocol = req.getHeader("sec-websocket-protocol");
    const extensions = req.getHeader("sec-websocket-extensions");
    const token = tokenOf(req);
    const origin = req.getHeader("origin");
    const conn = this.connections.create(clientAddressOf(res, req, this.edge.proxyHops));
    if (this.draining) {
      this.refuseUpgrade(res, fail.unavailable("server draining").toBody());
      return;
    }
    if (this.cors.refusesUpgrade(origin)) {
      // A page of another site must not ride on the user's reach (cross-site WebSocket
      // hijacking); browsers send Origin on every handshake and apply no CORS to it.
      this.refuseUpgrade(
        res,
        fail.forbidden(`origin ${origin} may not open /ws (COLINK_CORS_ORIGINS)`).toBody(),
      );
      return;
    }
    if (!this.connections.admitAddress(conn)) {
      this.refuseUpgrade(res, tooManyConnections("ip", this.limits.maxConnsPerIp).toBody());
      return;
    }
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
      this.connections.abandon(conn);
    });
    this.admit(conn, token).then(
      (refusal) => {
        if (aborted) {
          this.connections.abandon(conn);
          return;
        }
        if (refusal) {
          this.connections.abandon(conn);
          res.cork(() => this.refuseUpgrade(res, refusal.toBody()));
          return;
        }
        // Not inside res.cork: after an await, cork can close the WebSocket the upgrade just
        // made (it reads the response's state after the upgrade moved it; fixed upstream in
        // uWebSockets PR #1929, not in the builds we use). Seen as the first connection after
        // a start dropped with 1006: 1 to 4 in 30 on Node 22 and 24, and once in a CI run on
        // Node 20. Uncorked, uWS may print a warning; the 101 is written all the same.
        res.upgrade(conn, key, protocol, extensions, context);
      },
      (err: unknown) => {
        this.connections.abandon(conn);
        if (aborted) return;
        const body = errorBodyLogged(err, this.logger, { conn: conn.id, op: "upgrade" });
        res.cork(() => this.refuseUpgrade(res, body));
      },
    );
  }

  /**
   * Counts the upgrade against the address's `auth` budget, checks the token if one came
   * (a refused token is answered on open, with 4001), then holds the user to their
   * connection cap and `auth` budget. Resolves with the refusal, or null to upgrade.
   */
  private async admit(conn: Conn, token: string | null): Promise<ColinkError | null> {
    const byAddress = await this.rates.take("auth", null, conn.address);
    if (byAddress || token === null) return byAddress;
    try {
      conn.principal = await this.verifier.verify(token);
    } catch (err) {
      conn.authError = errorBodyOf(err);
      this.tokenRefused(conn.address, err, "upgrade");
      return null;
    }
    const { userId } = conn.principal;
    if (!this.connections.admitUser(conn, userId))
      return tooManyConnections("user", this.limits.maxConnsPerUser);
    return this.rates.take("auth", userId, null);
  }

  /** Answers an upgrade with the error's status and JSON body instead of a WebSocket. */
  private refuseUpgrade(res: HttpResponse, error: ErrorBody): void {
    const status = httpStatusOf[error.code];
    res.writeStatus(statusText[status] ?? String(status)).writeHeader("content-type", "application/json");
    for (const [name, value] of [...this.edge.headers, ...retryAfterOf(error)]) res.writeHeader(name, value);
    res.end(JSON.stringify({ error }));
  }

  private open(ws: Socket): void {
    this.writer.flushReplies();
    this.connections.opened(ws);
  }

  private message(ws: Socket, data: ArrayBuffer, isBinary: boolean): void {
    this.writer.flushReplies();
    const conn = ws.getUserData();
    const req = this.intake.accept(ws, conn, data, isBinary);
    if (req !== null) this.router.route(ws, conn, req);
  }

  private close(ws: Socket): void {
    // The socket is gone: its queued replies have nowhere to go.
    this.writer.forget(ws);
    this.connections.closed(ws);
  }
}
