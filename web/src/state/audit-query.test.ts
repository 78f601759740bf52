import type { User } from "@colink/client";
import { describe, expect, it } from "vitest";
import { AuditActions } from "../../../core/types.js";
import { dateTimeFormat } from "../format/time.js";
import {
  actorName,
  auditActions,
  auditListArgs,
  dayEnd,
  dayStart,
  detailsText,
  noAuditFilters,
  verdictText,
  withActorId,
} from "./audit-query.js";

describe("audit log filters", () => {
  it("leaves blank filters out and trims the text ones", () => {
    expect(auditListArgs(noAuditFilters, undefined, 50)).toEqual({ limit: 50 });
    expect(
      auditListArgs({ ...noAuditFilters, actor: "  U1 ", action: "role.set", target: " " }, "c2", 25),
    ).toEqual({ limit: 25, actor: "U1", action: "role.set", cursor: "c2" });
  });

  it("turns an Actor's username into the id of the user who has it exactly; anything else stays as typed", () => {
    const user = (id: string, username: string) => ({ id, username }) as User;
    const found = [user("U1", "mo-moderator"), user("U2", "mo")];
    const actor = (text: string) => withActorId({ ...noAuditFilters, actor: text }, found).actor;
    expect(actorName(" @Mo ")).toBe("Mo");
    expect(actorName("  ")).toBeNull();
    expect(actor("@MO")).toBe("U2");
    expect(actor("mo-moderator")).toBe("U1");
    // Not a username the search found: an id (a row's actor, `system:scanner`).
    expect(actor("system:scanner")).toBe("system:scanner");
    expect(actor("U9")).toBe("U9");
    expect(withActorId(noAuditFilters, found)).toEqual(noAuditFilters);
  });

  it("takes the days of the date fields in local time, the last day included", () => {
    const from = new Date(2026, 11, 1).getTime();
    const endOfDay = new Date(2026, 11, 8).getTime() - 1;
    expect(dayStart("2026-12-01")).toBe(from);
    expect(dayEnd("2026-12-07")).toBe(endOfDay);
    expect(auditListArgs({ ...noAuditFilters, from: "2026-12-01", to: "2026-12-07" }, undefined, 50)).toEqual(
      { limit: 50, from, to: endOfDay },
    );
  });

  it("ignores a date field that holds no date", () => {
    expect(dayStart("")).toBeUndefined();
    expect(dayEnd("12/07/2026")).toBeUndefined();
    expect(auditListArgs({ ...noAuditFilters, from: "soon" }, undefined, 10)).toEqual({ limit: 10 });
  });
});

describe("audit log texts", () => {
  it("says whether the chain is intact, or where and why it broke", () => {
    expect(verdictText({ ok: true, checked: 12 })).toBe("Chain intact (12 rows)");
    expect(verdictText({ ok: true, checked: 1 })).toBe("Chain intact (1 row)");
    expect(verdictText({ ok: false, checked: 4, brokenAt: "5", reason: "hash mismatch" })).toBe(
      "Broken at row 5: hash mismatch",
    );
  });

  it("shows details as key: value pairs, nested fields by their path, without empty values", () => {
    expect(detailsText({ reason: "spam", role: { from: "member", to: "admin" }, changed: true })).toBe(
      "reason: spam, role.from: member, role.to: admin, changed: true",
    );
    expect(
      detailsText({ original: { text: "hi", files: [], editedAt: null, fileIds: ["F1"] }, note: "" }),
    ).toBe('original.text: hi, original.fileIds: ["F1"]');
    expect(detailsText({})).toBe("");
  });

  it("shows a time as a date, not as epoch ms", () => {
    const at = Date.UTC(2026, 11, 7, 12, 30);
    expect(detailsText({ original: { createdAt: at }, count: 3 })).toBe(
      `original.createdAt: ${dateTimeFormat.format(at)}, count: 3`,
    );
  });
});

describe("audit actions", () => {
  it("offers every action the server records, and only those", () => {
    expect([...auditActions].sort()).toEqual([...AuditActions].sort());
  });
});
