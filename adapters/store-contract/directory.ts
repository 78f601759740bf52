/**
 * The `Directory` part of the Store contract: users and the listings that span channels.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../../core/ports.js";
import type { ChannelKind } from "../../core/types.js";
import {
  created,
  fresh,
  type OpenEmptyDatabase,
  type StoreContractHooks,
  T0,
  TestChannel,
} from "./test-data.js";

/**
 * Registers the Directory tests over `store`, which the suite opens before they run;
 * `openEmpty` gives databases of their own to the tests of a migration.
 */
export function describeDirectoryContract(
  store: Store,
  hooks: StoreContractHooks,
  openEmpty: OpenEmptyDatabase,
): void {
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

      // Another user whose token names the same username gets a free one instead.
      const eve = await store.upsertUser({
        id: fresh("U"),
        username: `${username}-2`,
        displayName: "Eve",
        role: "member",
      });
      expect(eve.username).toBe(`${username}-2-2`);
    });

    it("keeps usernames unique regardless of case: a taken one (in any case) gets -2, -3, and stays", async () => {
      const base = fresh("Dup");
      const [first, second, third] = [fresh("U"), fresh("U"), fresh("U")];
      const upsert = (id: string, username: string, role: "member" | "admin" = "member") =>
        store.upsertUser({ id, username, displayName: "Dup", role });
      expect((await upsert(first, base)).username).toBe(base);
      // P1ALICE and p1alice were two users before.
      expect((await upsert(second, base.toUpperCase())).username).toBe(`${base.toUpperCase()}-2`);
      expect((await upsert(third, base.toLowerCase())).username).toBe(`${base.toLowerCase()}-3`);
      // Mentions and user search find one user by the name, in any case.
      for (const name of [base, base.toLowerCase(), base.toUpperCase()]) {
        expect((await store.getUsersByUsername([name])).map((u) => u.id)).toEqual([first]);
      }
      // Later sign-ins with the same token keep the name given (and still refresh the role).
      expect(await upsert(second, base.toUpperCase(), "admin")).toMatchObject({
        username: `${base.toUpperCase()}-2`,
        role: "admin",
      });
      expect((await store.getUser(second))!.username).toBe(`${base.toUpperCase()}-2`);
      // A user may change the case of their own name.
      expect((await upsert(first, base.toLowerCase())).username).toBe(base.toLowerCase());
      // Once the name is free, the next sign-in that names it takes it.
      expect((await upsert(first, `${base}-renamed`)).username).toBe(`${base}-renamed`);
      expect((await upsert(second, base.toUpperCase())).username).toBe(base.toUpperCase());
    });

    it("migrates usernames that differ only in case apart: the first created keeps it, the others get -2, -3", async () => {
      const db = await openEmpty("0007_usernames_unique_ignoring_case");
      try {
        await db.early.migrate();
        const mk = (id: string, username: string) =>
          db.early.upsertUser({ id, username, displayName: id, role: "member" });
        // Created in this order (createdAt ties are broken by id).
        await mk("U1", "Ann");
        await mk("U2", "ANN");
        await mk("U3", "ann-2"); // the first suffix is taken already: ANN gets -3
        await mk("U4", "ann");
        await mk("U5", "bob");
        await mk("U6", "Bob");
        await mk("U7", "solo");
        const eventsBefore = await db.early.readUserEvents(0, 1000);

        await db.full.migrate();
        const names = async () => {
          const users = await Promise.all(
            ["U1", "U2", "U3", "U4", "U5", "U6", "U7"].map((id) => db.full.getUser(id)),
          );
          return users.map((u) => u!.username);
        };
        expect(await names()).toEqual(["Ann", "ANN-3", "ann-2", "ann-4", "bob", "Bob-2", "solo"]);
        // Each renamed user has a user.updated event with the new name.
        const events = (await db.full.readUserEvents(0, 1000)).slice(eventsBefore.length);
        expect(events.map((e) => [e.userId, e.type, (e.data.user as { username: string }).username])).toEqual(
          [
            ["U2", "user.updated", "ANN-3"],
            ["U4", "user.updated", "ann-4"],
            ["U6", "user.updated", "Bob-2"],
          ],
        );
        expect(events[0]!.data.user).toEqual(await db.full.getUser("U2"));
        // From now on the database itself refuses a second "ann" in any case.
        expect(
          (await db.full.upsertUser({ id: "U8", username: "aNN", displayName: "x", role: "member" }))
            .username,
        ).toBe("aNN-5");
        await db.full.migrate();
        expect(await names()).toEqual(["Ann", "ANN-3", "ann-2", "ann-4", "bob", "Bob-2", "solo"]);
      } finally {
        await db.close();
      }
    });

    it("gives users signing in at once with one username (in different cases) different names", async () => {
      const base = fresh("race");
      const ids = Array.from({ length: 6 }, () => fresh("U"));
      const names = ["", "", "", "", "", ""].map((_, i) => (i % 2 === 0 ? base : base.toUpperCase()));
      const users = await Promise.all(
        ids.map((id, i) => store.upsertUser({ id, username: names[i]!, displayName: "R", role: "member" })),
      );
      const taken = users.map((u) => u.username.toLowerCase());
      expect(new Set(taken).size).toBe(ids.length);
      for (const t of taken)
        expect(t === base.toLowerCase() || t.startsWith(`${base.toLowerCase()}-`)).toBe(true);
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

    it("pages through every user by id, deactivated ones included", async () => {
      const base = fresh("U");
      const ids = [`${base}-a`, `${base}-b`, `${base}-c`];
      for (const id of ids)
        await store.upsertUser({ id, username: fresh("list-"), displayName: id, role: "member" });
      await hooks.deactivateUser(ids[1]!);
      const first = await store.listUsers(`${base}-`, 2);
      expect(first.map((u) => [u.id, u.deactivated])).toEqual([
        [ids[0], false],
        [ids[1], true],
      ]);
      expect((await store.listUsers(ids[1]!, 1)).map((u) => u.id)).toEqual([ids[2]]);
    });
  });
}
