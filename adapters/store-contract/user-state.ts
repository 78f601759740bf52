/**
 * The `UserState` part of the Store contract: settings, read markers, unread counts and
 * who shares a channel with a user.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../../core/ports.js";
import { created, fresh, T0, TestChannel } from "./test-data.js";

/** Registers the UserState tests over `store`, which the suite opens before they run. */
export function describeUserStateContract(store: Store): void {
  describe("UserState", () => {
    it("keeps settings, with defaults for what was never saved", async () => {
      const id = fresh("U");
      expect(await store.getSettings(id)).toEqual({ theme: "system", language: "en", notify: {} });
      await store.saveSettings(id, { theme: "dark", language: "fr", notify: { C1: "mentions" } });
      expect(await store.getSettings(id)).toEqual({
        theme: "dark",
        language: "fr",
        notify: { C1: "mentions" },
      });
      await store.saveSettings(id, { theme: "light", language: "en", notify: {} });
      expect(await store.getSettings(id)).toEqual({ theme: "light", language: "en", notify: {} });
      // Settings saved by an older version, with fields missing.
      await store.saveSettings(id, { theme: "dark" } as never);
      expect(await store.getSettings(id)).toEqual({ theme: "dark", language: "en", notify: {} });
    });

    it("moves a read marker forward only, never past the channel's last seq, for members only", async () => {
      const [ch] = await created(store, new TestChannel());
      const me = fresh("U");
      await store.commit([ch!.join(me), ch!.messages(fresh("U"), 5).write]); // seqs 3; 4..8
      expect(await store.markRead(me, ch!.id, 5)).toBe(5);
      expect(await store.markRead(me, ch!.id, 3)).toBe(5);
      expect(await store.markRead(me, ch!.id, 1000)).toBe(8);
      expect(await store.markRead(me, ch!.id, -1)).toBe(8);
      const snap = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 });
      expect(snap!.members.find((m) => m.userId === me)!.lastReadSeq).toBe(8);
      expect(await store.markRead(fresh("U"), ch!.id, 5)).toBeNull();
      expect(await store.markRead(me, fresh("C"), 5)).toBeNull();

      // The channel's writes never move it back.
      await store.commit([
        ch!.write({
          events: [ch!.event("channel.updated", {})],
          upsertMembers: [{ userId: me, role: "moderator", joinedAt: T0, lastReadSeq: 0 }],
        }),
      ]);
      const after = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 });
      expect(after!.members.find((m) => m.userId === me)).toMatchObject({
        role: "moderator",
        lastReadSeq: 8,
      });
    });

    it("resets a member's marker on leaving and joining again, in separate commits or one", async () => {
      const [ch] = await created(store, new TestChannel());
      const me = fresh("U");
      await store.commit([ch!.join(me), ch!.messages(fresh("U"), 3).write]); // 3; 4..6
      expect(await store.markRead(me, ch!.id, 6)).toBe(6);

      await store.commit([ch!.leave(me)]); // 7
      expect(await store.markRead(me, ch!.id, 7)).toBeNull();
      expect((await store.unreadSummary(me)).map((u) => u.channelId)).not.toContain(ch!.id);
      await store.commit([ch!.join(me, { lastReadSeq: 2, joinedAt: T0 + 800 })]); // 8
      const member = async () =>
        (await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 }))!.members.find(
          (m) => m.userId === me,
        );
      expect(await member()).toEqual({ userId: me, role: "member", joinedAt: T0 + 800, lastReadSeq: 2 });
      expect(await store.markRead(me, ch!.id, 8)).toBe(8);

      await store.commit([ch!.leave(me), ch!.join(me, { lastReadSeq: 4, joinedAt: T0 + 900 })]); // 9, 10
      expect(await member()).toEqual({ userId: me, role: "member", joinedAt: T0 + 900, lastReadSeq: 4 });
      expect(await store.unreadSummary(me)).toEqual([
        { channelId: ch!.id, lastReadSeq: 4, unread: 2, mentions: 0, threads: 0 },
      ]);
    });

    it("moves a thread's read marker forward only, for members only", async () => {
      const [ch] = await created(store, new TestChannel());
      const me = fresh("U");
      const root = ch!.message(fresh("U"), "root");
      await store.commit([ch!.join(me), ch!.post(root)]); // 3, 4
      const rootId = root.message.id;
      expect(await store.markThreadRead(me, ch!.id, rootId, 3)).toBe(3);
      expect(await store.markThreadRead(me, ch!.id, rootId, 2)).toBe(3);
      expect(await store.markThreadRead(me, ch!.id, rootId, 1000)).toBe(4);
      expect(await store.markThreadRead(fresh("U"), ch!.id, rootId, 3)).toBeNull();
      expect(await store.markThreadRead(me, fresh("C"), rootId, 3)).toBeNull();
      expect(await store.markThreadRead(me, ch!.id, fresh("M"), -5)).toBe(0);
    });

    it("sums unread messages, mentions and followed thread replies per channel", async () => {
      const me = fresh("U");
      const [a, b] = [fresh("U"), fresh("U")];
      const [ch, quiet, notMine] = await created(
        store,
        new TestChannel("public", fresh("n-"), a),
        new TestChannel("private", fresh("n-"), a),
        new TestChannel("public", fresh("n-"), a),
      );
      await store.commit([ch!.join(me), quiet!.join(me)]); // ch: 3, quiet: 3
      const c = ch!;
      const m1 = c.message(a, "hello");
      const own = c.message(me, "mine");
      const gone = c.message(a, "gone", { deletedAt: T0 + 1, text: "" });
      const named = c.message(a, "@me", { mentions: [me] });
      const here = c.message(b, "@here", { broadcast: "here" });
      const myRoot = c.message(me, "my root", { threadParticipants: [me, a] });
      const r1 = c.message(a, "reply in my thread", { threadRootId: myRoot.message.id });
      const r1Gone = c.message(a, "deleted reply", { threadRootId: myRoot.message.id, deletedAt: T0 + 2 });
      const r1Mine = c.message(me, "my own reply", { threadRootId: myRoot.message.id });
      const theirRoot = c.message(a, "their root", { threadParticipants: [a, b] });
      const r2 = c.message(b, "reply in their thread", {
        threadRootId: theirRoot.message.id,
        mentions: [me],
      });
      const followedRoot = c.message(a, "followed root", { threadParticipants: [a, b] });
      const r3 = c.message(b, "@me in a followed thread", {
        threadRootId: followedRoot.message.id,
        mentions: [me],
      });
      const unfollowedRoot = c.message(me, "unfollowed root", { threadParticipants: [me, a] });
      const r4 = c.message(a, "reply in an unfollowed thread", { threadRootId: unfollowedRoot.message.id });
      await store.commit([
        c.post(m1, own, gone, named, here, myRoot, r1, r1Gone, r1Mine, theirRoot, r2, followedRoot, r3),
        c.post(unfollowedRoot, r4),
        c.write({
          events: [c.event("thread.updated", {})],
          follows: [
            { rootId: followedRoot.message.id, userId: me, following: true },
            { rootId: unfollowedRoot.message.id, userId: me, following: false },
          ],
        }),
        notMine!.messages(a, 2).write,
      ]);

      // Unread: m1, named, here, theirRoot, followedRoot (top level, not mine, not deleted),
      // r1 (participant), r3 (explicit follow). Mentions: named, here, r3. Threads: r1, r3.
      const summary = async () => {
        const all = await store.unreadSummary(me);
        expect(all.map((u) => u.channelId).sort()).toEqual([ch!.id, quiet!.id].sort());
        return Object.fromEntries(all.map((u) => [u.channelId, u]));
      };
      expect((await summary())[c.id]).toEqual({
        channelId: c.id,
        lastReadSeq: 0,
        unread: 7,
        mentions: 3,
        threads: 2,
      });
      expect((await summary())[quiet!.id]).toEqual({
        channelId: quiet!.id,
        lastReadSeq: 0,
        unread: 0,
        mentions: 0,
        threads: 0,
      });

      expect(await store.markThreadRead(me, c.id, myRoot.message.id, r1Mine.message.seq)).toBe(
        r1Mine.message.seq,
      );
      expect((await summary())[c.id]).toMatchObject({ unread: 7, mentions: 3, threads: 1 });

      expect(await store.markRead(me, c.id, here.message.seq)).toBe(here.message.seq);
      // Left after `here`: theirRoot, followedRoot, r1, r3; mentions: r3.
      expect((await summary())[c.id]).toEqual({
        channelId: c.id,
        lastReadSeq: here.message.seq,
        unread: 4,
        mentions: 1,
        threads: 1,
      });

      // An explicit unfollow beats taking part; an explicit follow can be withdrawn.
      await store.commit([
        c.write({
          events: [c.event("thread.updated", {})],
          follows: [{ rootId: followedRoot.message.id, userId: me, following: false }],
        }),
      ]);
      expect((await summary())[c.id]).toMatchObject({ unread: 3, mentions: 0, threads: 0 });
      await store.commit([
        c.write({
          events: [c.event("thread.updated", {})],
          follows: [{ rootId: unfollowedRoot.message.id, userId: me, following: true }],
        }),
      ]);
      expect((await summary())[c.id]).toMatchObject({ unread: 4, mentions: 0, threads: 1 });

      await store.markRead(me, c.id, c.record.lastSeq);
      expect((await summary())[c.id]).toMatchObject({ lastReadSeq: c.record.lastSeq, unread: 0, threads: 1 });
      await store.markThreadRead(me, c.id, unfollowedRoot.message.id, c.record.lastSeq);
      expect((await summary())[c.id]).toMatchObject({ unread: 0, mentions: 0, threads: 0 });
      expect(await store.unreadSummary(fresh("U"))).toEqual([]);
    });

    it("finds who sees a user's presence: small channels' and direct messages' members", async () => {
      const me = fresh("U");
      const others = Array.from({ length: 10 }, () => fresh("U"));
      const [a, b, c, d, e, f, g, h, i, j] = others as [string, ...string[]];
      const small = new TestChannel("public", fresh("n-"), me);
      const big = new TestChannel("public", fresh("n-"), me);
      const dm = new TestChannel("dm", fresh("n-"), me);
      const groupDm = new TestChannel("group_dm", fresh("n-"), me);
      const without = new TestChannel("public", fresh("n-"), a);
      await created(store, small, big, dm, groupDm, without);
      await store.commit([
        small.join(a),
        small.join(b!),
        big.join(c!),
        big.join(d!),
        big.join(e!),
        dm.join(f!),
        groupDm.join(g!),
        groupDm.join(h!),
        groupDm.join(i!),
        groupDm.join(j!),
        without.join(c!),
      ]);
      // small: 3 members, big: 4, dm: 2, group dm: 5; the limit is 3.
      const audience = await store.presenceAudience(me, 3);
      expect(audience.users.sort()).toEqual([a, b, f, g, h, i, j].sort());
      expect(audience.largeChannels).toEqual([big.id]);
      const wide = await store.presenceAudience(me, 4);
      expect(wide.users.sort()).toEqual([a, b, c, d, e, f, g, h, i, j].sort());
      expect(wide.largeChannels).toEqual([]);
      const tight = await store.presenceAudience(me, 0);
      expect(tight.users.sort()).toEqual([f, g, h, i, j].sort());
      expect(tight.largeChannels.sort()).toEqual([small.id, big.id].sort());
      expect(await store.presenceAudience(fresh("U"), 3)).toEqual({ users: [], largeChannels: [] });
    });

    it("tells which users share a channel with a user", async () => {
      const me = fresh("U");
      const [mate, dmMate, stranger, neighbour] = [fresh("U"), fresh("U"), fresh("U"), fresh("U")];
      const ch = new TestChannel("private", fresh("n-"), me);
      const dm = new TestChannel("dm", fresh("n-"), dmMate);
      const elsewhere = new TestChannel("public", fresh("n-"), stranger);
      await created(store, ch, dm, elsewhere);
      await store.commit([ch.join(mate), dm.join(me), elsewhere.join(neighbour)]);
      expect(await store.sharingWith(me, [stranger, mate, me, dmMate, mate, neighbour])).toEqual([
        mate,
        me,
        dmMate,
      ]);
      expect(await store.sharingWith(me, [])).toEqual([]);
      expect(await store.sharingWith(fresh("U"), [mate])).toEqual([]);
      const loner = fresh("U");
      expect(await store.sharingWith(loner, [loner])).toEqual([loner]);
    });
  });
}
