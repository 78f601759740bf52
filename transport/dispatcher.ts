/**
 * The transport's side of the actors: it numbers every call, remembers who waits for
 * the answer (a WebSocket request or an HTTP response), and implements the Outlet that
 * the actors answer through. Calls reach it in the actor's order, so a `sub` grant is
 * applied before any later event of that channel is published.
 */

import {
  type AccountChange,
  type Answer,
  type Grant,
  type Outcome,
  type Outlet,
  unpacked,
} from "../actors/envelope.js";
import type { Routed } from "../actors/runtime/actor-host.js";
import type { ActorSystem } from "../actors/runtime/actor-system.js";
import type { ErrorBody } from "../core/errors.js";

/** Who waits for a call's answer. */
export interface Waiter {
  /** Called once with the outcome and, for `sub`, the subscription grant. */
  settle(outcome: Answer, grant?: Grant): void;
}

/** Where published frames and revocations go (the uWS app and its connections). */
export interface Fanout {
  publish(topic: string, frame: Uint8Array): void;
  revoke(userId: string, topic: string): void;
  accountChanged(userId: string, change: AccountChange): void;
}

/** Routes calls to actors and their answers back. */
export class Dispatcher implements Outlet {
  private nextCallId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private system: ActorSystem | null = null;

  constructor(private readonly fanout: Fanout) {}

  /** Connects the actor system (created after the dispatcher, since it needs the Outlet). */
  attach(system: ActorSystem): void {
    this.system = system;
  }

  /** Sends a call to its actor; `waiter` hears the answer. Returns the call id (the request id in the logs). */
  call(env: Omit<Routed, "callId">, waiter: Waiter): number {
    const callId = this.nextCallId++;
    if (this.nextCallId > 0x7fff_ffff) this.nextCallId = 1;
    this.waiting.set(callId, waiter);
    // A literal of the fields rather than a spread of `env`: this runs for every request,
    // and a spread costs several times as much.
    const { actor, key, op, args, principal, origin } = env;
    this.system!.deliver(
      origin === undefined
        ? { callId, actor, key, op, args, principal }
        : { callId, actor, key, op, args, principal, origin },
    );
    return callId;
  }

  /** Like `call`, as a promise of the outcome (for HTTP and internal calls). */
  ask(env: Omit<Routed, "callId">): Promise<Outcome> {
    return new Promise((resolve) => this.call(env, { settle: (outcome) => resolve(unpacked(outcome)) }));
  }

  /** Calls still waiting for an answer. */
  get pending(): number {
    return this.waiting.size;
  }

  reply(callId: number, outcome: Answer, grant?: Grant): void {
    const waiter = this.waiting.get(callId);
    if (!waiter) return;
    this.waiting.delete(callId);
    waiter.settle(outcome, grant);
  }

  publish(topic: string, frame: Uint8Array): void {
    this.fanout.publish(topic, frame);
  }

  revoke(userId: string, topic: string): void {
    this.fanout.revoke(userId, topic);
  }

  accountChanged(userId: string, change: AccountChange): void {
    this.fanout.accountChanged(userId, change);
  }
}

/** The error body of a failed outcome, or null. */
export function errorOf(outcome: Outcome): ErrorBody | null {
  return outcome.ok ? null : outcome.error;
}
