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
 */
import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_socket_context_t,
} from "@trufflesuite/uws-js-unofficial";

import type { TopicInterest } from "../actors/runtime/actor-system.js";
import type { Limits } from "../core/config.js";
import { CloseCode, errorBodyOf, fail } from "../core/errors.js";
import { type Logger, silentLogger } from "../core/logger.js";
import type { TokenVerifier } from "../core/ports.js";
import { channelIdOfTopic } from "../core/protocol.js";
import { ClusterTopics } from "./cluster-topics.js";
import { type Conn, Connections, type Socket } from "./connection.js";
import { ConnectionOps } from "./connection-ops.js";
import { CorsPolicy } from "./cors.js";
import type { Dispatcher } from "./dispatcher.js";
import type { UserRateLimiter } from "./rate-limit.js";
import { RequestIntake } from "./request-intake.js";
import { RequestRouter } from "./request-router.js";
import { SocketWriter } from "./socket-writer.js";

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
    rateLimit: UserRateLimiter,
    /** In a cluster: where the gateway says which topics its connections listen to. */
    interest?: TopicInterest,
    /** Which browser origins may open `/ws` (see cors.ts); default any. */
    private readonly cors = new CorsPolicy([]),
    /** Where internal errors of requests are written. */
    logger: Logger = silentLogger,
  ) {
    this.topics = new ClusterTopics(app, interest);
    this.connections = new Connections(dispatcher, this.topics, limits, interest?.sessionPrefix ?? "");
    this.writer = new SocketWriter(app, limits, this.connections.open);
    this.intake = new RequestIntake(limits, this.writer);
    const connectionOps = new ConnectionOps(
      this.connections,
      dispatcher,
      verifier,
      this.writer,
      this.topics,
      logger,
    );
    this.router = new RequestRouter(dispatcher, rateLimit, connectionOps, this.writer, this.topics, logger);
    // Cluster: events may have been missed (the bus was lost), so every connection is closed
    // with a resume code; clients reconnect and resume from the last seq they saw.
    interest?.onResumeNeeded(() =>
      this.connections.endAll(CloseCode.ownershipMoved, "resume: cluster bus recovered"),
    );
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
    const conn = this.connections.create();
    if (this.draining) {
      res.writeStatus("503 Service Unavailable").end("draining");
      return;
    }
    if (this.cors.refusesUpgrade(origin)) {
      // A page of another site must not ride on the user's reach (cross-site WebSocket
      // hijacking); browsers send Origin on every handshake and apply no CORS to it.
      const error = fail.forbidden(`origin ${origin} may not open /ws (COLINK_CORS_ORIGINS)`).toBody();
      res
        .writeStatus("403 Forbidden")
        .writeHeader("content-type", "application/json")
        .end(JSON.stringify({ error }));
      return;
    }
    if (token === null) {
      res.upgrade(conn, key, protocol, extensions, context);
      return;
    }
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    this.verifier
      .verify(token)
      .then(
        (principal) => {
          conn.principal = principal;
        },
        (err: unknown) => {
          conn.authError = errorBodyOf(err);
        },
      )
      .finally(() => {
        if (aborted) return;
        // Not inside res.cork: after an await, cork can close the WebSocket the upgrade just
        // made (it reads the response's state after the upgrade moved it; fixed upstream in
        // uWebSockets PR #1929, not in the builds we use). Seen as the first connection after
        // a start dropped with 1006: 1 to 4 in 30 on Node 22 and 24, and once in a CI run on
        // Node 20. Uncorked, uWS may print a warning; the 101 is written all the same.
        res.upgrade(conn, key, protocol, extensions, context);
      });
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
