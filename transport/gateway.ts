/**
 * The WebSocket gateway: `GET /ws`, binary MessagePack frames only. It authenticates
 * (token in the `access_token` query parameter, an `Authorization: Bearer` header, or a
 * first `auth` frame), validates every frame at the edge, enforces the per-connection
 * limits, and routes requests to actors. It never authorises: the actors do.
 *
 * Presence: each authenticated connection is a session of its user. The gateway tells
 * the user's actor when one opens and when it closes (`presence.connect` and
 * `presence.disconnect`). uWS pings silent connections and closes those that stop
 * answering within `COLINK_IDLE_TIMEOUT_SEC`: that is the presence heartbeat.
 */
import { randomBytes } from "node:crypto";
import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_socket_context_t,
  WebSocket,
} from "@trufflesuite/uws-js-unofficial";
import type { Answer, Grant } from "../actors/envelope.js";
import type { TopicInterest } from "../actors/runtime/actor-system.js";
import type { Limits } from "../core/config.js";
import { CloseCode, ColinkError, type ErrorBody, errorBodyOf, fail } from "../core/errors.js";
import { type ArgsOf, isOpName, parseArgs } from "../core/ops.js";
import type { TokenVerifier } from "../core/ports.js";
import {
  channelIdOfTopic,
  channelTopic,
  decodeRequest,
  errorFrame,
  okFrame,
  okFrameInPlace,
  okFrameOfPacked,
  packedIn,
  userIdOfTopic,
  userTopic,
} from "../core/protocol.js";
import type { Principal } from "../core/types.js";
import { CorsPolicy } from "./cors.js";
import type { Dispatcher } from "./dispatcher.js";
import type { UserRateLimiter } from "./rate-limit.js";
import { routeOp } from "./routing.js";

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

type Socket = WebSocket<Conn>;

/** A socket's reply frames not yet written, in order, with its state. */
interface QueuedReplies {
  conn: Conn;
  frames: Uint8Array[];
}

/**
 * Whether a connection may be subscribed to `topic`, from its own state: its channel
 * subscriptions (those asked count too) and its user's personal topic. It is never false
 * when uWS would say true, so queued replies still go out before the publish.
 */
function listenerTest(topic: string): (conn: Conn) => boolean {
  const channelId = channelIdOfTopic(topic);
  if (channelId !== null) return (conn) => conn.subs.has(channelId);
  const userId = userIdOfTopic(topic);
  // Another kind of topic: assume it is, which only writes the queued replies early.
  if (userId === null) return () => true;
  return (conn) => conn.principal?.userId === userId;
}

/** Tells session ids of this process apart from other processes' (nodes, restarts). */
const processTag = randomBytes(6).toString("hex");

/** Copies what the upgrade needs out of the request (uWS invalidates `req` after the first await). */
function tokenOf(req: HttpRequest): string | null {
  const q = req.getQuery("access_token");
  if (q) return q;
  const h = req.getHeader("authorization");
  if (h.toLowerCase().startsWith("bearer ")) return h.slice(7).trim();
  return null;
}

/** The reply frame of an actor's answer, framing a result that is already encoded as it is. */
function replyFrame(id: number, outcome: Answer): Uint8Array {
  if (!outcome.ok) return errorFrame(id, outcome.error);
  if ("packed" in outcome) {
    return outcome.headroom ? okFrameInPlace(id, outcome.packed) : okFrameOfPacked(id, outcome.packed);
  }
  const packed = packedIn(outcome.result);
  return packed ? okFrameOfPacked(id, packed) : okFrame(id, outcome.result);
}

/** The WebSocket gateway. */
export class Gateway {
  private nextConnId = 1;
  private nextIntent = 1;
  /** Every open, authenticated socket by user, for revocations. */
  private readonly byUser = new Map<string, Set<Socket>>();
  private readonly sockets = new Set<Socket>();
  private readonly backpressureSweep: NodeJS.Timeout;
  private draining = false;
  /** Cluster: `sub` calls under way per topic; their topic must stay wanted until the grant. */
  private readonly subsUnderWay = new Map<string, number>();
  /**
   * Reply frames not yet written, per socket, in order. The answers an actor thread hands
   * over in one turn (a commit's worth) are written to each socket under one cork, one
   * write instead of one per reply, at the end of the turn. Anything else that writes to
   * a socket first writes that socket's queued replies (a publish those of the sockets
   * subscribed to its topic), so every socket still sees its frames in the order they
   * were made.
   */
  private readonly outbox = new Map<Socket, QueuedReplies>();
  private outboxScheduled = false;

