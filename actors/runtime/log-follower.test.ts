import { describe, expect, it } from "vitest";
import { silentLogger } from "../../core/logger.js";
import type { SearchDocument, SearchIndex } from "../../core/ports.js";
import { LogFollower } from "./log-follower.js";
import { searchIndexing } from "./search-indexer.js";
import { loggedEvent, loggedMessage } from "./test-log.js";

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

describe("following the logs into the search index", () => {
  it("does not move its position while the index fails, and catches up once it answers", async () => {
    const log = [1, 2, 3].map((seq) =>
      loggedEvent(seq, "message.created", { message: loggedMessage(`M${seq}`, seq, "hi") }),
    );
    let position = 0;
    const index = new FlakyIndexFake(1);
    const indexer = new LogFollower(
      {
        name: "search",
        feed: {
          feedBacklog: async () =>
            position < 3 ? [{ channelId: "C1", handledSeq: position, lastSeq: 3 }] : [],
          markFed: async (_f, _c, seq) => {
            position = Math.max(position, seq);
          },
        },
        log: { readEvents: async (_c, after, limit) => log.filter((e) => e.seq > after).slice(0, limit) },
        handle: searchIndexing(index, { getMessage: async () => null }),
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
