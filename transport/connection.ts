/**
 * The WebSocket connections and their lifecycle: the per-connection state (kept in uWS
 * user data), which sockets are open and whose they are, the auth timeout of a connection
 * opened without a token, and the presence session of each authenticated one.
 *
 * Presence: each authenticated connection is a session of its user. The user's actor is
 * told when one opens and when it closes (`presence.connect` and `presence.disconnect`).
 * uWS pings silent connections and closes those that stop answering within
 * `COLINK_IDLE_TIMEOUT_SEC`: that is the presence heartbeat.
 *
 * Caps: a connection holds a slot of its client address from the upgrade and a slot of its
 * user from its authentication (connection-caps.ts), both given back when it closes.
 */

import { randomBytes } from "node:crypto";
import type { WebSocket } from "@trufflesuite/uws-js-unofficial";
import type { Limits } from "../core/config.js";
import { CloseCode, type ErrorBody, isDeactivated } from "../core/errors.js";
import { channelTopic, userTopic } from "../core/protocol.js";
import type { Principal } from "../core/types.js";
import type { ClusterTopics } from "./cluster-topics.js";
import type { ConnectionCaps } from "./connection-caps.js";
import type { Dispatcher, Waiter } from "./dispatcher.js";

/** Per-connection state, kept in uWS user data. */
export interface Conn {
  id: number;
  /** The client's address key (client-address.ts), for the per-address limits. */
  address: string;
  /** Holds a slot of its address's connection cap. */
  addressHeld: boolean;
  /** The user whose connection-cap slot it holds, or null. */
  userSlot: string | null;
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
  /** The identity provider's session (`sid`) of the token the connection authenticated with, or null; not its presence session. */
  signInSession: string | null;
  /**
   * Requests whose rate budgets are being counted, in the order they came; each goes on
   * (or is refused) only after those before it (request-router.ts). Null when none.
   */
  counting: CountedRequest[] | null;
  /**
   * Refused for a rate budget: until when (epoch ms) its requests are refused at once with
   * `held`, uncounted (request-hold.ts); 0 when not held.
   */
  heldUntil: number;
  held: ErrorBody | null;
  /** Requests refused while held. */
  heldRefusals: number;
}

/** A request waiting for its rate budgets: `refusal` is undefined until they are counted. */
export interface CountedRequest {
  id: number;
  run: (refusal: ErrorBody | null) => void;
  refusal: ErrorBody | null | undefined;
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
    private readonly caps: ConnectionCaps,
    /** The identity provider's session of a principal's token (TokenSessions.sessionOf). */
    private readonly signInSessionOf: (principal: Principal) => string | null = () => null,
  ) {}

  /** The state of a connection being upgraded from `address`: numbered, not authenticated yet. */
  create(address: string): Conn {
    return {
      id: this.nextConnId++,
      address,
      addressHeld: false,
      userSlot: null,
      principal: null,
      authError: null,
      pending: new Set(),
      subs: new Map(),
      closed: false,
      authTimer: null,
      authenticating: false,
      signInSession: null,
      counting: null,
      heldUntil: 0,
      held: null,
      heldRefusals: 0,
    };
  }

  /** Takes a slot of the connection's address; false when the address holds its cap. */
  admitAddress(conn: Conn): boolean {
    conn.addressHeld = this.caps.takeAddress(conn.address);
    return conn.addressHeld;
  }

  /** Takes a slot of `userId` for the connection; false when the user holds their cap. */
  admitUser(conn: Conn, userId: string): boolean {
    if (conn.userSlot !== null) return conn.userSlot === userId;
    if (!this.caps.takeUser(userId)) return false;
    conn.userSlot = userId;
    return true;
  }

  /** Gives back the connection's user slot (its authentication was refused after all). */
  dropUser(conn: Conn): void {
    if (conn.userSlot !== null) this.caps.releaseUser(conn.userSlot);
    conn.userSlot = null;
  }

  /** Gives back every slot of a connection that closed or will not open (its upgrade was refused or abandoned). */
  abandon(conn: Conn): void {
    if (conn.addressHeld) this.caps.releaseAddress(conn.address);
    conn.addressHeld = false;
    this.dropUser(conn);
  }

  /** The caps, for the refusals' messages. */
  get connectionCaps(): ConnectionCaps {
    return this.caps;
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
      const code =
        conn.authError.code === "unavailable"
          ? CloseCode.internalError
          : isDeactivated(conn.authError)
            ? CloseCode.deactivated
            : CloseCode.badToken;
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
    conn.signInSession = this.signInSessionOf(principal);
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
    this.abandon(conn);
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

  /** Closes the connections of `userId` that authenticated with a token of sign-in session `signInSession`. */
  endSignInSession(userId: string, signInSession: string): number {
    let closed = 0;
    for (const ws of [...this.ofUser(userId)]) {
      if (ws.getUserData().signInSession !== signInSession) continue;
      ws.end(CloseCode.signedOut, "signed out");
      closed++;
    }
    return closed;
  }

  /** Closes every connection of `userId` with `code` (an admin changed their account); returns how many. */
  endUser(userId: string, code: number, reason: string): number {
    const sockets = [...this.ofUser(userId)];
    for (const ws of sockets) ws.end(code, reason);
    return sockets.length;
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
