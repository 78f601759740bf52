/**
 * The `MessageHistory` part of the Store contract: history pages, one message, versions,
 * thread follows and pins, never another channel's rows.
 */
import { describe, expect, it } from "vitest";
import { type Store, StoreConflict, type StoredMessage, type ThreadFollow } from "../../core/ports.js";
import type { MessageVersion } from "../../core/types.js";
import { created, fresh, seqs, T0, TestChannel } from "./test-data.js";

/** Registers the MessageHistory tests over `store`, which the suite opens before they run. */
export function describeMessageHistoryContract(store: Store): void {
  describe("MessageHistory", () => {
    it("pages history before, after and between seqs, always ascending", async () => {
      const [ch] = await created(store, new TestChannel());
      const { write } = ch!.messages(fresh("U"), 10); // seqs 3..12
      await store.commit([write]);
      const page = (p: Parameters<Store["readMessages"]>[1]) =>
        store.readMessages(ch!.id, p).then((ms) => seqs(ms));
      expect(await page({ limit: 3 })).toEqual([10, 11, 12]);
      expect(await page({ limit: 100 })).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(await page({ beforeSeq: 10, limit: 3 })).toEqual([7, 8, 9]);
      expect(await page({ beforeSeq: 5, limit: 10 })).toEqual([3, 4]);
      expect(await page({ beforeSeq: 3, limit: 10 })).toEqual([]);
      expect(await page({ afterSeq: 4, limit: 3 })).toEqual([5, 6, 7]);
      expect(await page({ afterSeq: 10, limit: 10 })).toEqual([11, 12]);
      expect(await page({ afterSeq: 12, limit: 10 })).toEqual([]);
      expect(await page({ afterSeq: 4, beforeSeq: 8, limit: 10 })).toEqual([5, 6, 7]);
      // Both bounds: the newest between them.
      expect(await page({ afterSeq: 4, beforeSeq: 12, limit: 2 })).toEqual([10, 11]);
      expect(await page({ afterSeq: 4, beforeSeq: 5, limit: 2 })).toEqual([]);
      expect(await page({ limit: 0 })).toEqual([]);
      expect(await store.readMessages(fresh("C"), { limit: 10 })).toEqual([]);
    });

    it("never returns another channel's message", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const { write, messages } = ch!.messages(fresh("U"), 1);
      await store.commit([write]);
      expect(await store.getMessage(ch!.id, messages[0]!.id)).toEqual(messages[0]);
      expect(await store.getMessage(other!.id, messages[0]!.id)).toBeNull();
      expect(await store.getMessage(ch!.id, fresh("M"))).toBeNull();
    });

    it("pages top-level messages and each thread's replies apart", async () => {
      const [ch] = await created(store, new TestChannel());
      const a = fresh("U");
      const root1 = ch!.message(a, "root 1"); // 3
      const root2 = ch!.message(a, "root 2"); // 4
      const r1a = ch!.message(a, "1a", { threadRootId: root1.message.id }); // 5
      const r2a = ch!.message(a, "2a", { threadRootId: root2.message.id }); // 6
      const top = ch!.message(a, "top"); // 7
      const r1b = ch!.message(a, "1b", { threadRootId: root1.message.id }); // 8
      const r1c = ch!.message(a, "1c", { threadRootId: root1.message.id }); // 9
      const all = [root1, root2, r1a, r2a, top, r1b, r1c];
      await store.commit([ch!.post(...all)]);
      const page = (p: Parameters<Store["readMessages"]>[1]) =>
        store.readMessages(ch!.id, p).then((ms) => seqs(ms));
      const t1 = root1.message.id;

      expect(await page({ limit: 10 })).toEqual([3, 4, 7]);
      expect(await page({ limit: 2 })).toEqual([4, 7]);
      expect(await page({ beforeSeq: 7, limit: 10 })).toEqual([3, 4]);
      expect(await page({ afterSeq: 3, limit: 10 })).toEqual([4, 7]);
      expect(await page({ thread: t1, limit: 10 })).toEqual([5, 8, 9]);
      expect(await page({ thread: t1, limit: 2 })).toEqual([8, 9]);
      expect(await page({ thread: t1, beforeSeq: 9, limit: 10 })).toEqual([5, 8]);
      expect(await page({ thread: t1, afterSeq: 5, limit: 1 })).toEqual([8]);
      expect(await page({ thread: t1, afterSeq: 4, beforeSeq: 9, limit: 1 })).toEqual([8]);
      expect(await page({ thread: root2.message.id, limit: 10 })).toEqual([6]);
      expect(await page({ thread: top.message.id, limit: 10 })).toEqual([]);
      expect(await page({ thread: fresh("M"), limit: 10 })).toEqual([]);
      expect(await page({ allThreads: true, limit: 10 })).toEqual([3, 4, 5, 6, 7, 8, 9]);
      expect(await page({ allThreads: true, thread: t1, beforeSeq: 8, limit: 3 })).toEqual([5, 6, 7]);
      expect(await page({ allThreads: true, afterSeq: 7, limit: 10 })).toEqual([8, 9]);
      expect(await store.readMessages(ch!.id, { thread: t1, limit: 1 })).toEqual([r1c.message]);
      expect(await store.getMessage(ch!.id, r1a.message.id)).toEqual(r1a.message);

      // Idempotency keys cover replies too.
      const snap = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 10 });
      expect(snap!.recentKeys.map((k) => k.messageId)).toEqual(all.map((m) => m.message.id));
    });

    it("keeps the previous versions of an edited message, readable from its channel only", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const author = fresh("U");
      const { write, messages } = ch!.messages(author, 2);
      await store.commit([write]);
      const [m, untouched] = messages as [StoredMessage, StoredMessage];
      const v1: MessageVersion = { messageId: m.id, version: 1, text: m.text, editedAt: T0 + 100 };
      const v2: MessageVersion = { messageId: m.id, version: 2, text: "second", editedAt: T0 + 200 };
      // Two edits in one commit: the second write's version comes after the first's.
      await store.commit([
        ch!.write({
          events: [ch!.event("message.updated", {})],
          changedMessages: [{ ...m, text: "second", editedAt: T0 + 100 }],
          versions: [v1],
        }),
        ch!.write({
          events: [ch!.event("message.updated", {})],
          changedMessages: [{ ...m, text: "third", editedAt: T0 + 200 }],
          versions: [v2],
        }),
      ]);
      expect(await store.readVersions(ch!.id, m.id)).toEqual([v1, v2]);
      expect((await store.getMessage(ch!.id, m.id))!.text).toBe("third");
      expect(await store.readVersions(ch!.id, untouched.id)).toEqual([]);
      expect(await store.readVersions(other!.id, m.id)).toEqual([]);
      expect(await store.readVersions(ch!.id, fresh("M"))).toEqual([]);

      // A version number taken already means a stale writer: nothing of the commit lands.
      const lastSeq = ch!.record.lastSeq;
      const err = await store
        .commit([
          ch!.write({
            events: [ch!.event("message.updated", {})],
            changedMessages: [{ ...m, text: "stale" }],
            versions: [{ ...v2, text: "stale" }],
          }),
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreConflict);
      expect(err).toMatchObject({ kind: "seqTaken", channelIds: [ch!.id] });
      expect(await store.readEvents(ch!.id, lastSeq, 10)).toEqual([]);
      expect((await store.getMessage(ch!.id, m.id))!.text).toBe("third");
    });

    it("records thread follows and unfollows, the latest winning", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const root = ch!.message(fresh("U"), "root");
      await store.commit([ch!.post(root)]);
      const rootId = root.message.id;
      const [u1, u2, u3] = [fresh("U"), fresh("U"), fresh("U")].sort();
      const f = (userId: string, following: boolean): ThreadFollow => ({ rootId, userId, following });
      const follow = (...follows: ThreadFollow[]) =>
        ch!.write({ events: [ch!.event("thread.updated", { rootId })], follows });

      expect(await store.threadFollows(ch!.id, rootId)).toEqual([]);
      await store.commit([follow(f(u1!, true), f(u2!, false))]);
      expect(await store.threadFollows(ch!.id, rootId)).toEqual([f(u1!, true), f(u2!, false)]);

      await store.commit([follow(f(u1!, false), f(u3!, true)), follow(f(u3!, false), f(u2!, true))]);
      expect(await store.threadFollows(ch!.id, rootId)).toEqual([f(u1!, false), f(u2!, true), f(u3!, false)]);
      expect(await store.threadFollows(other!.id, rootId)).toEqual([]);
      expect(await store.threadFollows(ch!.id, fresh("M"))).toEqual([]);

      // Another channel's write does not change this thread's rows.
      await store.commit([
        other!.write({ events: [other!.event("thread.updated", {})], follows: [f(u1!, true)] }),
      ]);
      expect((await store.threadFollows(ch!.id, rootId))[0]).toEqual(f(u1!, false));
    });

    it("lists pinned messages, most recently pinned first", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const a = fresh("U");
      const m1 = ch!.message(a, "1", { pinnedAt: T0 + 30, pinnedBy: a });
      const m2 = ch!.message(a, "2", { pinnedAt: T0 + 10, pinnedBy: a });
      const m3 = ch!.message(a, "3");
      const m4 = ch!.message(a, "4", { threadRootId: m3.message.id, pinnedAt: T0 + 20, pinnedBy: a });
      await store.commit([ch!.post(m1, m2, m3, m4)]);
      expect(await store.listPinned(ch!.id, 10)).toEqual([m1.message, m4.message, m2.message]);
      expect(seqs(await store.listPinned(ch!.id, 2))).toEqual([m1.message.seq, m4.message.seq]);
      expect(await store.listPinned(ch!.id, 0)).toEqual([]);
      expect(await store.listPinned(other!.id, 10)).toEqual([]);

      await store.commit([
        ch!.write({
          events: [ch!.event("pin.removed", {})],
          changedMessages: [{ ...m1.message, pinnedAt: null, pinnedBy: null }],
        }),
      ]);
      expect(seqs(await store.listPinned(ch!.id, 10))).toEqual([m4.message.seq, m2.message.seq]);
    });
  });
}
