/**
 * The Colink client: one WebSocket speaking MessagePack frames (DESIGN.md, Wire protocol),
 * typed requests, reconnection with back-off, and channel subscriptions that resume
 * without loss (invariant 5): the application sees each channel event at most once and
 * in log order, across gaps, duplicates and reconnects.
 *
 * Browser-safe: it imports only the pure core modules; on Node without a global
 * WebSocket it loads the `ws` package lazily.
 */
import type { ArgsOf, OpName, ResultOf } from "../core/ops.js";
import { decodeFrame, encodeFrame, FrameKind, isPlainMap, maxRequestId } from "../core/protocol.js";
import { Backoff, type BackoffOptions, defaultBackoff } from "./backoff.js";
import { ChannelCursor } from "./channel-cursor.js";
import { closeAction } from "./close-policy.js";
import { TypedEmitter } from "./emitter.js";
import { ColinkConnectionError, ColinkProtocolError, ColinkRequestError } from "./errors.js";
import { ServerList } from "./server-list.js";
import {
  handshakeStatus,
  messageBytes,
  resolveWebSocket,
  urlWithToken,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./socket.js";

/** Where the token comes from: a fixed string, or a callback asked before each connection. */
export type TokenSource = string | (() => string | Promise<string>);

export interface ColinkClientOptions {
  /**
   * The WebSocket endpoint, e.g. `ws://localhost:8080/ws`, or several (one per node of a
   * cluster). The first connection goes to the first one; after each failed or dropped
   * connection the next attempt goes to the following one, round robin, so that a client
   * whose node died reconnects to another node and resumes its subscriptions there.
   */
  url: string | readonly string[];
  /**
   * The access token. A callback is called before every connection attempt, so it can
   * hand out a fresh token; after a close for a bad token (4001) it is asked once more.
   */
  token: TokenSource;
  /** WebSocket constructor; default `globalThis.WebSocket`, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** Default timeout of a request, including the time it waits for a connection. Default 10000. */
  requestTimeoutMs?: number;
  /** Default overall timeout of `send()` across its retries. Default 30000. */
  sendTimeoutMs?: number;
  /** Time allowed for the WebSocket handshake. Default 10000. */
  connectTimeoutMs?: number;
  /** Reconnect and retry back-off: full jitter, capped. Default `{ minDelayMs: 200, maxDelayMs: 10000 }`. */
  reconnect?: BackoffOptions;
  /** Reconnect after a dropped connection. Default true. */
  autoReconnect?: boolean;
  /**
   * Called when a resubscription made by the SDK (after a reconnect or to fill a gap) is
   * answered with `resync`: the server could not replay the missed events. Reload the
   * channel's history (`msg.history`); live events continue after `lastSeq`. Also emitted
   * as the "resync" event.
   */
  onResync?: (channelId: string, lastSeq: number) => void;
}

/** Options of one request. */
export interface RequestOptions {
  /** Overrides `requestTimeoutMs`. */
  timeoutMs?: number;
}

/** Options of `send()`. */
export interface SendOptions {
  /** Idempotency key; generated when absent. Pass your own to be able to retry later. */
  clientMsgId?: string;
  /** Overall timeout across retries; overrides `sendTimeoutMs`. */
  timeoutMs?: number;
  /** Post as a reply in the thread of this message (a reply to a reply joins its root's thread). */
  threadRootId?: string;
  /** Files this user uploaded to the channel (`file.begin`, then `file.complete`); the text may then be empty. */
  fileIds?: string[];
}

/** Options of `subscribe()`. */
export interface SubscribeOptions {
  /** The seq the application already has: the server replays the events after it. */
  sinceSeq?: number;
  /** Overrides `requestTimeoutMs` for the first `sub` reply. */
  timeoutMs?: number;
}

/** The answer to `subscribe()`. */
export interface SubscribeResult {
  /** The channel's last seq when the subscription took effect; live events follow it. */
  lastSeq: number;
  /** True when `sinceSeq` was beyond the replay limit: reload history, then go on from `lastSeq`. */
  resync: boolean;
}

/** Receives a subscribed channel's events, each at most once and in seq order. */
export type ChannelHandler = (type: string, data: Record<string, unknown>) => void;

/** The connection's state. `closed` means no reconnect will happen until `connect()`. */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** The events of the client. */
export type ColinkClientEvents = {
  /** Every event delivered: subscribed channels (after de-duplication and ordering) and the personal topic. */
  event: [topic: string, type: string, data: Record<string, unknown>];
  /** A connection opened (also after each reconnect). */
  open: [];
  /** A connection closed or failed to open; `state` tells whether a reconnect follows. */
  close: [code: number, reason: string];
  /** A reconnect is scheduled: attempt number (from 1) and its delay. */
  reconnecting: [attempt: number, delayMs: number];
  /** See `ColinkClientOptions.onResync`. */
  resync: [channelId: string, lastSeq: number];
  /** The server refused a resubscription (e.g. `forbidden` after a kick): the subscription ended. */
  unsubscribed: [channelId: string, error: ColinkRequestError];
  /** A frame that could not be decoded, a listener or handler that threw, a failed connection attempt. */
  error: [error: Error];
};

interface PendingRequest {
  op: string;
  args: Record<string, unknown>;
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: ColinkRequestError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Set once transmitted. */
  id: number | undefined;
  done: boolean;
}

interface ChannelEventItem {
  topic: string;
  type: string;
  data: Record<string, unknown>;
}

interface SubscribeWaiter {
  resolve: (result: SubscribeResult) => void;
  reject: (error: ColinkRequestError) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Subscription {
  channelId: string;
  topic: string;
  handler: ChannelHandler;
  cursor: ChannelCursor<ChannelEventItem>;
  /** Number of the latest `sub` request; replies to earlier ones are ignored. */
  gen: number;
  /** True once a `sub` reply was applied. */
  established: boolean;
  /** Callers of subscribe() waiting for the next reply. */
  waiters: SubscribeWaiter[];
  retry: Backoff;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** cursor.last when the previous gap-filling `sub` was sent (to back off when no progress). */
  gapFillFrom: number | undefined;
}

interface Connection {
  ws: WebSocketLike;
  opened: boolean;
  openedAt: number;
  /** A frame was received: the server accepted the token. */
  healthy: boolean;
  httpStatus: number | undefined;
  /** What the socket's error event said, if anything (Node only; browsers say nothing). */
  errorText: string | undefined;
  connectTimer: ReturnType<typeof setTimeout> | undefined;
}

interface OpenWaiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A connection that stayed open this long resets the reconnect back-off. */
const stableAfterMs = 5_000;

export class ColinkClient extends TypedEmitter<ColinkClientEvents> {
  private readonly servers: ServerList;
  private readonly token: TokenSource;
  private readonly WebSocketCtor: WebSocketConstructor | undefined;
  private readonly requestTimeoutMs: number;
  private readonly sendTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly backoffOptions: Required<BackoffOptions>;
  private readonly autoReconnect: boolean;
  private readonly onResync: ((channelId: string, lastSeq: number) => void) | undefined;

  private connState: ConnectionState = "idle";
  private conn: Connection | undefined;
  /** Bumped by every connection attempt and by close(); stale attempts give up. */
  private attemptGen = 0;
  /** True while the first attempt of connect() runs: its failure stops instead of retrying. */
  private firstAttempt = false;
  private readonly backoff: Backoff;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** The one reconnect allowed after a refused token has been used. */
  private reauthUsed = false;
  private openWaiters: OpenWaiter[] = [];

  private nextId = 0;
  private queue: PendingRequest[] = [];
  private readonly inflight = new Map<number, PendingRequest>();
  private readonly subs = new Map<string, Subscription>();
  /** Per channel: the last send in line (sends to one channel go in call order). */
  private readonly sendQueues = new Map<string, Promise<void>>();

  constructor(options: ColinkClientOptions) {
    super();
    this.servers = new ServerList(options.url); // throws early on an empty list or a malformed URL
    this.token = options.token;
    this.WebSocketCtor = options.WebSocket;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.backoffOptions = {
      minDelayMs: options.reconnect?.minDelayMs ?? defaultBackoff.minDelayMs,
      maxDelayMs: options.reconnect?.maxDelayMs ?? defaultBackoff.maxDelayMs,
    };
    this.autoReconnect = options.autoReconnect ?? true;
    this.onResync = options.onResync;
    this.backoff = new Backoff(this.backoffOptions);
  }

  /** The connection's state. */
  get state(): ConnectionState {
    return this.connState;
  }

  /** The endpoint of the open connection, or the one the next connection attempt will use. */
  get serverUrl(): string {
    return this.servers.current;
  }

  /** The seq of the last event delivered on a subscribed channel (undefined before the first `sub` reply). */
  lastSeqOf(channelId: string): number | undefined {
    return this.subs.get(channelId)?.cursor.last;
  }

  // ---------------------------------------------------------------- connection

  /**
   * Opens the connection; resolves once it is open. If the first attempt fails the
   * promise rejects (ColinkConnectionError) and the client stays closed; once it has been
   * open, drops are reconnected automatically. Calling it again after close() (or after a
   * stop) reconnects and resumes the existing subscriptions.
   */
  connect(): Promise<void> {
    if (this.connState === "open") return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    if (this.connState === "idle" || this.connState === "closed") {
      this.reauthUsed = false;
      this.backoff.reset();
      this.firstAttempt = true;
      void this.attempt();
    }
    return opened;
  }

  /**
   * Closes the connection for good: no reconnect follows. Pending requests and
   * subscribe() calls reject; subscriptions are kept so that a later connect() resumes them.
   */
  async close(): Promise<void> {
    const wasActive = this.connState !== "closed" && this.connState !== "idle";
    this.connState = "closed";
    this.attemptGen++;
    this.clearReconnectTimer();
    const conn = this.conn;
    this.conn = undefined;
    const error = ColinkRequestError.unavailable("client closed", false);
    this.dropConnectionState(error);
    this.stopAll(error, new ColinkConnectionError("client closed"));
    if (conn) {
      if (conn.connectTimer) clearTimeout(conn.connectTimer);
      await closeSocket(conn.ws);
    }
    if (wasActive) this.emit("close", 1000, "client closed");
  }

  private async attempt(): Promise<void> {
    const gen = ++this.attemptGen;
    this.connState = this.firstAttempt ? "connecting" : "reconnecting";
    let ws: WebSocketLike;
    try {
      const token = typeof this.token === "function" ? await this.token() : this.token;
      if (typeof token !== "string" || token === "") throw new Error("the token callback returned no token");
      const Ctor = await resolveWebSocket(this.WebSocketCtor);
      if (gen !== this.attemptGen) return;
      ws = new Ctor(urlWithToken(this.servers.current, token));
    } catch (err) {
      if (gen !== this.attemptGen) return;
      this.emit(
        "error",
        new ColinkConnectionError(`cannot connect: ${errorText(err)}`, undefined, { cause: err }),
      );
      this.connectionEnded(undefined, 1006, errorText(err));
      return;
    }
    ws.binaryType = "arraybuffer";
    const conn: Connection = {
      ws,
      opened: false,
      openedAt: 0,
      healthy: false,
      httpStatus: undefined,
      errorText: undefined,
      connectTimer: undefined,
    };
    this.conn = conn;
    conn.connectTimer = setTimeout(() => {
      if (this.conn !== conn || conn.opened) return;
      this.connectionEnded(conn, 1006, "connect timeout");
      void closeSocket(ws);
    }, this.connectTimeoutMs);
    ws.addEventListener("open", () => {
      if (this.conn === conn) this.onOpen(conn);
    });
    ws.addEventListener("message", (event) => {
      if (this.conn === conn) this.onMessage(conn, event.data);
    });
    ws.addEventListener("error", (event) => {
      if (this.conn !== conn) return;
      conn.httpStatus ??= handshakeStatus(event);
      conn.errorText ??= socketErrorText(event);
      // Node 22's WebSocket fires no `close` after a refused connection (Node 24 and
      // browsers do): end a handshake that failed after a turn unless a close came first,
      // instead of waiting out connectTimeoutMs.
      if (!conn.opened) {
        setTimeout(() => {
          if (this.conn !== conn || conn.opened) return;
          this.connectionEnded(conn, 1006, conn.errorText ?? "connection failed");
          void closeSocket(ws);
        }, 0);
      }
    });
    ws.addEventListener("close", (event) => {
      if (this.conn === conn) this.connectionEnded(conn, event.code, event.reason);
    });
  }

  private onOpen(conn: Connection): void {
    if (conn.connectTimer) clearTimeout(conn.connectTimer);
    conn.connectTimer = undefined;
    conn.opened = true;
    conn.openedAt = Date.now();
    this.connState = "open";
    this.firstAttempt = false;
    // Resubscriptions first, so that they precede the requests that waited.
    for (const sub of this.subs.values()) {
      sub.gapFillFrom = undefined;
      sub.retry.reset();
      this.startSub(sub);
    }
    const waiting = this.queue;
    this.queue = [];
    for (const req of waiting) if (!req.done) this.transmit(req);
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const w of waiters) w.resolve();
    this.emit("open");
  }

  /** A connection closed or an attempt failed (`conn` undefined: failed before a socket existed). */
  private connectionEnded(conn: Connection | undefined, code: number, reason: string): void {
    if (conn && this.conn !== conn) return;
    // Whatever follows (a reconnect, or a later connect() after a stop) goes to the next
    // server: the node that failed may be dead. close() does not come here, so a client
    // closed on purpose reconnects where it was.
    this.servers.next();
    if (conn) {
      this.conn = undefined;
      if (conn.connectTimer) clearTimeout(conn.connectTimer);
      if (conn.healthy || (conn.opened && Date.now() - conn.openedAt >= stableAfterMs)) this.backoff.reset();
      if (conn.healthy) this.reauthUsed = false;
      if (conn.opened) {
        this.dropConnectionState(ColinkRequestError.unavailable("connection lost", true));
      }
    }
    const status = conn?.httpStatus;
    let action = closeAction(code, status);
    if (action === "reauth") {
      action = typeof this.token === "function" && !this.reauthUsed ? "reconnect" : "stop";
      if (action === "reconnect") this.reauthUsed = true;
    } else if (action === "reconnect" && (!this.autoReconnect || this.firstAttempt)) {
      action = "stop";
    }
    const why =
      status !== undefined
        ? `handshake refused with HTTP ${status}`
        : `${code} ${reason || conn?.errorText || ""}`.trim();
    if (action === "stop") {
      const refused = code === 4001 || status === 401;
      const reqError = refused
        ? new ColinkRequestError({
            code: "unauthenticated",
            message: `token refused (${why})`,
            retryable: false,
          })
        : ColinkRequestError.unavailable(`connection closed (${why})`, false);
      this.connState = "closed";
      this.firstAttempt = false;
      this.stopAll(reqError, new ColinkConnectionError(`connection closed (${why})`, code));
      this.emit("close", code, reason);
      return;
    }
    this.connState = "reconnecting";
    this.emit("close", code, reason);
    if (this.state !== "reconnecting") return; // a listener called close()
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.connState === "reconnecting") void this.attempt();
    }, delay);
    this.emit("reconnecting", this.backoff.attempt, delay);
  }

  /** Fails what was in flight on a connection that is gone; channels will resume from their cursor. */
  private dropConnectionState(error: ColinkRequestError): void {
    for (const sub of this.subs.values()) {
      sub.gen++; // replies to subs sent on the old connection no longer count
      sub.cursor.disconnected();
      if (sub.retryTimer) clearTimeout(sub.retryTimer);
      sub.retryTimer = undefined;
    }
    const inflight = [...this.inflight.values()];
    this.inflight.clear();
    for (const req of inflight) this.settle(req, withOp(error, req.op));
  }

  /** The client stopped: everything that waits for a connection fails. */
  private stopAll(reqError: ColinkRequestError, connError: Error): void {
    this.clearReconnectTimer();
    const queued = this.queue;
    this.queue = [];
    for (const req of queued) this.settle(req, withOp(reqError, req.op));
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const w of waiters) w.reject(connError);
    for (const sub of [...this.subs.values()]) {
      const ws = sub.waiters;
      sub.waiters = [];
      for (const w of ws) {
        clearTimeout(w.timer);
        w.reject(withOp(reqError, "sub"));
      }
      if (!sub.established) this.subs.delete(sub.channelId);
    }
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  // ---------------------------------------------------------------- requests

  /**
   * Sends one request and resolves with its result. While disconnected it waits for the
   * connection, up to its timeout. Rejects with ColinkRequestError: the server's error, or
   * `unavailable` (retryable) on timeout or when the connection drops while it is in flight
   * (it may or may not have been applied).
   */
  request<O extends OpName>(op: O, args: ArgsOf<O>, options: RequestOptions = {}): Promise<ResultOf<O>> {
    return this.call(
      op,
      args as Record<string, unknown>,
      options.timeoutMs ?? this.requestTimeoutMs,
    ) as Promise<ResultOf<O>>;
  }

  private call(
    op: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    if (this.connState === "closed") {
      return Promise.reject(ColinkRequestError.unavailable("client is closed", false, op));
    }
    return new Promise((resolve, reject) => {
      const req: PendingRequest = { op, args, resolve, reject, timer: undefined, id: undefined, done: false };
      req.timer = setTimeout(() => {
        if (req.id === undefined) this.queue = this.queue.filter((r) => r !== req);
        this.settle(req, ColinkRequestError.unavailable(`${op} timed out after ${timeoutMs} ms`, true, op));
      }, timeoutMs);
      if (this.connState === "open" && this.conn) this.transmit(req);
      else this.queue.push(req);
    });
  }

  private transmit(req: PendingRequest): void {
    const conn = this.conn;
    if (!conn) {
      this.queue.push(req);
      return;
    }
    let bytes: Uint8Array;
    const id = this.allocateId();
    try {
      bytes = encodeFrame([FrameKind.request, id, req.op, req.args]);
    } catch (err) {
      this.settle(
        req,
        new ColinkRequestError(
          { code: "bad_request", message: `cannot encode args: ${errorText(err)}`, retryable: false },
          req.op,
        ),
      );
      return;
    }
    req.id = id;
    this.inflight.set(id, req);
    try {
      conn.ws.send(bytes);
    } catch (err) {
      this.settle(req, ColinkRequestError.unavailable(`send failed: ${errorText(err)}`, true, req.op));
    }
  }

  /** Increasing ids, wrapping to 1 after the largest unsigned 32-bit value, skipping ids in flight. */
  private allocateId(): number {
    let id = this.nextId;
    do id = id >= maxRequestId ? 1 : id + 1;
    while (this.inflight.has(id));
    this.nextId = id;
    return id;
  }

  private settle(req: PendingRequest, outcome: Record<string, unknown> | ColinkRequestError): void {
    if (req.done) return;
    req.done = true;
    if (req.timer) clearTimeout(req.timer);
    if (req.id !== undefined && this.inflight.get(req.id) === req) this.inflight.delete(req.id);
    if (outcome instanceof ColinkRequestError) req.reject(outcome);
    else req.resolve(outcome);
  }

  /**
   * Posts a message, exactly once: the clientMsgId (generated unless given) makes retries
   * safe, so retryable errors and dropped connections are retried with back-off until the
   * overall timeout. Resolves with the stored message.
   *
   * Sends to one channel go in the order `send` was called: each waits for the one before
   * it to settle, so a retry after a dropped connection cannot overtake (or be overtaken by)
   * another message of this client. For many messages in flight at once, without that
   * order, use `request("msg.send", …)`.
   */
  send(channelId: string, text: string, options: SendOptions = {}): Promise<ResultOf<"msg.send">> {
    const deadline = Date.now() + (options.timeoutMs ?? this.sendTimeoutMs);
    const before = this.sendQueues.get(channelId) ?? Promise.resolve();
    const sent = before.then(() => this.sendWithRetries(channelId, text, options, deadline));
    const settled = sent.then(
      () => undefined,
      () => undefined,
    );
    this.sendQueues.set(channelId, settled);
    void settled.then(() => {
      if (this.sendQueues.get(channelId) === settled) this.sendQueues.delete(channelId);
    });
    return sent;
  }

  private async sendWithRetries(
    channelId: string,
    text: string,
    options: SendOptions,
    deadline: number,
  ): Promise<ResultOf<"msg.send">> {
    const clientMsgId = options.clientMsgId ?? newClientMsgId();
    const retry = new Backoff(this.backoffOptions);
    for (;;) {
      const remaining = Math.max(1, deadline - Date.now());
      try {
        return await this.request(
          "msg.send",
          {
            channelId,
            text,
            clientMsgId,
            ...(options.threadRootId === undefined ? {} : { threadRootId: options.threadRootId }),
            ...(options.fileIds === undefined ? {} : { fileIds: options.fileIds }),
          },
          { timeoutMs: Math.min(this.requestTimeoutMs, remaining) },
        );
      } catch (err) {
        if (!(err instanceof ColinkRequestError) || !err.retryable || this.connState === "closed") throw err;
        const hinted = Number(err.details?.retryAfterMs);
        const delay = Math.max(retry.next(), Number.isFinite(hinted) ? hinted : 0);
        if (Date.now() + delay >= deadline) throw err;
        await sleep(delay);
        if (this.state === "closed") throw err;
      }
    }
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * Subscribes to a channel's events. `handler` (and the "event" listeners) get each event
   * at most once, in seq order; after a reconnect the SDK resubscribes from the last
   * delivered seq, so nothing is missed. With `sinceSeq` the server first replays the events
   * after it (the handler may run before the promise resolves). Subscribing again to the
   * same channel replaces the handler (and the position, when `sinceSeq` is given).
   */
  subscribe(
    channelId: string,
    handler: ChannelHandler,
    options: SubscribeOptions = {},
  ): Promise<SubscribeResult> {
    if (this.connState === "closed") {
      return Promise.reject(ColinkRequestError.unavailable("client is closed", false, "sub"));
    }
    let cursor: ChannelCursor<ChannelEventItem> | undefined;
    try {
      if (options.sinceSeq !== undefined) cursor = new ChannelCursor(options.sinceSeq);
    } catch (err) {
      return Promise.reject(
        new ColinkRequestError({ code: "bad_request", message: errorText(err), retryable: false }, "sub"),
      );
    }
    let sub = this.subs.get(channelId);
    if (!sub) {
      sub = {
        channelId,
        topic: `ch:${channelId}`,
        handler,
        cursor: cursor ?? new ChannelCursor(),
        gen: 0,
        established: false,
        waiters: [],
        retry: new Backoff(this.backoffOptions),
        retryTimer: undefined,
        gapFillFrom: undefined,
      };
      this.subs.set(channelId, sub);
    } else {
      sub.handler = handler;
      if (cursor) sub.cursor = cursor;
    }
    const s = sub;
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const waiter: SubscribeWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => this.subscribeTimedOut(s, waiter, timeoutMs), timeoutMs),
      };
      s.waiters.push(waiter);
      if (cursor || !s.cursor.awaitingReply) this.startSub(s);
    });
  }

  /** Stops a subscription: no more of its events are delivered, and the server is told. */
  async unsubscribe(channelId: string, options: RequestOptions = {}): Promise<void> {
    const sub = this.subs.get(channelId);
    if (!sub) return;
    this.removeSub(sub, ColinkRequestError.unavailable("unsubscribed", false, "sub"));
    if (this.connState === "open") {
      await this.request("unsub", { channelId }, options);
    }
  }

  private removeSub(sub: Subscription, error: ColinkRequestError): void {
    if (this.subs.get(sub.channelId) === sub) this.subs.delete(sub.channelId);
    sub.gen++;
    if (sub.retryTimer) clearTimeout(sub.retryTimer);
    sub.retryTimer = undefined;
    const waiters = sub.waiters;
    sub.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  private subscribeTimedOut(sub: Subscription, waiter: SubscribeWaiter, timeoutMs: number): void {
    const i = sub.waiters.indexOf(waiter);
    if (i < 0) return;
    sub.waiters.splice(i, 1);
    waiter.reject(ColinkRequestError.unavailable(`sub timed out after ${timeoutMs} ms`, true, "sub"));
    if (!sub.established && sub.waiters.length === 0 && this.subs.get(sub.channelId) === sub) {
      // Nobody waits for it and it never took effect: give it up (the server may have it; tell it).
      this.removeSub(sub, ColinkRequestError.unavailable("sub timed out", true, "sub"));
      if (this.connState === "open")
        this.call("unsub", { channelId: sub.channelId }, this.requestTimeoutMs).catch(() => {});
    }
  }

  /** Sends `sub` with sinceSeq = the last delivered seq (when known). Needs an open connection. */
  private startSub(sub: Subscription): void {
    if (this.connState !== "open" || this.subs.get(sub.channelId) !== sub) return;
    if (sub.retryTimer) clearTimeout(sub.retryTimer);
    sub.retryTimer = undefined;
    const sinceSeq = sub.cursor.beginSub();
    const gen = ++sub.gen;
    const args =
      sinceSeq === undefined ? { channelId: sub.channelId } : { channelId: sub.channelId, sinceSeq };
    this.call("sub", args, this.requestTimeoutMs).then(
      (result) => this.onSubReply(sub, gen, result),
      (err: unknown) => this.onSubError(sub, gen, err),
    );
  }

  private isCurrent(sub: Subscription, gen?: number): boolean {
    return this.subs.get(sub.channelId) === sub && (gen === undefined || gen === sub.gen);
  }

  private onSubReply(sub: Subscription, gen: number, result: Record<string, unknown>): void {
    if (!this.isCurrent(sub, gen)) return;
    const lastSeq = result.lastSeq;
    if (typeof lastSeq !== "number" || !Number.isSafeInteger(lastSeq) || lastSeq < 0) {
      const message = "malformed sub reply: no lastSeq";
      this.onSubError(
        sub,
        gen,
        new ColinkRequestError({ code: "internal", message, retryable: false }, "sub"),
      );
      return;
    }
    const resync = result.resync === true;
    sub.established = true;
    const step = sub.cursor.subReply(lastSeq, resync);
    const waiters = sub.waiters;
    sub.waiters = [];
    if (waiters.length > 0) {
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.resolve({ lastSeq, resync });
      }
    } else if (resync) {
      try {
        this.onResync?.(sub.channelId, lastSeq);
      } catch (err) {
        this.emit("error", asError(err));
      }
      this.emit("resync", sub.channelId, lastSeq);
    }
    this.deliverAll(sub, step.deliver);
    if (step.resubscribe) this.fillGap(sub);
  }

  private onSubError(sub: Subscription, gen: number, err: unknown): void {
    if (!this.isCurrent(sub, gen)) return;
    sub.cursor.subFailed();
    const error =
      err instanceof ColinkRequestError
        ? err
        : new ColinkRequestError({ code: "internal", message: errorText(err), retryable: false }, "sub");
    if (error.retryable) {
      // Retried on this connection after a back-off (no sooner than a rate limit's hint), or
      // by the next connection's resubscribe.
      const hinted = Number(error.details?.retryAfterMs);
      const delay = Math.max(sub.retry.next(), Number.isFinite(hinted) ? hinted : 0);
      if (this.connState === "open") this.scheduleSub(sub, delay);
      return;
    }
    // Refused for good (forbidden, not_found…): the subscription is over.
    const hadWaiters = sub.waiters.length > 0;
    this.removeSub(sub, error);
    if (!hadWaiters) this.emit("unsubscribed", sub.channelId, error);
  }

  private scheduleSub(sub: Subscription, delayMs: number): void {
    if (sub.retryTimer) clearTimeout(sub.retryTimer);
    sub.retryTimer = setTimeout(() => {
      sub.retryTimer = undefined;
      this.startSub(sub);
    }, delayMs);
  }

  /** A gap was seen: resubscribe from the last delivered seq; back off if the last try did not help. */
  private fillGap(sub: Subscription): void {
    if (this.connState !== "open" || sub.cursor.awaitingReply || sub.retryTimer) return;
    const from = sub.cursor.last;
    const noProgress = sub.gapFillFrom !== undefined && sub.gapFillFrom === from;
    sub.gapFillFrom = from;
    if (noProgress) this.scheduleSub(sub, sub.retry.next());
    else {
      sub.retry.reset();
      this.startSub(sub);
    }
  }

  private deliverAll(sub: Subscription, items: ChannelEventItem[]): void {
    for (const item of items) {
      if (!this.isCurrent(sub)) return; // a handler unsubscribed
      this.deliver(sub, item);
    }
  }

  private deliver(sub: Subscription, item: ChannelEventItem): void {
    try {
      sub.handler(item.type, item.data);
    } catch (err) {
      this.emit("error", asError(err));
    }
    this.emit("event", item.topic, item.type, item.data);
  }

  // ---------------------------------------------------------------- incoming frames

  private onMessage(conn: Connection, data: unknown): void {
    const bytes = messageBytes(data);
    if (!bytes) {
      this.emit("error", new ColinkProtocolError("ignored a frame that is not binary"));
      return;
    }
    let frame: unknown[];
    try {
      frame = decodeFrame(bytes);
    } catch (err) {
      this.emit(
        "error",
        new ColinkProtocolError(`ignored an undecodable frame: ${errorText(err)}`, { cause: err }),
      );
      return;
    }
    const [kind, a, b, c] = frame;
    if (kind === FrameKind.ok && typeof a === "number") {
      conn.healthy = true;
      const req = this.inflight.get(a);
      if (!req) return; // late reply to a request that timed out
      if (isPlainMap(b)) this.settle(req, b);
      else
        this.settle(
          req,
          new ColinkRequestError({ code: "internal", message: "malformed reply", retryable: false }, req.op),
        );
      return;
    }
    if (kind === FrameKind.error && typeof a === "number") {
      conn.healthy = true;
      const req = this.inflight.get(a);
      if (!req) return; // unknown id
      this.settle(req, ColinkRequestError.fromWire(b, req.op));
      return;
    }
    if (kind === FrameKind.event && typeof a === "string" && typeof b === "string" && isPlainMap(c)) {
      conn.healthy = true;
      this.onEvent(a, b, c);
      return;
    }
    this.emit("error", new ColinkProtocolError(`ignored an unexpected frame of kind ${String(kind)}`));
  }

  private onEvent(topic: string, type: string, data: Record<string, unknown>): void {
    if (!topic.startsWith("ch:")) {
      this.emit("event", topic, type, data);
      return;
    }
    const sub = this.subs.get(topic.slice(3));
    if (!sub) return; // not subscribed (any more)
    const item = { topic, type, data };
    if (typeof data.seq !== "number") {
      this.deliver(sub, item); // ephemeral (typing…): not in the log, no seq
      return;
    }
    const step = sub.cursor.push(data.seq, item);
    this.deliverAll(sub, step.deliver);
    if (step.resubscribe && this.isCurrent(sub)) this.fillGap(sub);
  }
}

/** A fresh idempotency key for `msg.send`. */
export function newClientMsgId(): string {
  const c = (
    globalThis as { crypto?: { randomUUID?: () => string; getRandomValues?: (a: Uint8Array) => Uint8Array } }
  ).crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Closes a socket and waits (briefly) for it to be closed. */
function closeSocket(ws: WebSocketLike): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === 3) {
      resolve();
      return;
    }
    const timer = setTimeout(resolve, 2_000);
    ws.addEventListener("close", () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      ws.close(1000, "client closed");
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

function withOp(error: ColinkRequestError, op: string): ColinkRequestError {
  const body = { code: error.code, message: error.message, retryable: error.retryable };
  return new ColinkRequestError(error.details ? { ...body, details: error.details } : body, op);
}

function socketErrorText(event: { message?: unknown; error?: unknown }): string | undefined {
  if (event.error instanceof Error) return event.error.message;
  return typeof event.message === "string" && event.message !== "" ? event.message : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
