import { describe, expect, it } from "vitest";
import { appendHits, groupHitsByChannel } from "./search-results.js";

const hit = (messageId: string, channelId: string) => ({ messageId, channelId });

describe("search results", () => {
  it("groups hits by channel in the order the channels first appear, keeping each hit's order", () => {
    const hits = [hit("m1", "A"), hit("m2", "B"), hit("m3", "A"), hit("m4", "C"), hit("m5", "B")];
    expect(groupHitsByChannel(hits)).toEqual([
      { channelId: "A", hits: [hit("m1", "A"), hit("m3", "A")] },
      { channelId: "B", hits: [hit("m2", "B"), hit("m5", "B")] },
      { channelId: "C", hits: [hit("m4", "C")] },
    ]);
    expect(groupHitsByChannel([])).toEqual([]);
  });

  it("appends a further page without doubles", () => {
    expect(appendHits([hit("m1", "A"), hit("m2", "A")], [hit("m2", "A"), hit("m3", "B")])).toEqual([
      hit("m1", "A"),
      hit("m2", "A"),
      hit("m3", "B"),
    ]);
  });
});
