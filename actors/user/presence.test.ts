import { describe, expect, it } from "vitest";
import { PresenceBook, type PresenceEntry, SessionPresence } from "./presence.js";

describe("SessionPresence", () => {
  it("is online while at least one session is open", () => {
    const p = new SessionPresence("U1", undefined);
    expect(p.presence).toEqual({ userId: "U1", status: "offline", since: 0 });
    expect(p.connect("s1", 10)).toEqual({
      presence: { userId: "U1", status: "online", since: 10 },
      onlineChanged: true,
    });
    expect(p.connect("s2", 20)).toBeNull();
    expect(p.connect("s2", 25)).toBeNull();
    expect(p.disconnect("s1", 30)).toBeNull();
    expect(p.presence).toEqual({ userId: "U1", status: "online", since: 10 });
    expect(p.disconnect("unknown", 35)).toBeNull();
    expect(p.disconnect("s2", 40)).toEqual({
      presence: { userId: "U1", status: "offline", since: 40 },
      onlineChanged: true,
    });
    expect(p.connected).toBe(false);
  });

  it("shows a chosen away or dnd only while connected; online clears them", () => {
    const p = new SessionPresence("U1", undefined);
    p.connect("s1", 1);
    expect(p.choose("away", 2)).toEqual({
      presence: { userId: "U1", status: "away", since: 2 },
      onlineChanged: false,
    });
    expect(p.choose("away", 3)).toBeNull();
    expect(p.choose("dnd", 4)?.presence.status).toBe("dnd");
    expect(p.choose("online", 5)?.presence.status).toBe("online");
    p.disconnect("s1", 6);
    // Chosen with no session: still offline, nothing visible changes.
    expect(p.choose("dnd", 7)).toBeNull();
    expect(p.presence.status).toBe("offline");
    expect(p.connect("s2", 8)?.presence).toEqual({ userId: "U1", status: "dnd", since: 8 });
  });

  it("keeps dnd across going offline but drops away", () => {
    const p = new SessionPresence("U1", undefined);
    p.connect("s1", 1);
    p.choose("dnd", 2);
    p.disconnect("s1", 3);
    expect(p.entry).toEqual({ userId: "U1", status: "offline", since: 3, kept: "dnd" });
    expect(p.connect("s2", 4)?.presence.status).toBe("dnd");
    p.choose("away", 5);
    p.disconnect("s2", 6);
    expect(p.entry.kept).toBeNull();
    expect(p.connect("s3", 7)?.presence.status).toBe("online");
  });

  it("keeps away when another session opens while one is open", () => {
    const p = new SessionPresence("U1", undefined);
    p.connect("s1", 1);
    p.choose("away", 2);
    expect(p.connect("s2", 3)).toBeNull();
    expect(p.presence.status).toBe("away");
  });

  it("restores a kept dnd and the offline time from the book after passivation", () => {
    const remembered: PresenceEntry = { userId: "U1", status: "offline", since: 50, kept: "dnd" };
    const p = new SessionPresence("U1", remembered);
    expect(p.presence).toEqual({ userId: "U1", status: "offline", since: 50 });
    expect(p.connect("s1", 60)?.presence.status).toBe("dnd");
  });
});

describe("PresenceBook", () => {
  it("shares what its own actors record, not what other threads applied", () => {
    const shared: PresenceEntry[] = [];
    const book = new PresenceBook((e) => shared.push(e));
    const mine: PresenceEntry = { userId: "U1", status: "online", since: 1, kept: null };
    const theirs: PresenceEntry = { userId: "U2", status: "dnd", since: 2, kept: "dnd" };
    book.record(mine);
    book.apply([theirs]);
    expect(shared).toEqual([mine]);
    expect(book.view("U1")).toEqual({ userId: "U1", status: "online", since: 1 });
    expect(book.view("U2")).toEqual({ userId: "U2", status: "dnd", since: 2 });
    expect(book.view("U3")).toEqual({ userId: "U3", status: "offline", since: 0 });
    expect(book.size).toBe(2);
  });
});
