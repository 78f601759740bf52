/**
 * Everything the gateway writes to its sockets, each socket's frames in the order they
 * were made: the replies, coalesced per socket per pass of the event loop, the published
 * events, and the byte budget per connection (a slow consumer is closed with a resume
 * code rather than buffered without end).
 */
import type { TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import type { Answer, Grant } from "../actors/envelope.js";
import type { Limits } from "../core/config.js";
import { CloseCode } from "../core/errors.js";
import {
  channelIdOfTopic,
  errorFrame,
  okFrame,
  okFrameInPlace,
  okFrameOfPacked,
  packedIn,
  userIdOfTopic,
} from "../core/protocol.js";
import type { Conn, Socket } from "./connection.js";

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

/** The reply frame of an actor's answer, framing a result that is already encoded as it is. */
function replyFrame(id: number, outcome: Answer): Uint8Array {
  if (!outcome.ok) return errorFrame(id, outcome.error);
  if ("packed" in outcome) {
    return outcome.headroom ? okFrameInPlace(id, outcome.packed) : okFrameOfPacked(id, outcome.packed);
  }
  const packed = packedIn(outcome.result);
  return packed ? okFrameOfPacked(id, packed) : okFrame(id, outcome.result);
}

/** Writes replies and events to the gateway's sockets, in order and within their byte budget. */
export class SocketWriter {
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
  private readonly backpressureSweep: NodeJS.Timeout;

  constructor(
    private readonly app: TemplatedApp,
    private readonly limits: Limits,
    /** Every open socket (a live view), for the backpressure sweep. */
    private readonly sockets: ReadonlySet<Socket>,
  ) {
    // uWS skips (drops) a publish to a socket past maxBackpressure; we close such a
    // socket with the slow-consumer code first, so that it resumes instead of losing events.
    this.backpressureSweep = setInterval(() => this.closeSlowConsumers(), 250);
    this.backpressureSweep.unref();
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

  /** Sends an actor's answer: for `sub`, subscribe first, then the replay, then the reply. */
  answer(ws: Socket, id: number, outcome: Answer, grant?: Grant): void {
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

  /** Sends one frame now, after the replies queued before it. */
  send(ws: Socket, frame: Uint8Array): void {
    this.flushReplies();
    if (ws.getUserData().closed) return;
    ws.cork(() => ws.send(frame, true, false));
    this.checkBackpressure(ws);
  }

  /** Writes the queued reply frames, each socket's under one cork. */
  flushReplies(): void {
    this.outboxScheduled = false;
    if (this.outbox.size === 0) return;
    for (const ws of this.outbox.keys()) this.flushSocket(ws);
  }

  /** Drops a closed socket's queued replies: they have nowhere to go. */
  forget(ws: Socket): void {
    this.outbox.delete(ws);
  }

  /** Stops the backpressure sweep (the server is draining). */
  stop(): void {
    clearInterval(this.backpressureSweep);
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
