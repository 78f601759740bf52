/**
 * The WebSocket connections and their lifecycle: the per-connection state (kept in uWS
 * user data), which sockets are open and whose they are, the auth timeout of a connection
 * opened without a token, and the presence session of each authenticated one.
 *
 * Presence: each authenticated connection is a session of its user. The user's actor is
 * told when one opens and when it closes (`presence.connect` and `presence.disconnect`).
 * uWS pings silent connections and closes those that stop answering within
 * `COLINK_IDLE_TIMEOUT_SEC`: that is the presence heartbeat.
 */
import { randomBytes } from "node:crypto";
import type { WebSocket } from "@trufflesuite/uws-js-unofficial";
import type { Limits } from "../core/config.js";
import { CloseCode, type ErrorBody } from "../core/errors.js";
import { channelTopic, userTopic } from "../core/protocol.js";
import type { Principal } from "../core/types.js";
import type { ClusterTopics } from "./cluster-topics.js";
import type { Dispatcher, Waiter } from "./dispatcher.js";

/** Per-connection state, kept in uWS user data. */
export interface Conn {
  id: number;
  principal: Principal | null;
  /** Set when the token given at upgrade was refused; the connection is closed on open. */
  authError: ErrorBody | null;
  /** Request ids in flight. */
  pending: Set<number>;
  /**
   * Channels subscribed or being subscribed, with the number of the latest `sub` asked. A
   * grant that arrives after an `unsub` (or a newer `sub`) of the same channel is stale and
   * is not applied. (One map, not a set and a map: it is per connection, and idle
   * connections are many.)
   */
  subs: Map<string, number>;
  closed: boolean;
  authTimer: NodeJS.Timeout | null;
  /** An `auth` request is being verified. */
  authenticating: boolean;
}

/** A gateway WebSocket, with its connection's state as user data. */
export type Socket = WebSocket<Conn>;

/** Tells session ids of this process apart from other processes' (nodes, restarts). */
const processTag = randomBytes(6).toString("hex");

/** The waiter of the calls to user actors whose answer nobody needs. */
const nobodyWaits: Waiter = { settle: () => {} };

/** The open connections, by user, from upgrade to close. */
export class Connections {
  private nextConnId = 1;
  private readonly sockets = new Set<Socket>();
  /** Every open, authenticated socket by user, for revocations. */
  private readonly byUser = new Map<string, Set<Socket>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly topics: ClusterTopics,
    private readonly limits: Limits,
    /** In a cluster, the node's prefix of presence session ids (TopicInterest.sessionPrefix); else "". */
    private readonly sessionPrefix: string,
  ) {}

  /** The state of a connection being upgraded: numbered, not authenticated yet. */
  create(): Conn {
    return {
      id: this.nextConnId++,
      principal: null,
      authError: null,
      pending: new Set(),
      subs: new Map(),
      closed: false,
      authTimer: null,
      authenticating: false,
    };
  }

  /** Connections open now. */
  get count(): number {
    return this.sockets.size;
  }

  /** Every open socket (a live view). */
  get open(): ReadonlySet<Socket> {
    return this.sockets;
  }

  /** The open, authenticated sockets of a user. */
  ofUser(userId: string): Iterable<Socket> {
    return this.byUser.get(userId) ?? [];
  }

  /** A connection opened: closed at once if its token was refused, else authenticated or timed. */
  opened(ws: Socket): void {
    const conn = ws.getUserData();
    this.sockets.add(ws);
    if (conn.authError) {
      const code = conn.authError.code === "unavailable" ? CloseCode.internalError : CloseCode.badToken;
      ws.end(code, conn.authError.message);
      return;
    }
    if (conn.principal) this.authenticated(ws, conn.principal);
    else {
      conn.authTimer = setTimeout(() => {
        if (!conn.closed && !conn.principal) ws.end(CloseCode.authTimeout, "authenticate first");
      }, this.limits.authTimeoutSec * 1000);
    }
  }

  /** A connection is now `principal`'s: it hears the user's topic and is a presence session. */
  authenticated(ws: Socket, principal: Principal): void {
    const conn = ws.getUserData();
    conn.principal = principal;
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.authTimer = null;
    const set = this.byUser.get(principal.userId) ?? new Set<Socket>();
    this.byUser.set(principal.userId, set);
    set.add(ws);
    ws.subscribe(userTopic(principal.userId));
    this.topics.want(userTopic(principal.userId));
    // Creates the user on first sight; nothing waits for it.
    this.dispatcher.call(
      { actor: "user", key: principal.userId, op: "user.hello", args: {}, principal },
      nobodyWaits,
    );
    this.tellPresence("presence.connect", conn, principal);
  }

  /** A connection closed: it is forgotten, and its session ends. */
  closed(ws: Socket): void {
    const conn = ws.getUserData();
    conn.closed = true;
    if (conn.authTimer) clearTimeout(conn.authTimer);
    this.sockets.delete(ws);
    if (conn.principal) {
      const set = this.byUser.get(conn.principal.userId);
      set?.delete(ws);
      if (set?.size === 0) this.byUser.delete(conn.principal.userId);
      const principal = conn.principal;
      this.topics.dropIfUnused([userTopic(principal.userId), ...[...conn.subs.keys()].map(channelTopic)]);
      this.tellPresence("presence.disconnect", conn, principal);
    }
  }

  /** Closes every connection with `code` (a reconnect-and-resume code). */
  endAll(code: number, reason: string): void {
    for (const ws of [...this.sockets]) ws.end(code, reason);
  }

  /** Cluster: the actors of some users moved to another node; tells them again about the sessions here. */
  reannounceSessions(moved: (userId: string) => boolean): void {
    for (const [userId, sockets] of this.byUser) {
      if (!moved(userId)) continue;
      for (const ws of sockets) {
        const conn = ws.getUserData();
        if (!conn.principal || conn.closed) continue;
        this.tellPresence("presence.connect", conn, conn.principal);
      }
    }
  }

  /** Tells the user's actor that the connection's session opened or closed. */
  private tellPresence(
    op: "presence.connect" | "presence.disconnect",
    conn: Conn,
    principal: Principal,
  ): void {
    this.dispatcher.call(
      { actor: "user", key: principal.userId, op, args: { sessionId: this.sessionIdOf(conn) }, principal },
      nobodyWaits,
    );
  }

  /**
   * The presence session id of a connection: unique across connections, processes and
   * nodes; in a cluster it starts with the node's prefix, so that a node that is gone
   * can have its sessions ended.
   */
  private sessionIdOf(conn: Conn): string {
    return `${this.sessionPrefix}${processTag}.${conn.id}`;
  }
}
