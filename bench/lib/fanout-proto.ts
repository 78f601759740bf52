/**
 * The fan-out shape, spoken to Colink and to each peer (bench/peers/) over the same lean
 * client (raw-ws.ts), so that every system is loaded and measured by the same code:
 * connect, subscribe to channels (rooms, topics), publish a message whose text carries its
 * key and its send time, and pick deliveries out of the received bytes without decoding
 * the frame (a marker scan), whatever the system's encoding.
 *
 * | system   | subscribe                          | publish                                   | delivery |
 * |----------|------------------------------------|-------------------------------------------|----------|
 * | colink   | `sub` request (MessagePack)        | `msg.send`, acked after commit            | `message.created` event |
 * | uws      | binary `s<topic>,<topic>…`, "k"    | binary `p<topic>\n<json>`: app.publish    | the JSON |
 * | ws       | JSON `{t:"sub",rooms}`, `{t:"ok"}` | JSON `{t:"pub",room,msg}`: loop over a Set | JSON `{t:"msg",room,msg}` |
 * | socketio | `join` event with an ack           | `pub` event: `io.to(room).emit`           | `42["message",…]` |
 * | ejabberd | MUC join presence (XMPP over WebSocket, anonymous) | groupchat `<message>` | the `<message>` (its body) |
 */
import { decodeFrame, encodeValue } from "../../core/protocol.js";
import { RawWs } from "./raw-ws.js";
import { groupchat, XmppSession, xmppSubprotocol, xmppWsPath } from "./xmpp-muc.js";

/** The systems S2 and S4 load. */
export type SystemName = "colink" | "uws" | "ws" | "socketio" | "ejabberd";

/** The peers of both S2 and S4, in run order after Colink. */
export const peerNames: SystemName[] = ["uws", "ws", "socketio"];

/** A server to connect to. */
export interface Endpoint {
  system: SystemName;
  host: string;
  port: number;
  /** TLS (a remote `wss:` Colink). */
  tls?: boolean;
}

/** The endpoint of a Colink WebSocket URL (`ws://host:port/ws` or `wss://…`). */
export function colinkEndpoint(wsUrl: string): Endpoint {
  const url = new URL(wsUrl);
  const tls = url.protocol === "wss:";
  return {
    system: "colink",
    host: url.hostname,
    port: Number(url.port || (tls ? 443 : 80)),
    ...(tls ? { tls } : {}),
  };
}

/** Wall-clock time in milliseconds with sub-millisecond resolution, comparable across processes. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** `@@T<key>:<send time µs>@@`: what a delivery carries, found by a byte scan. */
const marker = Buffer.from("@@T");
const colon = 0x3a;
const zero = 0x30;

/** The message text: the marker with key and send time, padded to `bytes` characters. */
export function markedText(key: number, sentUs: number, bytes: number): string {
  const head = `@@T${key}:${sentUs}@@`;
  return head.length >= bytes ? head : head + "x".repeat(bytes - head.length);
}

/** A peer's message: the fields of a Colink message, so that payloads are alike in size. */
function peerMessage(channel: string, key: number, text: string, clientMsgId: string) {
  return {
    id: `M${String(key).padStart(20, "0")}`,
    channelId: channel,
    seq: key,
    authorId: "U0BENCHPUBLISHER00000",
    text,
    clientMsgId,
    createdAt: Date.now(),
    editedAt: null,
    deletedAt: null,
    threadRootId: null,
    replyCount: 0,
    lastReplyAt: null,
    mentions: [],
    files: [],
  };
}

/** Where on the path each system listens. */
function pathOf(system: SystemName, token: string | undefined): string {
  switch (system) {
    case "colink":
      return `/ws?access_token=${encodeURIComponent(token ?? "")}`;
    case "socketio":
      return "/socket.io/?EIO=4&transport=websocket";
    case "ejabberd":
      return xmppWsPath;
    default:
      return "/";
  }
}

