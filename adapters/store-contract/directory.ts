/**
 * The `Directory` part of the Store contract: users and the listings that span channels.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../../core/ports.js";
import type { ChannelKind } from "../../core/types.js";
import { created, fresh, type StoreContractHooks, T0, TestChannel } from "./test-data.js";

/** Registers the Directory tests over `store`, which the suite opens before they run. */
export function describeDirectoryContract(store: Store, hooks: StoreContractHooks): void {
  describe("Directory", () => {
    it("lists a user's channels, and public ones on request", async () => {
      const me = fresh("U");
      const prefix = fresh("list-");
      const mk = (kind: ChannelKind, suffix: string) => new TestChannel(kind, `${prefix}-${suffix}`, me);
      const mineA = mk("public", "b");
      const mineB = mk("private", "a");
      const dm = mk("dm", "c");
      const archived = mk("public", "d");
      const notMine = new TestChannel("public", `${prefix}-e`);
      const privateNotMine = new TestChannel("private", `${prefix}-f`);
      await created(store, mineA, mineB, dm, archived, notMine, privateNotMine);
      const guest = fresh("U");
      await store.commit([
        mineA.write({
          events: [mineA.event("member.joined", { userId: guest })],
          upsertMembers: [{ userId: guest, role: "member", joinedAt: T0, lastReadSeq: 0 }],
        }),
        archived.write({ events: [archived.event("channel.updated", {})] }),
      ]);
      archived.record.archived = true;
      await store.commit([
        archived.write({ events: [archived.event("channel.updated", { archived: true })] }),
      ]);

      const ours = <L extends { name: string }>(xs: L[]) => xs.filter((x) => x.name.startsWith(prefix));
      const basic = await store.listChannels(me, { includePublic: false, includeArchived: false });
      expect(basic.map((c) => [c.name, c.myRole, c.memberCount])).toEqual([
        [`${prefix}-a`, "owner", 1],
        [`${prefix}-b`, "owner", 2],
        [`${prefix}-c`, "owner", 1],
      ]);
      expect(basic[1]).toEqual({ ...mineA.record, memberCount: 2, myRole: "owner" });

      const withPublic = ours(await store.listChannels(me, { includePublic: true, includeArchived: false }));
      expect(withPublic.map((c) => [c.name, c.myRole])).toEqual([
        [`${prefix}-a`, "owner"],
        [`${prefix}-b`, "owner"],
        [`${prefix}-c`, "owner"],
        [`${prefix}-e`, null],
      ]);

      const withArchived = await store.listChannels(me, { includePublic: false, includeArchived: true });
      expect(withArchived.map((c) => c.name)).toEqual([
        `${prefix}-a`,
        `${prefix}-b`,
        `${prefix}-c`,
        `${prefix}-d`,
      ]);
      expect(withArchived[3]!.archived).toBe(true);

      const asGuest = ours(await store.listChannels(guest, { includePublic: true, includeArchived: true }));
      expect(asGuest.map((c) => [c.name, c.myRole])).toEqual([
        [`${prefix}-b`, "member"],
        [`${prefix}-d`, null],
        [`${prefix}-e`, null],
      ]);
      expect(await store.listChannels(fresh("U"), { includePublic: false, includeArchived: true })).toEqual(
        [],
      );
    });

    it("upserts and gets users", async () => {
      const id = fresh("U");
      const username = fresh("user-");
      const made = await store.upsertUser({ id, username, displayName: "Ada", role: "member" });
      expect(made).toMatchObject({ id, username, displayName: "Ada", role: "member" });
      expect(typeof made.createdAt).toBe("number");
      expect(await store.getUser(id)).toEqual(made);

      expect(made).toEqual({
        id,
        username,
        displayName: "Ada",
        role: "member",
        title: "",
        timeZone: "",
        avatarFileId: null,
        deactivated: false,
        createdAt: made.createdAt,
      });

      // Later logins refresh the username and role; the display name is the user's own.
      const renamed = await store.upsertUser({
        id,
        username: `${username}-2`,
        displayName: "Ada L.",
        role: "admin",
      });
      expect(renamed).toEqual({ ...made, username: `${username}-2`, role: "admin" });
      expect(await store.getUser(id)).toEqual(renamed);
      expect(await store.getUser(fresh("U"))).toBeNull();

      await expect(
        store.upsertUser({ id: fresh("U"), username: `${username}-2`, displayName: "Eve", role: "member" }),
      ).rejects.toMatchObject({ code: "conflict" });
    });

    it("locates the channel of a message id", async () => {
      const [ch] = await created(store, new TestChannel());
      const { write, messages } = ch!.messages(fresh("U"), 2);
      await store.commit([write]);
      expect(await store.locateMessage(messages[1]!.id)).toBe(ch!.id);
      expect(await store.locateMessage(fresh("M"))).toBeNull();
    });

    it("updates a profile field by field", async () => {
      const id = fresh("U");
      const made = await store.upsertUser({
        id,
        username: fresh("prof-"),
        displayName: "Ada",
        role: "member",
      });
      const named = await store.updateProfile(id, { displayName: "Ada Lovelace", title: "Engineer" });
      expect(named).toEqual({ ...made, displayName: "Ada Lovelace", title: "Engineer" });
      const zoned = await store.updateProfile(id, { timeZone: "Europe/London" });
      expect(zoned).toEqual({ ...named, timeZone: "Europe/London" });
      expect(await store.updateProfile(id, {})).toEqual(zoned);
      expect(await store.updateProfile(id, { title: "" })).toEqual({ ...zoned, title: "" });
      expect(await store.getUser(id)).toEqual({ ...zoned, title: "" });
      expect(await store.updateProfile(fresh("U"), { title: "x" })).toBeNull();

      // A later login keeps the name the user chose.
      const again = await store.upsertUser({
        id,
        username: made.username,
        displayName: "ada",
        role: "moderator",
      });
      expect(again).toEqual({ ...zoned, title: "", role: "moderator" });
    });

    it("finds users by username, case-insensitively, deactivated ones included", async () => {
      const base = fresh("byname-");
      const alice = await store.upsertUser({
        id: fresh("U"),
        username: `${base}-Alice`,
        displayName: "A",
        role: "member",
      });
      const bob = await store.upsertUser({
        id: fresh("U"),
        username: `${base}-bob`,
        displayName: "B",
        role: "guest",
      });
      await hooks.deactivateUser(bob.id);
      const found = await store.getUsersByUsername([`${base}-alice`, `${base}-BOB`, `${base}-nobody`]);
      expect(found.sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual(
        [alice, { ...bob, deactivated: true }].sort((x, y) => (x.id < y.id ? -1 : 1)),
      );
      expect(await store.getUsersByUsername([`${base}-%`])).toEqual([]);
      expect(await store.getUsersByUsername([])).toEqual([]);
    });

    it("searches active users by prefix of username or of any word of the display name, wildcards taken literally", async () => {
      const p = fresh("q").toLowerCase();
      const mk = (username: string, displayName: string) =>
        store.upsertUser({ id: fresh("U"), username, displayName, role: "member" });
      const anna = await mk(`${p}a-anna`, "Zed");
      const bert = await mk(`${p}b-bert`, "Bert");
      const carl = await mk(`zz${p}-carl`, `${p.toUpperCase()} Carl`);
      const under = await mk(`${p}_under`, "U");
      const percent = await mk(`${p}%percent`, "P");
      const slash = await mk(`${p}\\slash`, "S");
      const gone = await mk(`${p}c-gone`, "Gone");
      await hooks.deactivateUser(gone.id);

      const names = async (prefix: string, limit = 50) =>
        (await store.searchUsers(prefix, limit)).map((u) => u.username);
      // Ordered by username: the alphanumeric ones only, whose order every collation agrees on.
      expect((await names(p)).filter((n) => /^[a-z0-9-]+$/.test(n))).toEqual([
        anna.username,
        bert.username,
        carl.username,
      ]);
      expect((await names(p)).sort()).toEqual(
        [anna, bert, carl, under, percent, slash].map((u) => u.username).sort(),
      );
      expect(await names(p.toUpperCase())).toHaveLength(6);
      expect(await names(`${p}A`)).toEqual([anna.username]);
      expect(await names(`${p} carl`)).toEqual([carl.username]);
      expect(await names(`zz${p}`)).toEqual([carl.username]);
      // Any word of a display name is a start: "Carl" is the second word of carl's.
      expect(await names(`carl`, 10_000)).toContain(carl.username);
      expect(await names(`${p}_`)).toEqual([under.username]);
      expect(await names(`${p}%`)).toEqual([percent.username]);
      expect(await names(`${p}\\`)).toEqual([slash.username]);
      expect(await names(`${p}c`)).toEqual([]);
      expect(await names(p, 1)).toHaveLength(1);
      expect(await names(p, 0)).toEqual([]);
      const [first] = await store.searchUsers(`${p}b`, 10);
      expect(first).toEqual(bert);
    });
  });
}
