/** Which actor a validated op goes to, from the op table's `route`. */
import type { Routed } from "../actors/runtime/actor-host.js";
import { IdPrefix, newId } from "../core/ids.js";
import { type OpName, ops } from "../core/ops.js";
import type { Principal } from "../core/types.js";

/** The envelope (without call id) for an actor op; null for ops the connection handles itself. */
export function routeOp(
  op: OpName,
  args: Record<string, unknown>,
  principal: Principal,
): Omit<Routed, "callId"> | null {
  switch (ops[op].route) {
    case "channel":
      return { actor: "channel", key: args.channelId as string, op, args, principal };
    case "newChannel":
      // The new channel's id is chosen here, so the create lands on that channel's actor.
      return { actor: "channel", key: newId(IdPrefix.channel), op, args, principal };
    case "user":
      return { actor: "user", key: principal.userId, op, args, principal };
    case "connection":
      return null;
  }
}