/** One connection to a system: subscriber or publisher. */
export class FanConn {
  /** A delivery: the message's key and send time (µs). */
  onDelivery: (key: number, sentUs: number) => void = () => {};
  /** Closed by the server or the network (code), e.g. Colink's 4501 slow consumer. */
  onClose: ((code: number) => void) | null = null;
  /** Colink acks of `msg.send` (ok or error) by request id. */
  onReply: ((id: number, ok: boolean) => void) | null = null;
  private nextId = 1;
  /** Control replies awaited: by id (colink, socketio acks) or in order (uws, ws). */
  private readonly waiting = new Map<number, (ok: boolean, detail: string) => void>();
  private readonly fifo: Array<(ok: boolean, detail: string) => void> = [];
  /** Socket.IO: the namespace connect is done (or failed). */
  private ready: ((err?: Error) => void) | null = null;
  /** ejabberd: the XMPP session. */
  private xmpp: XmppSession | null = null;

  private constructor(
    readonly system: SystemName,
    readonly ws: RawWs,
  ) {
    ws.onFrame = (buf, start, end) => this.frame(buf, start, end);
    ws.onClose = (code) => {
      this.ready?.(new Error(`closed ${code} before the socket.io connect`));
      for (const w of this.waiting.values()) w(false, `closed ${code} ${ws.error}`);
      for (const w of this.fifo) w(false, `closed ${code} ${ws.error}`);
      this.waiting.clear();
      this.fifo.length = 0;
      this.onClose?.(code);
    };
  }

