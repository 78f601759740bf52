import { describe, expect, it } from "vitest";
import { streamRecordOf, streamTopicOf } from "./stream-records.js";
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