  constructor(
    private readonly app: TemplatedApp,
    private readonly dispatcher: Dispatcher,
    private readonly verifier: TokenVerifier,
    private readonly limits: Limits,
    private readonly rateLimit: UserRateLimiter,
    /** In a cluster: where the gateway says which topics its connections listen to. */
    private readonly interest?: TopicInterest,
    /** Which browser origins may open `/ws` (see cors.ts); default any. */
    private readonly cors = new CorsPolicy([]),
  ) {
    interest?.onResumeNeeded(() => this.resumeAll());
    interest?.onOwnersMoved((moved) => this.reannounceSessions(moved));
    // uWS skips (drops) a publish to a socket past maxBackpressure; we close such a
    // socket with the slow-consumer code first, so that it resumes instead of losing events.
    this.backpressureSweep = setInterval(() => this.closeSlowConsumers(), 250);
    this.backpressureSweep.unref();
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
    return this.sockets.size;
  }

  /** Publishes a frame to a topic's subscribers. */
  publish(topic: string, frame: Uint8Array): void {
    if (this.outbox.size > 0 && this.app.numSubscribers(topic) > 0) {
      // Asked of our own state, not of uWS per socket: a native call each, with the topic
      // copied every time, cost more than the publish itself under load.
      const listening = listenerTest(topic);
      for (const [ws, queued] of this.outbox) if (listening(queued.conn)) this.flushSocket(ws);
    }
    this.app.publish(topic, frame, true, false);
  }

  /** Removes a user's sockets from a topic. */
  revoke(userId: string, topic: string): void {
    this.flushReplies();
    const channelId = channelIdOfTopic(topic) ?? topic;
    for (const ws of this.byUser.get(userId) ?? []) {
      ws.getUserData().subs.delete(channelId);
      ws.unsubscribe(topic);
    }
    this.dropIfUnused([topic]);
  }

  /**
   * Cluster: events may have been missed (the bus was lost), so every connection is closed
   * with a resume code; clients reconnect and resume from the last seq they saw.
   */
  private resumeAll(): void {
    for (const ws of [...this.sockets]) ws.end(CloseCode.ownershipMoved, "resume: cluster bus recovered");
  }

  /**
   * The presence session id of a connection: unique across connections, processes and
   * nodes; in a cluster it starts with the node's prefix, so that a node that is gone
   * can have its sessions ended.
   */
  private sessionIdOf(conn: Conn): string {
    return `${this.interest?.sessionPrefix ?? ""}${processTag}.${conn.id}`;
  }

  /** Cluster: the actors of some users moved to another node; tells them again about the sessions here. */
  private reannounceSessions(moved: (userId: string) => boolean): void {
    for (const [userId, sockets] of this.byUser) {
      if (!moved(userId)) continue;
      for (const ws of sockets) {
        const conn = ws.getUserData();
        if (!conn.principal || conn.closed) continue;
        this.dispatcher.call(
          {
            actor: "user",
            key: userId,
            op: "presence.connect",
            args: { sessionId: this.sessionIdOf(conn) },
            principal: conn.principal,
          },
          { settle: () => {} },
        );
      }
    }
  }

  /** Cluster: tells the interest about topics no connection here listens to any more. */
  private dropIfUnused(topics: string[]): void {
    const interest = this.interest;
    if (!interest) return;
    // After the current callback: uWS unsubscribes a closing socket once `close` returns.
    setImmediate(() => {
      for (const topic of topics) {
        if (this.app.numSubscribers(topic) === 0 && !this.subsUnderWay.has(topic)) interest.drop(topic);
      }
    });
  }

  /** Closes every connection with "server draining" so clients reconnect elsewhere and resume. */
  drain(): void {
    this.flushReplies();
    this.draining = true;
    clearInterval(this.backpressureSweep);
    for (const ws of [...this.sockets]) ws.end(CloseCode.serverDraining, "server draining");
  }