  /** Opens a connection (for Socket.IO: through the Engine.IO and namespace handshakes). */
  static async open(
    ep: Endpoint,
    opts: { token?: string; localAddress?: string; timeoutMs?: number } = {},
  ): Promise<FanConn> {
    const ws = await RawWs.open({
      host: ep.host,
      port: ep.port,
      path: pathOf(ep.system, opts.token),
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(ep.tls ? { tls: true } : {}),
      ...(ep.system === "ejabberd" ? { protocol: xmppSubprotocol } : {}),
    });
    const conn = new FanConn(ep.system, ws);
    if (ep.system === "ejabberd") {
      conn.xmpp = new XmppSession((stanza) => ws.sendText(stanza));
      await conn.xmpp.logIn(opts.timeoutMs ?? 30_000).catch((err: unknown) => {
        ws.destroy();
        throw err;
      });
    }
    if (ep.system === "socketio") {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          ws.destroy();
          reject(new Error("socket.io connect timed out"));
        }, opts.timeoutMs ?? 30_000);
        conn.ready = (err) => {
          clearTimeout(timer);
          conn.ready = null;
          if (err) reject(err);
          else resolve();
        };
      });
    }
    return conn;
  }

  get closed(): boolean {
    return this.ws.closed;
  }

  /** Subscribes to channels (Colink ids, or room names); resolves when every one is granted. */
  subscribe(channels: string[]): Promise<void> {
    switch (this.system) {
      case "colink":
        return Promise.all(
          channels.map((channelId) => this.request("sub", { channelId }).then(() => undefined)),
        ).then(() => undefined);
      case "uws":
        return this.inOrder(() => this.ws.sendBinary(Buffer.from(`s${channels.join(",")}`, "latin1")));
      case "ws":
        return this.inOrder(() => this.ws.sendText(JSON.stringify({ t: "sub", rooms: channels })));
      case "socketio": {
        const id = this.nextId++;
        return new Promise((resolve, reject) => {
          this.waiting.set(id, (ok, detail) => (ok ? resolve() : reject(new Error(detail))));
          this.ws.sendText(`42${id}${JSON.stringify(["join", channels])}`);
        });
      }
      case "ejabberd":
        return this.xmpp!.join(channels);
    }
  }

  /** Whatever must happen before publishing to `channel`: an XMPP room takes messages from its occupants only. */
  async preparePublisher(channel: string): Promise<void> {
    if (this.system === "ejabberd") await this.xmpp!.join([channel]);
  }

  /**
   * Publishes message `key` to `channel`, stamped with `sentUs`. For Colink it is a
   * `msg.send`; the request id is returned (its ack comes to `onReply`).
   */
  publish(channel: string, key: number, sentUs: number, textBytes: number, clientMsgId: string): number {
    const text = markedText(key, sentUs, textBytes);
    switch (this.system) {
      case "colink": {
        const id = this.nextId++;
        this.ws.sendBinary(encodeValue([0, id, "msg.send", { channelId: channel, text, clientMsgId }]));
        return id;
      }
      case "uws":
        this.ws.sendBinary(
          Buffer.from(`p${channel}\n${JSON.stringify(peerMessage(channel, key, text, clientMsgId))}`),
        );
        return 0;
      case "ws":
        this.ws.sendText(
          JSON.stringify({ t: "pub", room: channel, msg: peerMessage(channel, key, text, clientMsgId) }),
        );
        return 0;
      case "socketio":
        this.ws.sendText(
          `42${JSON.stringify(["pub", channel, peerMessage(channel, key, text, clientMsgId)])}`,
        );
        return 0;
      case "ejabberd":
        this.ws.sendText(groupchat(channel, text));
        return 0;
    }
  }

  /** Batches this tick's writes. */
  cork(): void {
    this.ws.cork();
  }

  close(): void {
    this.ws.close();
  }

  private request(op: string, args: Record<string, unknown>): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (ok, detail) => (ok ? resolve() : reject(new Error(`${op}: ${detail}`))));
      this.ws.sendBinary(encodeValue([0, id, op, args]));
    });
  }

  private inOrder(send: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.fifo.push((ok, detail) => (ok ? resolve() : reject(new Error(detail))));
      send();
    });
  }

  private frame(buf: Buffer, start: number, end: number): void {
    // Colink: only events (`[3, …]`: fixarray of 4, then 3) are deliveries; an ack of
    // `msg.send` carries the text too.
    const event = this.system !== "colink" || (buf[start] === 0x94 && buf[start + 1] === 3);
    const at = event ? buf.indexOf(marker, start) : -1;
    if (at >= 0 && at < end) {
      // A delivery: parse `<key>:<µs>` after the marker, digit by digit.
      let p = at + 3;
      let key = 0;
      for (let c = buf[p]!; c !== colon; c = buf[++p]!) key = key * 10 + (c - zero);
      let sent = 0;
      for (let c = buf[++p]!; c >= zero && c <= zero + 9; c = buf[++p]!) sent = sent * 10 + (c - zero);
      this.onDelivery(key, sent);
      return;
    }
    this.control(buf.subarray(start, end));
  }

  private control(payload: Buffer): void {
    switch (this.system) {
      case "colink": {
        const frame = decodeFrame(payload);
        if (frame[0] === 1 || frame[0] === 2) {
          const id = frame[1];
          const w = this.waiting.get(id);
          if (w) {
            this.waiting.delete(id);
            w(frame[0] === 1, frame[0] === 2 ? `${frame[2].code} ${frame[2].message}` : "");
          } else this.onReply?.(id, frame[0] === 1);
        }
        return;
      }
      case "uws":
      case "ws":
        this.fifo.shift()?.(true, "");
        return;
      case "socketio": {
        const text = payload.toString("utf8");
        if (text === "2") this.ws.sendText("3");
        else if (text.startsWith("0")) this.ws.sendText("40");
        else if (text.startsWith("40")) this.ready?.();
        else if (text.startsWith("43")) {
          const id = Number(/^43(\d+)/.exec(text)?.[1]);
          const w = this.waiting.get(id);
          this.waiting.delete(id);
          w?.(true, "");
        } else if (text.startsWith("44")) {
          this.ready?.(new Error(`socket.io connect refused: ${text}`));
          this.ws.destroy();
        }
        return;
      }
      case "ejabberd":
        this.xmpp?.receive(payload.toString("utf8"));
        return;
    }
  }
}
