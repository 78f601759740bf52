/** Builders of channel-log entries for the tests of what follows the logs (channel C1). */
import { newMessage } from "../../core/message-rules.js";
import type { ChannelEvent, Message } from "../../core/types.js";

/** A message of channel C1 by U1, created at its seq. */
export const loggedMessage = (id: string, seq: number, text: string): Message =>
  newMessage({ id, channelId: "C1", seq, authorId: "U1", text, clientMsgId: id, createdAt: seq });

/** An event of channel C1's log. */
export const loggedEvent = (
  seq: number,
  type: ChannelEvent["type"],
  data: Record<string, unknown>,
): ChannelEvent => ({
  channelId: "C1",
  seq,
  type,
  data,
  at: seq,
});
