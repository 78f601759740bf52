/**
 * The event stream's records (docs/events.md): each channel event becomes one record on
 * the seed's topic for its kind, keyed by the channel id so that Kafka keeps a channel's
 * order within its partition, with a stable id (`<channelId>:<seq>`) that consumers
 * deduplicate by (the relay delivers at least once).
 */
import type { ChannelEvent, ChannelEventType } from "./types.js";

/** The seed's topics that channel events go to. */
export const streamTopicOf: Record<ChannelEventType, string> = {
  "channel.created": "channel.events",
  "channel.updated": "channel.events",
  "member.joined": "channel.events",
  "member.left": "channel.events",
  "message.created": "message.events",
  "message.updated": "message.events",
  "message.deleted": "message.events",
  "pin.added": "message.events",
  "pin.removed": "message.events",
  "thread.updated": "thread.events",
  "reaction.added": "reaction.events",
  "reaction.removed": "reaction.events",
};

/** One event as the stream carries it. */
export interface StreamEvent {
  /** `<channelId>:<seq>`: the same event always has the same id. */
  id: string;
  type: ChannelEventType;
  /** Epoch ms of the commit that logged it. */
  time: number;
  /** Who did it, when the event says (`by`, else `userId`, else the message's author, else the channel's creator). */
  actor: string | null;
  channelId: string;
  seq: number;
  /** The event's data, as channel subscribers get it (without `seq`). */
  payload: Record<string, unknown>;
}

/** A record for the stream: topic, key and the event. */
export interface StreamRecord {
  topic: string;
  key: string;
  event: StreamEvent;
}

/** Who an event's data names as its doer (`thread.updated` names nobody). */
function actorOf(data: Record<string, unknown>): string | null {
  for (const field of ["by", "userId"]) {
    if (typeof data[field] === "string") return data[field] as string;
  }
  const message = data.message as { authorId?: unknown } | undefined;
  if (typeof message?.authorId === "string") return message.authorId;
  const channel = data.channel as { createdBy?: unknown } | undefined;
  return typeof channel?.createdBy === "string" ? channel.createdBy : null;
}

/** The stream record of a channel event. */
export function streamRecordOf(event: ChannelEvent): StreamRecord {
  return {
    topic: streamTopicOf[event.type],
    key: event.channelId,
    event: {
      id: `${event.channelId}:${event.seq}`,
      type: event.type,
      time: event.at,
      actor: actorOf(event.data),
      channelId: event.channelId,
      seq: event.seq,
      payload: event.data,
    },
  };
}
