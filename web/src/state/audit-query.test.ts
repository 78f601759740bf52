import { describe, expect, it } from "vitest";
import { AuditActions } from "../../../core/types.js";
import {
  auditActions,
  auditListArgs,
  dayEnd,
  dayStart,
  detailsText,
  noAuditFilters,
  verdictText,
} from "./audit-query.js";

describe("audit log filters", () => {
  it("leaves blank filters out and trims the text ones", () => {
    expect(auditListArgs(noAuditFilters, undefined, 50)).toEqual({ limit: 50 });
    expect(
      auditListArgs({ ...noAuditFilters, actor: "  U1 ", action: "role.set", target: " " }, "c2", 25),
    ).toEqual({ limit: 25, actor: "U1", action: "role.set", cursor: "c2" });
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
});

describe("audit actions", () => {
  it("offers every action the server records, and only those", () => {
    expect([...auditActions].sort()).toEqual([...AuditActions].sort());
  });
});
