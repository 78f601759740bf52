/**
 * What flows into and out of actors. Handlers never touch sockets: they answer through
 * an Outlet, which the transport implements (directly on the main thread, or through a
 * worker's message port, which keeps the order).
 */
import type { ErrorBody } from "../core/errors.js";
import type { ArgsOf, OpName, ResultOf } from "../core/ops.js";
import { unpackResult } from "../core/protocol.js";
import type { Principal } from "../core/types.js";

/** Ops only the server itself sends to actors. */
export type InternalOp =
  | "user.hello"
  | "user.account"
  | "audit.record"
  | "msg.locate"
  | "presence.connect"
  | "presence.disconnect"
  | "presence.purge"
  | "presence.reconcile"
  | "presence.member"
  | "schedule.due"
  | "file.scanned";

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
  /** Where an audited op's request came from (`auditedOps`); absent for every other op. */
  origin?: RequestOrigin;
}

/** What changed of an account: it was deactivated (or reactivated), or its role was set. */
export interface AccountChange {
  deactivated: boolean;
  roleChanged: boolean;
}

/** The client address and request id of an audited request, for its audit entry. */
export interface RequestOrigin {
  ip: string;
  requestId: string;
}

/** The arguments of op `O`: validated at the edge for a client's op, the server's own for an internal one. */
export type ArgsFor<O extends OpName | InternalOp> = O extends OpName ? ArgsOf<O> : Record<string, unknown>;

/** The result of op `O` (an internal op's is the server's own). */
export type ResultFor<O extends OpName | InternalOp> = O extends OpName
  ? ResultOf<O>
  : Record<string, unknown>;

/** An actor's handler of op `O` over `S` (its state): typed by the op's arguments, returning `R`. */
export type OpHandler<S, O extends OpName | InternalOp, R> = (
  s: S,
  p: Principal,
  a: ArgsFor<O>,
) => R | Promise<R>;

/** A handler as its actor calls it, looked up by op name (`handlerOf`). */
export type AnyOpHandler<S, R> = (s: S, p: Principal, a: Record<string, unknown>) => R | Promise<R>;

/**
 * The handler of `op` in `table` (a record of handlers keyed by op name), or undefined.
 * Each handler is typed by its op's arguments; the envelope's were validated for its op.
 */
export function handlerOf<S, R>(table: object, op: string): AnyOpHandler<S, R> | undefined {
  return Object.hasOwn(table, op) ? (table as Record<string, AnyOpHandler<S, R>>)[op] : undefined;
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
 * main thread frames it without encoding it again (see PortOutlet in runtime/worker-host.ts).
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
  /**
   * An admin changed `userId`'s account (issue 23): every node forgets what it cached of it,
   * and closes the user's sockets (4006 when deactivated; a reconnect code when the role
   * changed, so that they come back with the new role).
   */
  accountChanged(userId: string, change: AccountChange): void;
}
