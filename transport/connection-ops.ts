/**
 * The ops a connection answers itself, without an actor of its own (the op table's route
 * "connection"): `auth` for a connection opened without a token, `ping`, and `unsub`.
 */
import { CloseCode, ColinkError, errorBodyLogged, fail, isDeactivated } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { ArgsOf } from "../core/ops.js";
import type { TokenVerifier } from "../core/ports.js";
import { channelTopic, errorFrame, okFrame } from "../core/protocol.js";
import type { Principal } from "../core/types.js";
import type { ClusterTopics } from "./cluster-topics.js";
import type { Conn, Connections, Socket } from "./connection.js";
import { tooManyConnections } from "./connection-caps.js";
import type { Dispatcher } from "./dispatcher.js";
import type { RequestRateLimits } from "./rate-limit.js";
import type { SocketWriter } from "./socket-writer.js";
import type { RefusedAt } from "./token-refusals.js";

/** Answers the connection-level ops. */
export class ConnectionOps {
  constructor(
    private readonly connections: Connections,
    private readonly dispatcher: Dispatcher,
    private readonly verifier: TokenVerifier,
    private readonly rates: RequestRateLimits,
    private readonly writer: SocketWriter,
    private readonly topics: ClusterTopics,
    /** Where an internal error of a token check is written. */
    private readonly logger: Logger,
    /** Told of every refused token (audited, bounded). */
    private readonly tokenRefused: (ip: string, err: unknown, at: RefusedAt) => void = () => {},
  ) {}

  /**
   * `auth`: counts against the address's `auth` budget, verifies the token, holds the user
   * to their connection cap and `auth` budget, then answers with the user (`user.me`). A
   * bad token closes (4001), and so does a user at their connection cap (4504); over a
   * budget it answers `rate_limited` and the connection may try again.
   */
  auth(ws: Socket, id: number, args: ArgsOf<"auth">): void {
    const conn = ws.getUserData();
    if (conn.principal || conn.authenticating) {
      this.writer.send(ws, errorFrame(id, fail.conflict("already authenticated").toBody()));
      return;
    }
    conn.authenticating = true;
    conn.pending.add(id);
    this.admit(conn, args.token).then(
      (principal) => {
        if (conn.closed) {
          this.connections.abandon(conn);
          return;
        }
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
          if (body.details?.limit === "connections") ws.end(CloseCode.tooManyConnections, body.message);
          else if (isDeactivated(body)) ws.end(CloseCode.deactivated, body.message);
          else if (!(err instanceof ColinkError && err.retryable)) ws.end(CloseCode.badToken, body.message);
        });
      },
    );
  }

  /** The principal of a token the limits let through; rejects with the refusal or the token's error. */
  private async admit(conn: Conn, token: string): Promise<Principal> {
    const byAddress = await this.rates.take("auth", null, conn.address);
    if (byAddress) throw byAddress;
    const principal = await this.verifier.verify(token).catch((err: unknown) => {
      this.tokenRefused(conn.address, err, "auth");
      throw err;
    });
    if (conn.closed) return principal;
    if (!this.connections.admitUser(conn, principal.userId)) {
      throw tooManyConnections("user", this.connections.connectionCaps.perUser);
    }
    const byUser = await this.rates.take("auth", principal.userId, null);
    if (byUser) {
      this.connections.dropUser(conn);
      throw byUser;
    }
    if (conn.closed) this.connections.abandon(conn);
    return principal;
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
