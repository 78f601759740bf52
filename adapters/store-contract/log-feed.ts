/**
 * The `LogFeed` part of the Store contract: which channels' logs are ahead of a follower,
 * and each follower's positions, which never move back and are the follower's own.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../../core/ports.js";
import { created, fresh, TestChannel } from "./test-data.js";

/** Registers the LogFeed tests over `store`, which the suite opens before they run. */
export function describeLogFeedContract(store: Store): void {
  describe("LogFeed", () => {
    it("lists channels whose log is ahead of a follower until it has handled them, never moving back", async () => {
      const [c] = await created(store, new TestChannel());
      const [follower, other] = [fresh("f"), fresh("f")];
      const behind = async (who: string) =>
        (await store.feedBacklog(who, 100_000)).find((b) => b.channelId === c!.id);
      expect(await behind(follower)).toEqual({ channelId: c!.id, handledSeq: 0, lastSeq: 2 });
      await store.markFed(follower, [{ channelId: c!.id, seq: 1 }]);
      expect(await behind(follower)).toEqual({ channelId: c!.id, handledSeq: 1, lastSeq: 2 });
      await store.markFed(follower, [{ channelId: c!.id, seq: 2 }]);
      expect(await behind(follower)).toBeUndefined();
      await store.markFed(follower, [{ channelId: c!.id, seq: 1 }]);
      expect(await behind(follower)).toBeUndefined();
      // Another follower has its own position.
      expect(await behind(other)).toEqual({ channelId: c!.id, handledSeq: 0, lastSeq: 2 });
      await store.commit([c!.messages("Ualice", 3).write]);
      expect(await behind(follower)).toEqual({ channelId: c!.id, handledSeq: 2, lastSeq: 5 });
      // Forgotten, it starts again from the beginning; the other follower keeps its place.
      await store.markFed(other, [{ channelId: c!.id, seq: 4 }]);
      await store.forgetFollower(follower);
      expect(await behind(follower)).toEqual({ channelId: c!.id, handledSeq: 0, lastSeq: 5 });
      expect(await behind(other)).toEqual({ channelId: c!.id, handledSeq: 4, lastSeq: 5 });
    });

    it("moves several channels' positions in one call, each only forward", async () => {
      const [a, b] = await created(store, new TestChannel(), new TestChannel());
      const follower = fresh("f");
      const behind = async (id: string) =>
        (await store.feedBacklog(follower, 100_000)).find((x) => x.channelId === id);
      await store.markFed(follower, [
        { channelId: a!.id, seq: 2 },
        { channelId: b!.id, seq: 1 },
      ]);
      expect(await behind(a!.id)).toBeUndefined();
      expect(await behind(b!.id)).toEqual({ channelId: b!.id, handledSeq: 1, lastSeq: 2 });
      await store.markFed(follower, [
        { channelId: a!.id, seq: 1 },
        { channelId: b!.id, seq: 2 },
      ]);
      expect(await behind(a!.id)).toBeUndefined();
      expect(await behind(b!.id)).toBeUndefined();
      await store.markFed(follower, []);
    });
  });
}
