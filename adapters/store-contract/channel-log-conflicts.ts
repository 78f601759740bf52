/**
 * The `ChannelLog` conflicts of the Store contract: a commit that repeats an idempotency
 * key or takes a taken log position fails with the domain error and writes nothing.
 */
import { describe, expect, it } from "vitest";
import { DuplicateSendError, type MemberRecord, type Store, StoreConflict } from "../../core/ports.js";
import { created, fresh, scheduled, seqs, T0, TestChannel } from "./test-data.js";

/** Registers the ChannelLog conflicts tests over `store`, which the suite opens before they run. */
export function describeChannelLogConflictsContract(store: Store): void {
  describe("ChannelLog conflicts", () => {
    it("refuses a repeated idempotency key and writes nothing of that commit", async () => {
      const [ch, bystander] = await created(store, new TestChannel(), new TestChannel());
      const author = fresh("U");
      const first = ch!.message(author, "first");
      await store.commit([ch!.write({ events: [first.event], newMessages: [first.message] })]);
      const lastSeq = ch!.record.lastSeq;

      const retry = ch!.message(author, "retry", { clientMsgId: first.message.clientMsgId });
      const fine = ch!.message(fresh("U"), "unrelated");
      const bystanderBatch = bystander!.messages(author, 2);
      const err = await store
        .commit([
          ch!.write({ events: [retry.event, fine.event], newMessages: [retry.message, fine.message] }),
          bystanderBatch.write,
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateSendError);
      expect((err as DuplicateSendError).keys).toEqual([
        { channelId: ch!.id, authorId: author, clientMsgId: first.message.clientMsgId },
      ]);

      expect(await store.readEvents(ch!.id, lastSeq, 100)).toEqual([]);
      expect(await store.readEvents(bystander!.id, 2, 100)).toEqual([]);
      const snap = await store.loadChannel(ch!.id, { recentEvents: 1, recentKeys: 10 });
      expect(snap!.channel.lastSeq).toBe(lastSeq);
      expect(snap!.recentKeys.map((k) => k.messageId)).toEqual([first.message.id]);
      expect(
        (await store.loadChannel(bystander!.id, { recentEvents: 0, recentKeys: 0 }))!.channel.lastSeq,
      ).toBe(2);
      expect(await store.getMessage(ch!.id, fine.message.id)).toBeNull();
      expect(await store.getMessage(bystander!.id, bystanderBatch.messages[0]!.id)).toBeNull();

      const found = await store.findSends(ch!.id, [
        { authorId: author, clientMsgId: first.message.clientMsgId },
      ]);
      expect(found).toEqual([first.message]);
    });

    it("refuses two new messages with one idempotency key in a single commit", async () => {
      const [ch] = await created(store, new TestChannel());
      const author = fresh("U");
      const a = ch!.message(author, "a");
      const b = ch!.message(author, "b", { clientMsgId: a.message.clientMsgId });
      await expect(
        store.commit([ch!.write({ events: [a.event, b.event], newMessages: [a.message, b.message] })]),
      ).rejects.toBeInstanceOf(DuplicateSendError);
      expect(await store.readEvents(ch!.id, 2, 100)).toEqual([]);
    });

    it("refuses a log position that is taken (stale writer) and writes nothing", async () => {
      const [ch, bystander] = await created(store, new TestChannel(), new TestChannel());
      // A stale owner still believes lastSeq is 1: it writes seq 2 again.
      const stale = new TestChannel();
      Object.assign(stale.record, { ...ch!.record, lastSeq: 1 });
      const m = stale.message(fresh("U"), "from a stale owner");
      const member: MemberRecord = { userId: fresh("U"), role: "member", joinedAt: T0, lastReadSeq: 0 };
      const bystanderBatch = bystander!.messages(fresh("U"), 1);

      const err = await store
        .commit([
          stale.write({ events: [m.event], newMessages: [m.message], upsertMembers: [member] }),
          bystanderBatch.write,
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreConflict);
      expect(err).toMatchObject({ kind: "seqTaken", channelIds: [ch!.id] });

      const snap = await store.loadChannel(ch!.id, { recentEvents: 10, recentKeys: 10 });
      expect(snap!.channel.lastSeq).toBe(2);
      expect(snap!.recentEvents.map((e) => e.type)).toEqual(["channel.created", "member.joined"]);
      expect(snap!.members.map((x) => x.userId)).toEqual([ch!.record.createdBy]);
      expect(await store.getMessage(ch!.id, m.message.id)).toBeNull();
      expect(await store.readEvents(bystander!.id, 2, 10)).toEqual([]);
    });

    it("lets exactly one of two racing writers take a log position", async () => {
      const [ch] = await created(store, new TestChannel());
      const racer = () => {
        const c = new TestChannel();
        Object.assign(c.record, { ...ch!.record, lastSeq: 2 });
        return c.messages(fresh("U"), 3).write;
      };
      const results = await Promise.allSettled([store.commit([racer()]), store.commit([racer()])]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(StoreConflict);
      expect(rejected.reason).toMatchObject({ kind: "seqTaken" });
      expect(seqs(await store.readEvents(ch!.id, 0, 100))).toEqual([1, 2, 3, 4, 5]);
    });

    it("refuses a scheduled message that repeats an idempotency key, writing nothing", async () => {
      const [ch] = await created(store, new TestChannel());
      const author = fresh("U");
      const first = scheduled(ch!, author, T0 + 1000);
      await store.commit([ch!.write({ events: [ch!.event("channel.updated", {})], schedules: [first] })]);
      const lastSeq = ch!.record.lastSeq;

      const retry = scheduled(ch!, author, T0 + 5000, { clientMsgId: first.clientMsgId });
      const err = await store
        .commit([ch!.write({ events: [ch!.event("channel.updated", {})], schedules: [retry] })])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateSendError);
      expect((err as DuplicateSendError).keys).toEqual([
        { channelId: ch!.id, authorId: author, clientMsgId: first.clientMsgId },
      ]);
      expect(await store.readEvents(ch!.id, lastSeq, 10)).toEqual([]);

      const twice = scheduled(ch!, author, T0 + 6000);
      await expect(
        store.commit([
          ch!.write({
            events: [ch!.event("channel.updated", {})],
            schedules: [twice, { ...twice, id: fresh("S") }],
          }),
        ]),
      ).rejects.toBeInstanceOf(DuplicateSendError);
      const snap = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 });
      expect(snap!.pendingSchedules).toEqual([first]);
    });
  });
}
