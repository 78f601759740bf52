/**
 * What flows into and out of actors. Handlers never touch sockets: they answer through
 * an Outlet, which the transport implements (directly on the main thread, or through a
 * worker's message port, which keeps the order).
 */
import type { ErrorBody } from "../core/errors.js";
import type { OpName } from "../core/ops.js";
import type { Principal } from "../core/types.js";

/** Ops only the server itself sends to actors. */
export type InternalOp =
  | "user.hello"
  | "msg.locate"
  | "presence.connect"
  | "presence.disconnect"
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

/** The answer to one envelope. */
export type Outcome = { ok: true; result: Record<string, unknown> } | { ok: false; error: ErrorBody };

/** A subscription granted by a `sub` reply: subscribe, then send the replayed frames, then the reply. */
export interface Grant {
  topic: string;
  /** Encoded event frames the subscriber missed, oldest first. */
  replay: Uint8Array[];
}

/** Where actors send their output. Calls arrive in the order the actor made them. */
export interface Outlet {
  /** Answers envelope `callId`, first granting a subscription if `grant` is given. */
  reply(callId: number, outcome: Outcome, grant?: Grant): void;
  /** Sends an encoded event frame to every subscriber of `topic`. */
  publish(topic: string, frame: Uint8Array): void;
  /** Removes every connection of `userId` from `topic` (access was lost). */
  revoke(userId: string, topic: string): void;
}
