/**
 * The `ShardFencing` and `SharedSecrets` part of the Store contract: epochs that fence
 * commits, and the one dev issuer key every node shares.
 */
import { describe, expect, it } from "vitest";
import { type Store, StoreConflict } from "../../core/ports.js";
import { created, fresh, seqs, TestChannel } from "./test-data.js";

/** Registers the ShardFencing and SharedSecrets tests over `store`, which the suite opens before they run. */
export function describeClusterContract(store: Store): void {
  describe("ShardFencing and SharedSecrets", () => {
    it("fences commits by shard epoch: a taken shard refuses its old owner's writes", async () => {
      // Shard numbers far above any configured count, so runs sharing a database do not meet.
      const shard = 100_000 + Math.floor(Math.random() * 1_000_000_000);
      const [first] = await store.takeShards([shard]);
      expect(first).toEqual({ shard, epoch: expect.any(Number) });
      const [ch, bystander] = await created(store, new TestChannel(), new TestChannel());
      const fenced = (c: TestChannel, epoch: number) => {
        const { write } = c.messages(fresh("U"), 1);
        return { ...write, fence: { shard, epoch } };
      };
      await store.commit([fenced(ch!, first!.epoch)]);

      const [second] = await store.takeShards([shard]);
      expect(second!.epoch).toBeGreaterThan(first!.epoch);
      const stale = fenced(ch!, first!.epoch);
      const err = await store
        .commit([stale, bystander!.messages(fresh("U"), 1).write])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreConflict);
      expect(err).toMatchObject({ kind: "staleOwner", channelIds: [ch!.id] });
      // Nothing of that commit was written, the bystander's batch included.
      expect(seqs(await store.readEvents(ch!.id, 0, 100))).toEqual([1, 2, 3]);
      expect(seqs(await store.readEvents(bystander!.id, 0, 100))).toEqual([1, 2]);
      // The new epoch writes.
      const fresh2 = { ...stale, fence: { shard, epoch: second!.epoch } };
      await store.commit([fresh2]);
      expect(seqs(await store.readEvents(ch!.id, 0, 100))).toEqual([1, 2, 3, 4]);
    });

    it("names every channel of a taken shard in a stale commit that holds several, and keeps the kind when narrowed", async () => {
      const shard = 100_000 + Math.floor(Math.random() * 1_000_000_000);
      const [first] = await store.takeShards([shard]);
      const [a, b, bystander] = await created(store, new TestChannel(), new TestChannel(), new TestChannel());
      await store.takeShards([shard]); // another node takes the shard
      const stale = (c: TestChannel) => ({
        ...c.messages(fresh("U"), 1).write,
        fence: { shard, epoch: first!.epoch },
      });
      const err = await store
        .commit([stale(a!), bystander!.messages(fresh("U"), 1).write, stale(b!)])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreConflict);
      expect(err).toMatchObject({ kind: "staleOwner" });
      expect([...(err as StoreConflict).channelIds].sort()).toEqual([a!.id, b!.id].sort());
      expect((err as StoreConflict).narrowedTo(a!.id)).toMatchObject({
        kind: "staleOwner",
        channelIds: [a!.id],
      });
      for (const c of [a, b, bystander]) expect(seqs(await store.readEvents(c!.id, 0, 100))).toEqual([1, 2]);
    });

    it("keeps one shared dev issuer key: the first stored wins", async () => {
      const first = await store.sharedDevIssuerKey({ kty: "OKP", d: fresh("d"), x: fresh("x") });
      const again = await store.sharedDevIssuerKey({ kty: "OKP", d: fresh("d"), x: fresh("x") });
      expect(again).toEqual(first);
    });

    it("keeps one shared session key, apart from the dev issuer's", async () => {
      const dev = await store.sharedDevIssuerKey({ kty: "OKP", d: fresh("d"), x: fresh("x") });
      const candidate = { kty: "oct", k: fresh("k") };
      const [a, b] = await Promise.all([
        store.sharedSessionKey(candidate),
        store.sharedSessionKey({ kty: "oct", k: fresh("k") }),
      ]);
      expect(b).toEqual(a);
      expect(a).toMatchObject({ kty: "oct" });
      expect(await store.sharedSessionKey({ kty: "oct", k: fresh("k") })).toEqual(a);
      expect(await store.sharedDevIssuerKey({ kty: "OKP", d: fresh("d"), x: fresh("x") })).toEqual(dev);
    });
  });
}
