import { describe, expect, it } from "vitest";
import type { IndexedUser, SearchDocument, SearchIndex, StoredMessage } from "../../core/ports.js";
import { streamRecordOf, userStreamRecordOf } from "../../core/stream-records.js";
import { indexChangesOf, searchFeedTopics, streamSearchIndexing } from "./search-indexer.js";
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

/** A fake index (named so) that keeps what it is written, the newest version winning as in OpenSearch. */
class VersionedIndexFake implements Pick<SearchIndex, "index" | "remove" | "indexUsers"> {
  readonly docs = new Map<string, SearchDocument>();
  readonly users = new Map<string, IndexedUser>();
  async index(docs: SearchDocument[]): Promise<void> {
    for (const d of docs)
      if ((this.docs.get(d.messageId)?.version ?? 0) < d.version) this.docs.set(d.messageId, d);
  }
  async remove(ids: string[]): Promise<void> {
    for (const id of ids) this.docs.delete(id);
  }
  async indexUsers(users: IndexedUser[]): Promise<void> {
    for (const u of users) this.users.set(u.user.id, u);
  }
}

describe("streamSearchIndexing", () => {
  it("consumes the topics of messages, reactions, threads and users", () => {
    expect([...searchFeedTopics].sort()).toEqual([
      "message.events",
      "reaction.events",
      "thread.events",
      "user.events",
    ]);
  });

  it("indexes a batch of stream events: duplicates and topic order do not matter", async () => {
    const index = new VersionedIndexFake();
    const stored = new Map<string, StoredMessage>([
      ["M1", { ...loggedMessage("M1", 1, "one"), reactions: [] }],
    ]);
    const handle = streamSearchIndexing(index, { getMessage: async (_c, id) => stored.get(id) ?? null });
    const created = streamRecordOf(
      loggedEvent(1, "message.created", { message: loggedMessage("M1", 1, "one") }),
    );
    const edited = streamRecordOf(
      loggedEvent(3, "message.updated", {
        message: { ...loggedMessage("M1", 1, "one, edited"), editedAt: 3 },
      }),
    );
    const other = streamRecordOf(
      loggedEvent(2, "message.created", { message: loggedMessage("M2", 2, "two") }),
    );
    const deleted = streamRecordOf(loggedEvent(4, "message.deleted", { messageId: "M2" }));
    const person = userStreamRecordOf({
      id: 7,
      userId: "U1",
      type: "user.updated",
      data: { user: { id: "U1", username: "ann" } },
      at: 1,
    });
    // The edit comes before the creation it follows (another batch), and twice.
    await handle([edited.event, edited.event, person.event]);
    await handle([created.event, other.event, deleted.event, created.event]);
    expect([...index.docs.values()].map((d) => [d.messageId, d.text, d.version])).toEqual([
      ["M1", "one, edited", 3],
    ]);
    expect(index.users.get("U1")?.version).toBe(7);
    // A reaction (on its own topic) reads the message again, at the reaction's seq.
    stored.set("M1", {
      ...stored.get("M1")!,
      text: "one, edited",
      reactions: [{ emoji: "tada", users: ["U2"] }],
    });
    await handle([
      streamRecordOf(loggedEvent(5, "reaction.added", { messageId: "M1", emoji: "tada", userId: "U2" }))
        .event,
    ]);
    expect(index.docs.get("M1")).toMatchObject({ version: 5, hasReaction: true });
  });
});
