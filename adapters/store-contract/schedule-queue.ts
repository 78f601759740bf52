/**
 * The `ScheduleQueue` part of the Store contract: due scheduled messages across channels.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../../core/ports.js";
import { created, fresh, scheduled, TestChannel } from "./test-data.js";

/** Registers the ScheduleQueue tests over `store`, which the suite opens before they run. */
export function describeScheduleQueueContract(store: Store): void {
  describe("ScheduleQueue", () => {
    it("lists due scheduled messages across channels, oldest first", async () => {
      const [c1, c2] = await created(store, new TestChannel(), new TestChannel());
      const author = fresh("U");
      // Times far below every other test's, which all schedule after T0.
      const s1 = scheduled(c1!, author, 1000);
      const s2 = scheduled(c2!, author, 2000);
      const s3 = scheduled(c1!, author, 3000);
      const cancelled = scheduled(c2!, author, 1500, { status: "cancelled" });
      await store.commit([
        c1!.write({ events: [c1!.event("channel.updated", {})], schedules: [s1, s3] }),
        c2!.write({ events: [c2!.event("channel.updated", {})], schedules: [s2, cancelled] }),
      ]);
      const ours = new Set([s1.id, s2.id, s3.id, cancelled.id]);
      const due = async (now: number, limit: number) =>
        (await store.dueSchedules(now, limit)).filter((s) => ours.has(s.id));
      expect(await due(2500, 10)).toEqual([s1, s2]);
      expect(await due(2000, 10)).toEqual([s1, s2]);
      expect(await due(3000, 1)).toEqual([s1]);
      expect(await due(999, 10)).toEqual([]);
      expect(await store.dueSchedules(3000, 0)).toEqual([]);

      await store.commit([
        c1!.write({ events: [c1!.event("channel.updated", {})], schedules: [{ ...s1, status: "sent" }] }),
      ]);
      expect(await due(5000, 10)).toEqual([s2, s3]);
    });
  });
}
