/**
 * The `AuditLog` and `Accounts` parts of the Store contract: entries are chained in id
 * order (each one's `prevHash` is the hash of the one before), concurrent appends never
 * fork the chain, `verifyAudit` finds an entry edited or deleted in the database at that
 * entry, filters and pages work, and each account change writes its user event and its
 * audit entry with the change.
 */
import { describe, expect, it } from "vitest";
import type { AuditRecord, Store } from "../../core/ports.js";
import type { AuditEntry } from "../../core/types.js";
import { fresh, type StoreContractHooks } from "./test-data.js";

/** Registers the AuditLog and Accounts tests over `store`, which the suite opens before they run. */
export function describeAuditContract(store: Store, hooks: StoreContractHooks): void {
  const record = (over: Partial<AuditRecord> = {}): AuditRecord => ({
    at: Date.now(),
    actorId: fresh("U"),
    action: "role.set",
    target: fresh("U"),
    details: { role: "moderator", note: 'ünïcode "quoted"' },
    ip: "203.0.113.7",
    requestId: fresh("req-"),
    ...over,
  });

  /** Every entry, oldest first. */
  async function everything(): Promise<AuditEntry[]> {
    const all: AuditEntry[] = [];
    for (let after = 0; ; ) {
      const page = await store.readAudit(after, 500);
      if (page.length === 0) return all;
      all.push(...page.map(({ seq: _, ...e }) => e));
      after = page[page.length - 1]!.seq;
    }
  }

  describe("AuditLog", () => {
    it("chains entries in id order, from concurrent appends too, and verifies", async () => {
      const first = await store.recordAudit(record());
      expect(first).toMatchObject({ ip: "203.0.113.7", action: "role.set" });
      expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
      await Promise.all(
        Array.from({ length: 20 }, () => store.recordAudit(record({ action: "auth.login" }))),
      );
      const all = await everything();
      expect(all.length).toBeGreaterThanOrEqual(21);
      expect(all[0]!.prevHash).toBe("0".repeat(64));
      for (let i = 1; i < all.length; i++) {
        expect(all[i]!.prevHash).toBe(all[i - 1]!.hash);
        expect(BigInt(all[i]!.id) > BigInt(all[i - 1]!.id)).toBe(true);
      }
      expect(await store.verifyAudit()).toEqual({ ok: true, checked: all.length });
    });

    it("lists newest first with filters and pages", async () => {
      const actor = fresh("U");
      const target = fresh("C");
      const t = 1_800_000_000_000 + Math.floor(Math.random() * 1e9);
      for (let i = 0; i < 5; i++) {
        await store.recordAudit(
          record({ actorId: actor, at: t + i, action: i % 2 ? "ch.archive" : "msg.remove", target }),
        );
      }
      const page1 = await store.listAudit({ actor, limit: 3 });
      expect(page1.entries.map((e) => e.at)).toEqual([t + 4, t + 3, t + 2]);
      expect(page1.nextCursor).toBe(page1.entries[2]!.id);
      const page2 = await store.listAudit({ actor, limit: 3, before: page1.nextCursor! });
      expect(page2.entries.map((e) => e.at)).toEqual([t + 1, t]);
      expect(page2.nextCursor).toBeUndefined();
      const archived = await store.listAudit({ target, action: "ch.archive", limit: 10 });
      expect(archived.entries.map((e) => e.at)).toEqual([t + 3, t + 1]);
      const window = await store.listAudit({ actor, from: t + 1, to: t + 3, limit: 10 });
      expect(window.entries.map((e) => e.at)).toEqual([t + 3, t + 2, t + 1]);
      expect((await store.listAudit({ actor: fresh("nobody"), limit: 10 })).entries).toEqual([]);
    });

    it("finds an entry edited in the database at that entry, and a deleted one at the entry after it", async () => {
      const a = await store.recordAudit(record());
      const b = await store.recordAudit(record());
      const c = await store.recordAudit(record());
      expect((await store.verifyAudit()).ok).toBe(true);

      await hooks.editAuditDetails(b.id, { role: "admin" });
      const edited = await store.verifyAudit();
      expect(edited).toMatchObject({ ok: false, brokenAt: b.id });
      expect(edited.reason).toMatch(/changed/);
      await hooks.editAuditDetails(b.id, b.details);
      expect((await store.verifyAudit()).ok).toBe(true);

      const row = await hooks.deleteAuditRow(b.id);
      const deleted = await store.verifyAudit();
      expect(deleted).toMatchObject({ ok: false, brokenAt: c.id });
      expect(deleted.reason).toContain(`entry ${a.id}`);
      await hooks.restoreAuditRow(row);
      expect((await store.verifyAudit()).ok).toBe(true);

      // The newest entry deleted: only the chain's head tells.
      const last = await store.recordAudit(record());
      const lastRow = await hooks.deleteAuditRow(last.id);
      expect(await store.verifyAudit()).toMatchObject({ ok: false, brokenAt: last.id });
      await hooks.restoreAuditRow(lastRow);
      expect((await store.verifyAudit()).ok).toBe(true);
    });
  });

  describe("Accounts", () => {
    const origin = () => ({
      actorId: fresh("A"),
      ip: "198.51.100.1",
      requestId: fresh("r-"),
      at: Date.now(),
    });

    it("deactivates and reactivates with the user event and the audit entry, and says so to the gate", async () => {
      const id = fresh("U");
      const username = fresh("acc").toLowerCase();
      await store.upsertUser({ id, username, displayName: "Acc", role: "member" });
      expect(await store.accountOf(id)).toEqual({ deactivated: false, roleFromAdmin: null });
      const by = origin();
      const off = await store.setDeactivated(id, true, by);
      expect(off).toMatchObject({ id, deactivated: true });
      expect(await store.accountOf(id)).toEqual({ deactivated: true, roleFromAdmin: null });
      expect((await store.searchUsers(username, 5)).users).toEqual([]);
      const entries = (await store.listAudit({ target: id, limit: 10 })).entries;
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        action: "user.deactivate",
        actorId: by.actorId,
        ip: by.ip,
        requestId: by.requestId,
        at: by.at,
        details: { username, changed: true },
      });
      const events = (await store.readUserEvents(0, 100_000)).filter((e) => e.userId === id);
      expect(events.at(-1)).toMatchObject({ type: "user.updated", data: { user: { deactivated: true } } });
      const on = await store.setDeactivated(id, false, origin());
      expect(on?.deactivated).toBe(false);
      expect((await store.listAudit({ target: id, limit: 10 })).entries[0]!.action).toBe("user.reactivate");
      expect(await store.setDeactivated(fresh("U"), true, origin())).toBeNull();
      expect((await store.verifyAudit()).ok).toBe(true);
    });

    it("keeps a role an admin set over the token's claim", async () => {
      const id = fresh("U");
      const username = fresh("rol").toLowerCase();
      await store.upsertUser({ id, username, displayName: "Rol", role: "member" });
      const set = await store.setRole(id, "moderator", origin());
      expect(set?.role).toBe("moderator");
      expect(await store.accountOf(id)).toEqual({ deactivated: false, roleFromAdmin: "moderator" });
      const again = await store.upsertUser({ id, username, displayName: "Rol", role: "admin" });
      expect(again.role).toBe("moderator");
      const [entry] = (await store.listAudit({ target: id, action: "role.set", limit: 1 })).entries;
      expect(entry?.details).toEqual({ username, role: "moderator", previous: "member" });
      expect(await store.setRole(fresh("U"), "admin", origin())).toBeNull();
    });

    it("lists users for the admin page by username, deactivated ones included, in pages", async () => {
      const stem = fresh("lst").toLowerCase();
      const ids: string[] = [];
      for (const suffix of ["c", "a", "b"]) {
        const id = fresh("U");
        ids.push(id);
        await store.upsertUser({
          id,
          username: `${stem}${suffix}`,
          displayName: `Zed ${suffix}`,
          role: "member",
        });
      }
      await store.setDeactivated(ids[0]!, true, origin());
      const first = await store.listAccounts({ q: stem, limit: 2 });
      expect(first.map((u) => u.username)).toEqual([`${stem}a`, `${stem}b`]);
      const rest = await store.listAccounts({ q: stem, after: `${stem}b`, limit: 2 });
      expect(rest.map((u) => [u.username, u.deactivated])).toEqual([[`${stem}c`, true]]);
    });
  });
}
