/**
 * The `UserEventLog` part of the Store contract: each change to a user's profile or
 * settings leaves one event in the outbox, written with the change; a sign-in that changes
 * nothing leaves none; events read back by id, after a position.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../../core/ports.js";
import type { UserEvent } from "../../core/types.js";
import { fresh } from "./test-data.js";

/** Registers the UserEventLog tests over `store`, which the suite opens before they run. */
export function describeUserEventContract(store: Store): void {
  describe("UserEventLog", () => {
    /** Every event after `afterId` (all pages). */
    async function eventsAfter(afterId: number): Promise<UserEvent[]> {
      const all: UserEvent[] = [];
      for (let at = afterId; ; ) {
        const page = await store.readUserEvents(at, 2);
        if (page.length === 0) return all;
        all.push(...page);
        at = page[page.length - 1]!.id;
      }
    }

    /** The id of the newest event so far (tests share the database). */
    async function newestId(): Promise<number> {
      let at = 0;
      for (;;) {
        const page = await store.readUserEvents(at, 10_000);
        if (page.length === 0) return at;
        at = page[page.length - 1]!.id;
      }
    }

    it("records a user's creation, profile and settings changes, in order, with the change", async () => {
      const start = await newestId();
      const id = fresh("U");
      const username = fresh("ev").toLowerCase();
      const created = await store.upsertUser({ id, username, displayName: "Eve", role: "member" });
      // Signing in again with the same claims changes nothing, and records nothing.
      await store.upsertUser({ id, username, displayName: "Eve", role: "member" });
      const renamed = await store.updateProfile(id, { title: "Analyst" });
      const promoted = await store.upsertUser({ id, username, displayName: "Eve", role: "admin" });
      const settings = { ...(await store.getSettings(id)), theme: "dark" as const };
      await store.saveSettings(id, settings);
      // No user, no event.
      expect(await store.updateProfile(fresh("U"), { title: "x" })).toBeNull();

      const mine = (await eventsAfter(start)).filter((e) => e.userId === id);
      expect(mine.map((e) => e.type)).toEqual([
        "user.created",
        "user.updated",
        "user.updated",
        "settings.updated",
      ]);
      expect(mine.map((e) => e.data)).toEqual([
        { user: created },
        { user: renamed },
        { user: promoted },
        { settings },
      ]);
      const ids = mine.map((e) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(4);
      for (const e of mine) expect(e.at).toBeGreaterThan(0);
    });

    it("reads after a position, at most a page, and remembers a follower's position under its key", async () => {
      const start = await newestId();
      for (let i = 0; i < 3; i++) {
        await store.upsertUser({
          id: fresh("U"),
          username: fresh("p").toLowerCase(),
          displayName: "P",
          role: "member",
        });
      }
      const three = await store.readUserEvents(start, 3);
      expect(three).toHaveLength(3);
      expect(await store.readUserEvents(three[0]!.id, 1)).toEqual([three[1]]);
      const follower = fresh("f");
      expect(await store.fedPosition(follower, "@user-events")).toBe(0);
      await store.markFed(follower, [{ channelId: "@user-events", seq: three[2]!.id }]);
      expect(await store.fedPosition(follower, "@user-events")).toBe(three[2]!.id);
      await store.forgetFollower(follower);
      expect(await store.fedPosition(follower, "@user-events")).toBe(0);
    });
  });
}
