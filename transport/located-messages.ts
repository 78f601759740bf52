/**
 * Calls whose caller named a message but not its channel: the server finds the channel
 * (`msg.locate` at the caller's user actor), and the answer must not tell the caller more
 * than a wrong message id would. Shared by the HTTP routes that locate (`locateBy`) and the
 * WebSocket ops routed by message (`route: "message"`).
 */
import type { Answer, Outcome } from "../actors/envelope.js";
import { type ErrorBody, fail } from "../core/errors.js";
import { type OpName, ops } from "../core/ops.js";
import type { Principal } from "../core/types.js";
import type { Dispatcher } from "./dispatcher.js";

/** What a located call names: a message, or a thread by its root. */
export type LocateBy = "messageId" | "rootId";

/** The one answer of a call that names a message (or thread root) the caller cannot see. */
export function locatedMiss(locateBy: LocateBy): ErrorBody {
  return fail.notFound(locateBy === "rootId" ? "thread" : "message").toBody();
}

/** What a channel the caller may not read answers (channel-state.ts `readable`). */
const channelMiss = fail.notFound("channel").toBody();

/**
 * The answer of a call whose channel the server found from a message id: the caller never
 * named that channel, so "channel not found" would tell them that the message exists in a
 * channel they cannot read. It becomes the answer for an id that names no message, as the
 * WebSocket ops (where the caller names the channel) never tell either.
 */
export function hideLocatedChannel<A extends Answer>(outcome: A, locateBy: LocateBy): A | Outcome {
  if ("packed" in outcome || outcome.ok) return outcome;
  if (outcome.error.code !== channelMiss.code || outcome.error.message !== channelMiss.message)
    return outcome;
  return { ok: false, error: locatedMiss(locateBy) };
}

/** Whether a WebSocket op must have its channel found first: routed by message, without `channelId`. */
export function needsLocating(op: OpName, args: Record<string, unknown>): boolean {
  return ops[op].route === "message" && args.channelId === undefined;
}

/**
 * The channel that holds `messageId`, or the refusal to answer: `not_found` (as for a
 * message in a channel the caller cannot read: the channel decides that), or the
 * locating actor's own error.
 */
export async function locateChannel(
  dispatcher: Dispatcher,
  messageId: unknown,
  principal: Principal,
  locateBy: LocateBy = "messageId",
): Promise<{ channelId: string } | { error: ErrorBody }> {
  const outcome = await dispatcher.ask({
    actor: "user",
    key: principal.userId,
    op: "msg.locate",
    args: { messageId },
    principal,
  });
  if (outcome.ok) return { channelId: outcome.result.channelId as string };
  return { error: outcome.error.code === "not_found" ? locatedMiss(locateBy) : outcome.error };
}
