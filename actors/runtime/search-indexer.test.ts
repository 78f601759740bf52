import { describe, expect, it } from "vitest";
import { silentLogger } from "../../core/logger.js";
import { newMessage } from "../../core/message-rules.js";
import type { SearchDocument, SearchIndex } from "../../core/ports.js";
import type { ChannelEvent, Message } from "../../core/types.js";
import { indexChangesOf, SearchIndexer } from "./search-indexer.js";

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

/** A fake index (named so): fails its first `failures` writes, then keeps what it is given. */
class FlakyIndexFake implements SearchIndex {
  readonly docs = new Map<string, SearchDocument>();
  constructor(private failures: number) {}
  async index(docs: SearchDocument[]): Promise<void> {
    if (this.failures-- > 0) throw new Error("index unreachable");
    for (const d of docs) this.docs.set(d.messageId, d);
  }
  async remove(ids: string[]): Promise<void> {
    for (const id of ids) this.docs.delete(id);
  }
  async search(): Promise<{ hits: []; hasMore: false }> {
    return { hits: [], hasMore: false };
  }
}

describe("SearchIndexer", () => {
  it("does not move its position while the index fails, and catches up once it answers", async () => {
    const log = [1, 2, 3].map((seq) =>
      event(seq, "message.created", { message: message(`M${seq}`, seq, "hi") }),
    );
    let position = 0;
    const index = new FlakyIndexFake(1);
    const indexer = new SearchIndexer(
      {
        feed: {
          feedBacklog: async () =>
            position < 3 ? [{ channelId: "C1", handledSeq: position, lastSeq: 3 }] : [],
          markFed: async (_f, _c, seq) => {
            position = Math.max(position, seq);
          },
        },
        log: { readEvents: async (_c, after, limit) => log.filter((e) => e.seq > after).slice(0, limit) },
        history: { getMessage: async () => null },
        index,
        owns: () => true,
        logger: silentLogger,
      },
      60_000,
    );
    try {
      expect(await indexer.poll()).toBe(0);
      expect(position).toBe(0);
      expect(await indexer.poll()).toBe(3);
      expect(position).toBe(3);
      expect([...index.docs.keys()]).toEqual(["M1", "M2", "M3"]);
      expect(await indexer.poll()).toBe(0);
    } finally {
      indexer.stop();
    }
  });
});
