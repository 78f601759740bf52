/** Which actor a validated op goes to, from the op table's `route`. */
import { createHash } from "node:crypto";
import type { Routed } from "../actors/runtime/actor-host.js";
import { fail } from "../core/errors.js";
import { channelOfFileId, channelOfFlagId, IdPrefix, isAvatarFileId, isUserId, newId } from "../core/ids.js";
import { type OpName, ops } from "../core/ops.js";
import type { Principal } from "../core/types.js";

/**
 * The id of the DM channel of a set of people: derived from the set, so that every open
 * of the same set, even concurrent ones, reaches the same channel actor, which creates it
 * once. A hash, so it reveals nothing about who is in it.
 */
export function dmChannelId(userIds: string[]): string {
  const people = [...new Set(userIds)].sort();
  // The ids are joined with `,`, which no user id holds (core/ids.ts): else ["a", "b,c"]
  // and ["a,b", "c"] would share a channel id. Token subjects and op args are checked at
  // the edge already; this keeps the derivation sound on its own.
  if (!people.every(isUserId)) throw fail.badRequest("a user id has characters user ids cannot have");
  return `D${createHash("sha256").update(people.join(",")).digest("base64url").slice(0, 24)}`;
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
    case "file": {
      // An avatar is its owner's: the caller's user actor looks it up. Any other file's
      // channel is in its id; a malformed id finds no file there (not_found).
      const fileId = args.fileId as string;
      if (isAvatarFileId(fileId)) return { actor: "user", key: principal.userId, op, args, principal };
      return { actor: "channel", key: channelOfFileId(fileId) ?? "C", op, args, principal };
    }
    case "message":
      // The transport found the channel first when the caller did not name it (located-messages.ts).
      if (typeof args.channelId !== "string") throw new Error(`${op} reached routing without its channel`);
      return { actor: "channel", key: args.channelId, op, args, principal };
    case "flag":
      // A flag's channel is in its id, as a file's is; a malformed id finds no flag there.
      return { actor: "channel", key: channelOfFlagId(args.flagId as string) ?? "C", op, args, principal };
    case "user":
      return { actor: "user", key: principal.userId, op, args, principal };
    case "targetUser":
      return { actor: "user", key: args.userId as string, op, args, principal };
    case "connection":
      return null;
  }
}
