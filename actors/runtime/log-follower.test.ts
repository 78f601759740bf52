import { describe, expect, it } from "vitest";
import { silentLogger } from "../../core/logger.js";
import type { SearchDocument, SearchIndex } from "../../core/ports.js";
import { LogFollower } from "./log-follower.js";
import { searchIndexing } from "./search-indexer.js";
import { loggedEvent, loggedMessage } from "./test-log.js";

/** A fake index (named so): fails its first `failures` writes, then keeps what it is given. */
class FlakyIndexFake implements Pick<SearchIndex, "index" | "remove"> {
  readonly docs = new Map<string, SearchDocument>();
  constructor(private failures: number) {}
  async index(docs: SearchDocument[]): Promise<void> {
    if (this.failures-- > 0) throw new Error("index unreachable");
    for (const d of docs) this.docs.set(d.messageId, d);
  }
  async remove(ids: string[]): Promise<void> {
    for (const id of ids) this.docs.delete(id);
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
          markFed: async (_f, positions) => {
            for (const { seq } of positions) position = Math.max(position, seq);
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
      expect(indexer.status).toEqual({ failing: true, lagEvents: 3 });
      expect(await indexer.poll()).toBe(3);
      expect(position).toBe(3);
      expect(indexer.status).toEqual({ failing: false, lagEvents: 0 });
      expect([...index.docs.keys()]).toEqual(["M1", "M2", "M3"]);
      expect(await indexer.poll()).toBe(0);
    } finally {
      indexer.stop();
    }
  });

  it("hands several channels' runs over together, moves their positions at once, and comes back for the rest", async () => {
    const logs = new Map<string, ReturnType<typeof loggedEvent>[]>([
      ["C1", Array.from({ length: 1200 }, (_, i) => loggedEvent(i + 1, "pin.added", {}))],
      ["C2", [loggedEvent(1, "pin.added", {}), loggedEvent(2, "pin.added", {})]],
    ]);
    const positions = new Map<string, number>();
    const handed: Array<Array<[string, number]>> = [];
    const markCalls: number[] = [];
    const follower = new LogFollower(
      {
        name: "relay",
        feed: {
          feedBacklog: async () =>
            [...logs].flatMap(([channelId, events]) => {
              const handledSeq = positions.get(channelId) ?? 0;
              return handledSeq < events.length ? [{ channelId, handledSeq, lastSeq: events.length }] : [];
            }),
          markFed: async (_f, moved) => {
            markCalls.push(moved.length);
            for (const { channelId, seq } of moved)
              positions.set(channelId, Math.max(positions.get(channelId) ?? 0, seq));
          },
        },
        log: {
          readEvents: async (channelId, after, limit) =>
            (logs.get(channelId) ?? []).filter((e) => e.seq > after).slice(0, limit),
        },
        handle: async (runs) => {
          handed.push(runs.map((r) => [r.channelId, r.events.length]));
        },
        owns: () => true,
        logger: silentLogger,
      },
      60_000,
    );
    try {
      expect(await follower.poll()).toBe(1202);
      // First both channels together, then C1's remaining runs (500 events a run).
      expect(handed).toEqual([
        [
          ["C1", 500],
          ["C2", 2],
        ],
        [["C1", 500]],
        [["C1", 200]],
      ]);
      expect(markCalls).toEqual([2, 1, 1]);
      expect(Object.fromEntries(positions)).toEqual({ C1: 1200, C2: 2 });
      expect(follower.status).toEqual({ failing: false, lagEvents: 0 });
    } finally {
      follower.stop();
    }
  });
});
