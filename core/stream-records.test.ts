import { describe, expect, it } from "vitest";
import {
  channelEventOf,
  isChannelStreamEvent,
  parseStreamEvent,
  presenceStreamRecordOf,
  streamRecordOf,
  streamTopicOf,
  userEventOf,
  userStreamRecordOf,
} from "./stream-records.js";
import { ChannelEventTypes } from "./types.js";

describe("streamRecordOf", () => {
  it("keys by channel, ids by channel and seq, and names who did it", () => {
    const record = streamRecordOf({
      channelId: "C1",
      seq: 7,
      type: "message.created",
      data: { message: { id: "M1", authorId: "U1", text: "hi" } },
      at: 1000,
    });
    expect(record).toEqual({
      topic: "message.events",
      key: "C1",
      event: {
        id: "C1:7",
        type: "message.created",
        time: 1000,
        actor: "U1",
        channelId: "C1",
        seq: 7,
        payload: { message: { id: "M1", authorId: "U1", text: "hi" } },
      },
    });
    const kicked = streamRecordOf({
      channelId: "C1",
      seq: 8,
      type: "member.left",
      data: { userId: "U2", by: "U3" },
      at: 2,
    });
    expect(kicked.event.actor).toBe("U3");
    expect(
      streamRecordOf({ channelId: "C1", seq: 9, type: "channel.updated", data: {}, at: 3 }).event.actor,
    ).toBeNull();
  });

  it("sends every kind of channel event to one of the seed's topics", () => {
    for (const type of ChannelEventTypes) {
      expect(["channel.events", "message.events", "thread.events", "reaction.events"]).toContain(
        streamTopicOf[type],
      );
    }
  });
});

describe("reading records back", () => {
  /** What a consumer gets of a record: its value as Kafka carries it (JSON), parsed again. */
  const throughKafka = (value: unknown) => parseStreamEvent(JSON.stringify(value));

  it("turns every kind of channel event back into the event it was made of", () => {
    for (const [i, type] of ChannelEventTypes.entries()) {
      const event = {
        channelId: "C9",
        seq: i + 1,
        type,
        data: { message: { id: `M${i}`, authorId: "U1", text: "héllo" }, messageId: `M${i}` },
        at: 1_700_000_000_000 + i,
      };
      const read = throughKafka(streamRecordOf(event).event);
      expect(read).not.toBeNull();
      expect(isChannelStreamEvent(read!)).toBe(true);
      if (!isChannelStreamEvent(read!)) continue;
      expect(channelEventOf(read)).toEqual(event);
    }
  });

  it("turns user events back, and presence into nothing", () => {
    const event = {
      id: 41,
      userId: "U7",
      type: "user.updated" as const,
      data: { user: { id: "U7", displayName: "Ann" } },
      at: 5,
    };
    const read = throughKafka(userStreamRecordOf(event).event);
    expect(read && !isChannelStreamEvent(read) ? userEventOf(read) : "not a user event").toEqual(event);
    const presence = throughKafka(presenceStreamRecordOf({ userId: "U7", status: "online", since: 9 }).event);
    expect(
      presence && !isChannelStreamEvent(presence) ? userEventOf(presence) : "not a user event",
    ).toBeNull();
  });

  it("refuses values this stream does not write", () => {
    for (const value of [
      "not json",
      "null",
      "[1,2]",
      JSON.stringify({ id: "x", type: "message.created", time: 1, payload: {} }),
      JSON.stringify({ id: "x", type: "nope", time: 1, channelId: "C", seq: 1, payload: {} }),
      JSON.stringify({ id: "x", type: "message.created", time: 1, channelId: "C", seq: 0, payload: {} }),
      JSON.stringify({ id: "x", type: "message.created", time: "1", channelId: "C", seq: 1, payload: {} }),
      JSON.stringify({ id: "x", type: "user.updated", time: 1, userId: "U", seq: 1.5, payload: {} }),
    ]) {
      expect(parseStreamEvent(value), value).toBeNull();
    }
  });
});
