import { describe, expect, it } from "vitest";
import { indexChangesOf } from "./search-indexer.js";
import { loggedEvent, loggedMessage } from "./test-log.js";

describe("indexChangesOf", () => {
  it("keeps the last word on each message: created, edited, deleted, reread", () => {
    const changes = indexChangesOf([
      loggedEvent(1, "message.created", { message: loggedMessage("M1", 1, "one") }),
      loggedEvent(2, "message.created", { message: loggedMessage("M2", 2, "two") }),
      loggedEvent(3, "message.updated", {
        message: { ...loggedMessage("M1", 1, "one, edited"), editedAt: 3 },
      }),
      loggedEvent(4, "message.deleted", { messageId: "M2" }),
      loggedEvent(5, "message.created", { message: loggedMessage("M3", 5, "three") }),
      loggedEvent(6, "reaction.added", { messageId: "M3", emoji: "tada", userId: "U2" }),
      loggedEvent(7, "reaction.added", { messageId: "M2", emoji: "tada", userId: "U2" }),
      loggedEvent(8, "member.joined", { userId: "U9" }),
    ]);
    expect(changes.docs.map((d) => [d.messageId, d.text, d.version])).toEqual([["M1", "one, edited", 3]]);
    expect(changes.removed).toEqual(["M2"]);
    expect([...changes.reread]).toEqual([["M3", 6]]);
  });

  it("rereads a thread's root when its thread changes", () => {
    const changes = indexChangesOf([loggedEvent(9, "thread.updated", { rootId: "M1", replyCount: 1 })]);
    expect([...changes.reread]).toEqual([["M1", 9]]);
  });
});
