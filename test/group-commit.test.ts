/**
 * Group commit keeps the kind of a store conflict when it narrows a failed shared
 * transaction to the channel at fault: a node that lost its shard while committing
 * several channels at once must learn it (a `staleOwner` conflict), not read it as a
 * plain seq conflict, and the channels not at fault must still commit.
 */
import { afterEach, describe, expect, it } from "vitest";
import { GroupCommitter } from "../actors/runtime/group-commit.js";
import { openPgliteStore } from "../adapters/pglite/pglite-store.js";
import { created, fresh, seqs, TestChannel } from "../adapters/store-contract/test-data.js";
import { type Store, StoreConflict } from "../core/ports.js";

let store: Store | null = null;

afterEach(async () => {
  await store?.close();
  store = null;
});

describe("GroupCommitter", () => {
  it("rejects a fenced channel of a shared commit with a staleOwner conflict and commits the rest", async () => {
    store = await openPgliteStore();
    await store.migrate();
    const shard = 7;
    const [old] = await store.takeShards([shard]);
    const [a, b] = await created(store, new TestChannel(), new TestChannel());
    await store.takeShards([shard]); // another node took the shard since
    const committer = new GroupCommitter(store, { maxInFlight: 1, maxWrites: 100 });
    // Both in one turn of the event loop, so they share the first transaction.
    const fenced = committer.submit({
      ...a!.messages(fresh("U"), 1).write,
      fence: { shard, epoch: old!.epoch },
    });
    const free = committer.submit(b!.messages(fresh("U"), 1).write);
    const [fencedResult, freeResult] = await Promise.allSettled([fenced, free]);
    expect(freeResult.status).toBe("fulfilled");
    expect(fencedResult.status).toBe("rejected");
    const err = (fencedResult as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(StoreConflict);
    expect(err).toMatchObject({ kind: "staleOwner", channelIds: [a!.id] });
    expect(committer.commits).toBe(1);
    expect(seqs(await store.readEvents(a!.id, 0, 10))).toEqual([1, 2]);
    expect(seqs(await store.readEvents(b!.id, 0, 10))).toEqual([1, 2, 3]);
  });

  it("rejects a channel whose log position was taken with a seqTaken conflict and commits the rest", async () => {
    store = await openPgliteStore();
    await store.migrate();
    const [a, b] = await created(store, new TestChannel(), new TestChannel());
    const stale = new TestChannel();
    Object.assign(stale.record, { ...a!.record, lastSeq: 1 }); // believes seq 2 is free
    const committer = new GroupCommitter(store, { maxInFlight: 1, maxWrites: 100 });
    const results = await Promise.allSettled([
      committer.submit(stale.messages(fresh("U"), 1).write),
      committer.submit(b!.messages(fresh("U"), 1).write),
    ]);
    expect(results[1].status).toBe("fulfilled");
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({
      kind: "seqTaken",
      channelIds: [a!.id],
    });
  });
});
