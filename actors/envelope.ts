/**
 * What flows into and out of actors. Handlers never touch sockets: they answer through
 * an Outlet, which the transport implements (directly on the main thread, or through a
 * worker's message port, which keeps the order).
 */
import type { ErrorBody } from "../core/errors.js";
import type { OpName } from "../core/ops.js";
import { unpackResult } from "../core/protocol.js";
import type { Principal } from "../core/types.js";

/** Ops only the server itself sends to actors. */
export type InternalOp =
  | "user.hello"
  | "msg.locate"
  | "presence.connect"
  | "presence.disconnect"
  | "presence.purge"
  | "presence.reconcile"
  | "presence.member"
  | "schedule.due";

/** The call id of an envelope nobody waits for (internal notices such as `schedule.due`). */
export const noReply = 0;

/** The principal of envelopes the server sends itself (never a client). */
export const systemPrincipal: Principal = {
  userId: "system",
  username: "system",
  displayName: "Colink",
  role: "admin",
};

/** A request delivered to an actor. `args` were validated at the edge. */
export interface Envelope {
  /** Correlates the reply; chosen by the caller's side of the Outlet. */
  callId: number;
  op: OpName | InternalOp;
  args: Record<string, unknown>;
  principal: Principal;
  /** The actor's key: a channel id or a user id. */
  key: string;
}

/** Which kind of actor an envelope goes to. */
export type ActorKind = "channel" | "user";

/** An envelope with its destination. */
export interface Routed extends Envelope {
  actor: ActorKind;
}

/** The answer to one envelope. */
export type Outcome = { ok: true; result: Record<string, unknown> } | { ok: false; error: ErrorBody };

/**
 * An ok answer whose result the actor's worker thread already encoded (`packResult`): the
 * main thread frames it without encoding it again (see PortOutlet).
 */
export interface PackedOutcome {
  ok: true;
  packed: Uint8Array;
  /**
   * True when the `okFrameHeadroom` bytes in front of `packed` in its buffer are free: the
   * reply's frame is then written around it (`okFrameInPlace`), not copied.
   */
  headroom?: boolean;
}

/** An answer as it reaches the transport: either form. */
export type Answer = Outcome | PackedOutcome;

/** The answer with its result as values (a packed result decoded), for callers that read it. */
export function unpacked(answer: Answer): Outcome {
  return "packed" in answer ? { ok: true, result: unpackResult(answer.packed) } : answer;
}

/** A subscription granted by a `sub` reply: subscribe, then send the replayed frames, then the reply. */
export interface Grant {
  topic: string;
  /** Encoded event frames the subscriber missed, oldest first. */
  replay: Uint8Array[];
}

/** Where actors send their output. Calls arrive in the order the actor made them. */
export interface Outlet {
  /** Answers envelope `callId`, first granting a subscription if `grant` is given. */
  reply(callId: number, outcome: Answer, grant?: Grant): void;
  /** Sends an encoded event frame to every subscriber of `topic`. */
  publish(topic: string, frame: Uint8Array): void;
  /** Removes every connection of `userId` from `topic` (access was lost). */
  revoke(userId: string, topic: string): void;
}
