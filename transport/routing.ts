/** Which actor a validated op goes to, from the op table's `route`. */
import { createHash } from "node:crypto";
import type { Routed } from "../actors/runtime/actor-host.js";
import { IdPrefix, newId } from "../core/ids.js";
import { type OpName, ops } from "../core/ops.js";
import type { Principal } from "../core/types.js";

/**
 * The id of the DM channel of a set of people: derived from the set, so that every open
 * of the same set, even concurrent ones, reaches the same channel actor, which creates it
 * once. A hash, so it reveals nothing about who is in it.
 */
export function dmChannelId(userIds: string[]): string {
  const people = [...new Set(userIds)].sort().join(",");
  return `D${createHash("sha256").update(people).digest("base64url").slice(0, 24)}`;
}

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
    case "dm":
      return {
        actor: "channel",
        key: dmChannelId([principal.userId, ...(args.userIds as string[])]),
        op,
        args,
        principal,
      };
    case "user":
      return { actor: "user", key: principal.userId, op, args, principal };
    case "connection":
      return null;
  }
}
