/**
 * What crosses the cluster bus, and on which bus topic. A node's inbox carries the calls
 * forwarded to it and the replies to the calls it forwarded; the notice board, which
 * every node listens to, carries what all must know; one bus topic per Colink topic
 * carries that topic's event frames, as they are. Messages are MessagePack.
 */
import { decode, encode } from "@msgpack/msgpack";
import type { AccountChange, Answer, Grant, Routed } from "../../envelope.js";
import type { PresenceEntry } from "../../user/presence.js";

/** Messages to one node. */
export type NodeMessage =
  | { t: "req"; from: string; env: Routed; hops: number }
  | { t: "rep"; callId: number; outcome: Answer; grant?: Grant };

/** Messages to every node. */
export type Notice =
  | { t: "revoke"; userId: string; topic: string }
  | { t: "released"; node: string; shards: number[] }
  | { t: "left"; node: string }
  | { t: "presence"; list: PresenceEntry[] }
  | { t: "signout"; userId: string; session: string }
  | { t: "account"; userId: string; change: AccountChange };

/** How the bus topics that carry events start. */
const eventPrefix = "t:";

/** The bus topic of a node's inbox. */
export const inboxOf = (nodeId: string) => `n:${nodeId}`;

/** The bus topic every node listens to (notices). */
export const everyone = "all";

/** The bus topic that carries the events of a Colink topic. */
export const eventTopic = (topic: string) => `${eventPrefix}${topic}`;

/** The Colink topic whose events a bus topic carries, or null for an inbox or the notice board. */
export function eventTopicOf(busTopic: string): string | null {
  return busTopic.startsWith(eventPrefix) ? busTopic.slice(eventPrefix.length) : null;
}

const encodeOptions = { ignoreUndefined: true } as const;

/** A message or notice as it goes on the bus. */
export function encodeBusMessage(message: NodeMessage | Notice): Uint8Array {
  return encode(message, encodeOptions);
}

/** A message or notice read off the bus, or null when it cannot be read. */
export function decodeBusMessage(payload: Uint8Array): NodeMessage | Notice | null {
  try {
    return decode(payload) as NodeMessage | Notice;
  } catch {
    return null;
  }
}

/** The reply to a call forwarded to this node, as it crosses to the node that asked. */
export function replyMessage(callId: number, outcome: Answer, grant?: Grant): NodeMessage {
  // `headroom` speaks of a buffer of this process: the bytes reach the asking node in
  // another one, so they cross as a plain packed result.
  const sent: Answer = "packed" in outcome ? { ok: true, packed: outcome.packed } : outcome;
  return grant ? { t: "rep", callId, outcome: sent, grant } : { t: "rep", callId, outcome: sent };
}
