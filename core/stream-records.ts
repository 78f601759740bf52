/**
 * The event stream's records (docs/events.md): each channel event becomes one record on
 * the seed's topic for its kind, keyed by the channel id so that Kafka keeps a channel's
 * order within its partition, with a stable id (`<channelId>:<seq>`) that consumers
 * deduplicate by (the relay delivers at least once). A user's changes (from the user-event
 * outbox) and presence changes are keyed by the user id instead.
 */
import {
  type AuditEntry,
  type ChannelEvent,
  type ChannelEventType,
  ChannelEventTypes,
  type Presence,
  type UserEvent,
  type UserEventType,
  UserEventTypes,
} from "./types.js";

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

/** The topics of a user's events. */
export const userStreamTopicOf: Record<UserEventType | "presence.updated", string> = {
  "user.created": "user.events",
  "user.updated": "user.events",
  "settings.updated": "user.events",
  "file.uploaded": "file.events",
  "file.scanned": "file.events",
  "file.purged": "file.events",
  "presence.updated": "presence.events",
};

/** The topic of the audit log's entries. */
export const auditStreamTopic = "audit.events";

/** Every topic the stream writes to. */
export const streamTopics: readonly string[] = [
  ...new Set([...Object.values(streamTopicOf), ...Object.values(userStreamTopicOf), auditStreamTopic]),
];

/** One channel event as the stream carries it. */
export interface ChannelStreamEvent {
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

/** One change to a user, or of their presence, as the stream carries it. */
export interface UserStreamEvent {
  /** `user:<outbox id>` for a user event, `presence:<userId>:<since>:<status>` for presence. */
  id: string;
  type: UserEventType | "presence.updated";
  time: number;
  /** The user themself: only they change their profile, settings and presence. */
  actor: string;
  userId: string;
  /** The outbox id for a user event (growing, with gaps); null for presence. */
  seq: number | null;
  /** `{user}`, `{settings}`, or the presence (`{userId, status, since}`). */
  payload: Record<string, unknown>;
}

/** One audit log entry as the stream carries it (docs/events.md). */
export interface AuditStreamEvent {
  /** `audit:<entry id>`. */
  id: string;
  /** The entry's action (`user.deactivate`, `auth.login`, …). */
  type: string;
  time: number;
  actor: string;
  /** The entry's id as a number: the chain's order. */
  seq: number;
  /** The whole entry, hashes included, so that a consumer can check the chain. */
  payload: AuditEntry;
}

/** A record of the audit log for the stream (topic `audit.events`, key `audit`). */
export interface AuditStreamRecord {
  topic: string;
  key: string;
  event: AuditStreamEvent;
}

/** One event as the stream carries it. */
export type StreamEvent = ChannelStreamEvent | UserStreamEvent;

/** A record for the stream: topic, key (a channel or user id) and the event. */
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

/** The stream record of a change to a user, from the user-event outbox. */
export function userStreamRecordOf(event: UserEvent): StreamRecord {
  return {
    topic: userStreamTopicOf[event.type],
    key: event.userId,
    event: {
      id: `user:${event.id}`,
      type: event.type,
      time: event.at,
      actor: event.userId,
      userId: event.userId,
      seq: event.id,
      payload: event.data,
    },
  };
}

/** The stream record of a presence change. */
export function presenceStreamRecordOf(presence: Presence): StreamRecord {
  return {
    topic: userStreamTopicOf["presence.updated"],
    key: presence.userId,
    event: {
      id: `presence:${presence.userId}:${presence.since}:${presence.status}`,
      type: "presence.updated",
      time: presence.since,
      actor: presence.userId,
      userId: presence.userId,
      seq: null,
      payload: { ...presence },
    },
  };
}

/** Object fields of a parsed record value, by name. */
type Fields = Record<string, unknown>;

const channelEventTypes = new Set<string>(ChannelEventTypes);
const userEventTypes = new Set<string>([...UserEventTypes, "presence.updated"]);

/**
 * The stream event a record's value (JSON) holds, or null when it is not one this stream
 * writes (a foreign producer's record, or a malformed one): consumers skip those.
 */
export function parseStreamEvent(value: string): StreamEvent | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const e = parsed as Fields;
  const common =
    typeof e.id === "string" &&
    typeof e.type === "string" &&
    typeof e.time === "number" &&
    typeof e.payload === "object" &&
    e.payload !== null;
  if (!common) return null;
  if (typeof e.channelId === "string") {
    const ok =
      channelEventTypes.has(e.type as string) && Number.isSafeInteger(e.seq) && (e.seq as number) > 0;
    return ok ? (parsed as ChannelStreamEvent) : null;
  }
  if (typeof e.userId === "string") {
    const ok = userEventTypes.has(e.type as string) && (e.seq === null || Number.isSafeInteger(e.seq));
    return ok ? (parsed as UserStreamEvent) : null;
  }
  return null;
}

/** True for an event of a channel's log (else it is a user's change or presence). */
export function isChannelStreamEvent(event: StreamEvent): event is ChannelStreamEvent {
  return "channelId" in event;
}

/** The channel event a stream event carries: the inverse of `streamRecordOf`. */
export function channelEventOf(event: ChannelStreamEvent): ChannelEvent {
  return {
    channelId: event.channelId,
    seq: event.seq,
    type: event.type,
    data: event.payload,
    at: event.time,
  };
}

/**
 * The user event a stream event carries (the inverse of `userStreamRecordOf`), or null for
 * presence, which no outbox holds.
 */
export function userEventOf(event: UserStreamEvent): UserEvent | null {
  if (event.type === "presence.updated" || event.seq === null) return null;
  return { id: event.seq, userId: event.userId, type: event.type, data: event.payload, at: event.time };
}

/**
 * The stream record of an audit log entry. Every entry has the one key `audit`, so that they
 * share a partition and the topic keeps the chain's order.
 */
export function auditStreamRecordOf(entry: AuditEntry): AuditStreamRecord {
  return {
    topic: auditStreamTopic,
    key: "audit",
    event: {
      id: `audit:${entry.id}`,
      type: entry.action,
      time: entry.at,
      actor: entry.actorId,
      seq: Number(entry.id),
      payload: entry,
    },
  };
}
