import { describe, expect, it } from "vitest";
import { currentCursor, firstPage, nextPage, pageNumber, previousPage } from "./page-trail.js";

describe("page trail", () => {
  it("goes forward with each answer's cursor and back to the cursors it kept", () => {
    let trail = firstPage;
    expect([pageNumber(trail), currentCursor(trail)]).toEqual([1, undefined]);
    trail = nextPage(trail, "c2");
    trail = nextPage(trail, "c3");
    expect([pageNumber(trail), currentCursor(trail)]).toEqual([3, "c3"]);
    trail = previousPage(trail);
    expect([pageNumber(trail), currentCursor(trail)]).toEqual([2, "c2"]);
    trail = previousPage(trail);
    expect([pageNumber(trail), currentCursor(trail)]).toEqual([1, undefined]);
  });

  it("stays on the first page when asked for the one before it", () => {
    expect(previousPage(firstPage)).toBe(firstPage);
  });
});
