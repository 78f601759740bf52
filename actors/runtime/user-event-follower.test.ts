import { describe, expect, it } from "vitest";
import type { UserEvent } from "../../core/types.js";
import { publishable } from "./user-event-follower.js";

const event = (id: number, at: number): UserEvent => ({
  id,
  userId: "U1",
  type: "user.updated",
  data: {},
  at,
});

describe("which user events the relay may publish", () => {
  const now = 100_000;

  it("takes every event up to the first gap whose next event is young", () => {
    const events = [event(4, now - 50_000), event(5, now - 1), event(7, now - 1), event(8, now)];
    // 6 may still be committing: stop before 7.
    expect(publishable(events, 3, now).map((e) => e.id)).toEqual([4, 5]);
  });

  it("moves past a gap once the event after it is old: the change behind it failed", () => {
    const events = [event(5, now - 20_000), event(7, now - 20_000), event(9, now - 5)];
    expect(publishable(events, 4, now).map((e) => e.id)).toEqual([5, 7]);
  });

  it("waits at the start as well: the first event must follow the position", () => {
    expect(publishable([event(3, now - 5)], 1, now)).toEqual([]);
    expect(publishable([event(3, now - 10_000)], 1, now).map((e) => e.id)).toEqual([3]);
    expect(publishable([], 1, now)).toEqual([]);
  });
});
