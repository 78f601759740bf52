import { describe, expect, it } from "vitest";
import { newMessage } from "../../core/message-rules.js";
import type { ChannelEvent, Message } from "../../core/types.js";
import { indexChangesOf } from "./search-indexer.js";

const message = (id: string, seq: number, text: string): Message =>
  newMessage({ id, channelId: "C1", seq, authorId: "U1", text, clientMsgId: id, createdAt: seq });
const event = (seq: number, type: ChannelEvent["type"], data: Record<string, unknown>): ChannelEvent => ({
  channelId: "C1",
  seq,
  type,
  data,
  at: seq,
});

describe("indexChangesOf", () => {
  it("keeps the last word on each message: created, edited, deleted, reread", () => {
    const changes = indexChangesOf([
      event(1, "message.created", { message: message("M1", 1, "one") }),
      event(2, "message.created", { message: message("M2", 2, "two") }),
      event(3, "message.updated", { message: { ...message("M1", 1, "one, edited"), editedAt: 3 } }),
      event(4, "message.deleted", { messageId: "M2" }),
      event(5, "message.created", { message: message("M3", 5, "three") }),
      event(6, "reaction.added", { messageId: "M3", emoji: "tada", userId: "U2" }),
      event(7, "reaction.added", { messageId: "M2", emoji: "tada", userId: "U2" }),
      event(8, "member.joined", { userId: "U9" }),
    ]);
    expect(changes.docs.map((d) => [d.messageId, d.text, d.version])).toEqual([["M1", "one, edited", 3]]);
    expect(changes.removed).toEqual(["M2"]);
    expect([...changes.reread]).toEqual([["M3", 6]]);
  });

  it("rereads a thread's root when its thread changes", () => {
    const changes = indexChangesOf([event(9, "thread.updated", { rootId: "M1", replyCount: 1 })]);
    expect([...changes.reread]).toEqual([["M1", 9]]);
  });
});
