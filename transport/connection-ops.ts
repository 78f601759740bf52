/**
 * The ops a connection answers itself, without an actor of its own (the op table's route
 * "connection"): `auth` for a connection opened without a token, `ping`, and `unsub`.
 */
import { CloseCode, ColinkError, errorBodyLogged, fail } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { ArgsOf } from "../core/ops.js";
import type { TokenVerifier } from "../core/ports.js";
import { channelTopic, errorFrame, okFrame } from "../core/protocol.js";
import type { ClusterTopics } from "./cluster-topics.js";
import type { Conn, Connections, Socket } from "./connection.js";
import type { Dispatcher } from "./dispatcher.js";
import type { SocketWriter } from "./socket-writer.js";

/** Answers the connection-level ops. */
export class ConnectionOps {
  constructor(
    private readonly connections: Connections,
    private readonly dispatcher: Dispatcher,
    private readonly verifier: TokenVerifier,
    private readonly writer: SocketWriter,
    private readonly topics: ClusterTopics,
    /** Where an internal error of a token check is written. */
    private readonly logger: Logger,
  ) {}

  /** `auth`: verifies the token, then answers with the user (`user.me`); a bad token closes. */
  auth(ws: Socket, id: number, args: ArgsOf<"auth">): void {
    const conn = ws.getUserData();
    if (conn.principal || conn.authenticating) {
      this.writer.send(ws, errorFrame(id, fail.conflict("already authenticated").toBody()));
      return;
    }
    conn.authenticating = true;
    conn.pending.add(id);
    this.verifier.verify(args.token).then(
      (principal) => {
        if (conn.closed) return;
        conn.pending.delete(id);
        this.connections.authenticated(ws, principal);
        conn.pending.add(id);
        this.dispatcher.call(
          { actor: "user", key: principal.userId, op: "user.me", args: {}, principal },
          { settle: (outcome) => this.writer.answer(ws, id, outcome) },
        );
      },
      (err: unknown) => {
        conn.authenticating = false;
        if (conn.closed) return;
        conn.pending.delete(id);
        const body = errorBodyLogged(err, this.logger, { conn: conn.id, id, op: "auth" });
        this.writer.flushReplies();
        ws.cork(() => {
          ws.send(errorFrame(id, body), true);
          if (!(err instanceof ColinkError && err.retryable)) ws.end(CloseCode.badToken, body.message);
        });
      },
    );
  }

  /** `ping`: the server's time. */
  ping(ws: Socket, id: number): void {
    this.writer.send(ws, okFrame(id, { now: Date.now() }));
  }

  /** `unsub`: stops the channel's events on this connection. */
  unsub(ws: Socket, conn: Conn, id: number, args: ArgsOf<"unsub">): void {
    const { channelId } = args;
    conn.subs.delete(channelId);
    ws.unsubscribe(channelTopic(channelId));
    this.topics.dropIfUnused([channelTopic(channelId)]);
    this.writer.send(ws, okFrame(id, {}));
  }
}
