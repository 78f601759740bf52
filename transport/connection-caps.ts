/**
 * The caps on open WebSocket connections on this node: per user
 * (`COLINK_MAX_CONNS_PER_USER`) and per client address (`COLINK_MAX_CONNS_PER_IP`). A
 * slot is held from the upgrade (the address's) or the authentication (the user's) until
 * the connection closes, so a burst of upgrades in flight cannot pass the cap together.
 * The counts are this node's: a user's connections spread over nodes are capped per node.
 */
import { ColinkError } from "../core/errors.js";

/**
 * How long a refused connection is told to wait (`retryAfterMs`, `Retry-After`): a cap
 * frees up when a connection closes, which no window tells, so a fixed few seconds.
 */
export const connectionRetryAfterMs = 5000;

/** The `rate_limited` refusal of a connection over a cap (`scope`: whose). */
export function tooManyConnections(scope: "user" | "ip", cap: number): ColinkError {
  const whose = scope === "user" ? "this user" : "this address";
  const variable = scope === "user" ? "COLINK_MAX_CONNS_PER_USER" : "COLINK_MAX_CONNS_PER_IP";
  return new ColinkError(
    "rate_limited",
    `too many connections of ${whose} on this node (${variable}=${cap})`,
    {
      retryAfterMs: connectionRetryAfterMs,
      limit: "connections",
      scope,
    },
  );
}

/** Open-connection counts by user and by address, against their caps (0 = none). */
export class ConnectionCaps {
  private readonly byUser = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();

  constructor(
    readonly perUser: number,
    readonly perAddress: number,
  ) {}

  /** Takes a slot of `address`; false (nothing taken) when it holds its cap already. */
  takeAddress(address: string): boolean {
    return take(this.byAddress, address, this.perAddress);
  }

  releaseAddress(address: string): void {
    release(this.byAddress, address);
  }

  /** Takes a slot of `userId`; false (nothing taken) when it holds its cap already. */
  takeUser(userId: string): boolean {
    return take(this.byUser, userId, this.perUser);
  }

  releaseUser(userId: string): void {
    release(this.byUser, userId);
  }
}

function take(counts: Map<string, number>, key: string, cap: number): boolean {
  const held = counts.get(key) ?? 0;
  if (cap > 0 && held >= cap) return false;
  counts.set(key, held + 1);
  return true;
}

function release(counts: Map<string, number>, key: string): void {
  const held = counts.get(key) ?? 0;
  if (held <= 1) counts.delete(key);
  else counts.set(key, held - 1);
}