  private upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    const key = req.getHeader("sec-websocket-key");
    const protocol = req.getHeader("sec-websocket-protocol");
    const extensions = req.getHeader("sec-websocket-extensions");
    const token = tokenOf(req);
    const origin = req.getHeader("origin");
    const conn: Conn = {
      id: this.nextConnId++,
      principal: null,
      authError: null,
      pending: new Set(),
      subs: new Map(),
      closed: false,
      authTimer: null,
      authenticating: false,
    };
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
        res.cork(() => res.upgrade(conn, key, protocol, extensions, context));
      });
  }

  private open(ws: Socket): void {
    this.flushReplies();
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

  private authenticated(ws: Socket, principal: Principal): void {
    const conn = ws.getUserData();
    conn.principal = principal;
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.authTimer = null;
    const set = this.byUser.get(principal.userId) ?? new Set<Socket>();
    this.byUser.set(principal.userId, set);
    set.add(ws);
    ws.subscribe(userTopic(principal.userId));
    this.interest?.want(userTopic(principal.userId)).catch(() => {});
    // Creates the user on first sight; nothing waits for it.
    this.dispatcher.call(
      { actor: "user", key: principal.userId, op: "user.hello", args: {}, principal },
      { settle: () => {} },
    );
    this.dispatcher.call(
      {
        actor: "user",
        key: principal.userId,
        op: "presence.connect",
        args: { sessionId: this.sessionIdOf(conn) },
        principal,
      },
      { settle: () => {} },
    );
  }

  private close(ws: Socket): void {
    // The socket is gone: its queued replies have nowhere to go.
    this.outbox.delete(ws);
    const conn = ws.getUserData();
    conn.closed = true;
    if (conn.authTimer) clearTimeout(conn.authTimer);
    this.sockets.delete(ws);
    if (conn.principal) {
      const set = this.byUser.get(conn.principal.userId);
      set?.delete(ws);
      if (set?.size === 0) this.byUser.delete(conn.principal.userId);
      const principal = conn.principal;
      this.dropIfUnused([userTopic(principal.userId), ...[...conn.subs.keys()].map(channelTopic)]);
      this.dispatcher.call(
        {
          actor: "user",
          key: principal.userId,
          op: "presence.disconnect",
          args: { sessionId: this.sessionIdOf(conn) },
          principal,
        },
        { settle: () => {} },
      );
    }
  }

  private message(ws: Socket, data: ArrayBuffer, isBinary: boolean): void {
    this.flushReplies();
    const conn = ws.getUserData();
    if (!isBinary) {
      ws.end(CloseCode.protocolError, "binary MessagePack frames only");
      return;
    }
    if (data.byteLength > this.limits.maxPayloadBytes) {
      ws.end(CloseCode.frameTooLarge, `frame larger than ${this.limits.maxPayloadBytes} bytes`);
      return;
    }
    const req = decodeRequest(new Uint8Array(data));
    if (!req.ok) {
      if (req.id === null) ws.end(CloseCode.protocolError, req.reason);
      else this.send(ws, errorFrame(req.id, fail.badRequest(req.reason).toBody()));
      return;
    }
    const { id, op, args } = req;
    if (conn.pending.has(id)) {
      ws.end(CloseCode.protocolError, `request id ${id} is already in flight`);
      return;
    }
    if (conn.pending.size >= this.limits.maxPendingRequests) {
      this.send(
        ws,
        errorFrame(id, fail.rateLimited("too many requests in flight on this connection").toBody()),
      );
      return;
    }
    try {
      if (!isOpName(op)) throw fail.badRequest(`unknown op "${op}"`);
      const valid = parseArgs(op, args);
      if (op === "auth") {
        this.auth(ws, id, valid as ArgsOf<"auth">);
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
        this.send(ws, okFrame(id, { now: Date.now() }));
        return;
      }
      this.rateLimit.check(principal.userId);
      if (op === "unsub") {
        const { channelId } = valid as ArgsOf<"unsub">;
        conn.subs.delete(channelId);
        ws.unsubscribe(channelTopic(channelId));
        this.dropIfUnused([channelTopic(channelId)]);
        this.send(ws, okFrame(id, {}));
        return;
      }
      const env = routeOp(op, valid, principal);
      if (!env) throw fail.badRequest(`op "${op}" is not available here`);
      let intent = 0;
      if (op === "sub") {
        intent = this.nextIntent++;
        conn.subs.set(env.key, intent);
      }
      conn.pending.add(id);
      const call = (settled?: () => void) =>
        this.dispatcher.call(env, {
          settle: (outcome, grant) => {
            const current = grant !== undefined && conn.subs.get(env.key) === intent;
            this.answer(ws, id, outcome, current ? grant : undefined);
            settled?.();
          },
        });
      if (op === "sub" && this.interest) {
        // The channel's events must reach this node before its actor takes the replay's end.
        const topic = channelTopic(env.key);
        this.subsUnderWay.set(topic, (this.subsUnderWay.get(topic) ?? 0) + 1);
        const done = () => {
          const left = (this.subsUnderWay.get(topic) ?? 1) - 1;
          if (left > 0) this.subsUnderWay.set(topic, left);
          else this.subsUnderWay.delete(topic);
          this.dropIfUnused([topic]);
        };
        this.interest.want(topic).then(
          () => call(done),
          () => {
            done();
            if (conn.closed) return;
            conn.pending.delete(id);
            this.send(ws, errorFrame(id, fail.unavailable("cluster bus unavailable, retry").toBody()));
          },
        );
      } else call();
    } catch (err) {
      this.send(ws, errorFrame(id, errorBodyOf(err)));
    }
  }

  private auth(ws: Socket, id: number, args: ArgsOf<"auth">): void {
    const conn = ws.getUserData();
    if (conn.principal || conn.authenticating) {
      this.send(ws, errorFrame(id, fail.conflict("already authenticated").toBody()));
      return;
    }
    conn.authenticating = true;
    conn.pending.add(id);
    this.verifier.verify(args.token).then(
      (principal) => {
        if (conn.closed) return;
        conn.pending.delete(id);
        this.authenticated(ws, principal);
        conn.pending.add(id);
        this.dispatcher.call(
          { actor: "user", key: principal.userId, op: "user.me", args: {}, principal },
          { settle: (outcome) => this.answer(ws, id, outcome) },
        );
      },
      (err: unknown) => {
        conn.authenticating = false;
        if (conn.closed) return;
        conn.pending.delete(id);
        const body = errorBodyOf(err);
        this.flushReplies();
        ws.cork(() => {
          ws.send(errorFrame(id, body), true);
          if (!(err instanceof ColinkError && err.retryable)) ws.end(CloseCode.badToken, body.message);
        });
      },
    );
  }

  /** Sends an actor's answer: for `sub`, subscribe first, then the replay, then the reply. */
  private answer(ws: Socket, id: number, outcome: Answer, grant?: Grant): void {
    const conn = ws.getUserData();
    if (conn.closed) return;
    conn.pending.delete(id);
    const frame = replyFrame(id, outcome);
    if (!grant) {
      const queued = this.outbox.get(ws);
      if (queued) queued.frames.push(frame);
      else this.outbox.set(ws, { conn, frames: [frame] });
      if (!this.outboxScheduled) {
        this.outboxScheduled = true;
        queueMicrotask(() => this.flushReplies());
      }
      return;
    }
    this.flushReplies();
    ws.cork(() => {
      ws.subscribe(grant.topic);
      for (const f of grant.replay) ws.send(f, true, false);
      ws.send(frame, true, false);
    });
    this.checkBackpressure(ws);
  }

  /** Writes the queued reply frames, each socket's under one cork. */
  private flushReplies(): void {
    this.outboxScheduled = false;
    if (this.outbox.size === 0) return;
    for (const ws of this.outbox.keys()) this.flushSocket(ws);
  }

  /** Writes one socket's queued reply frames under one cork. */
  private flushSocket(ws: Socket): void {
    const queued = this.outbox.get(ws);
    if (!queued) return;
    this.outbox.delete(ws);
    if (queued.conn.closed) return;
    ws.cork(() => {
      for (const f of queued.frames) ws.send(f, true, false);
    });
    this.checkBackpressure(ws);
  }

  private send(ws: Socket, frame: Uint8Array): void {
    this.flushReplies();
    if (ws.getUserData().closed) return;
    ws.cork(() => ws.send(frame, true, false));
    this.checkBackpressure(ws);
  }

  private checkBackpressure(ws: Socket): void {
    if (!ws.getUserData().closed && ws.getBufferedAmount() > this.limits.maxBackpressureBytes) {
      ws.end(CloseCode.slowConsumer, "slow consumer");
    }
  }

  private closeSlowConsumers(): void {
    this.flushReplies();
    for (const ws of this.sockets) this.checkBackpressure(ws);
  }
}
