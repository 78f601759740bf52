import { describe, expect, it } from "vitest";
import { fileChunks } from "./file-bytes.js";

const all = (seed: number, size: number, chunk?: number) => Buffer.concat([...fileChunks(seed, size, chunk)]);

describe("fileChunks", () => {
  it("makes exactly the size asked, in chunks of the size asked", () => {
    const chunks = [...fileChunks(1, 10_000, 4096)];
    expect(chunks.map((c) => c.length)).toEqual([4096, 4096, 1808]);
    expect([...fileChunks(1, 0)]).toEqual([]);
  });

  it("gives the same bytes for a seed, whatever the chunk size, and other bytes for another seed", () => {
    expect(all(7, 100_000, 1000).equals(all(7, 100_000, 65_536))).toBe(true);
    expect(all(7, 4096).equals(all(8, 4096))).toBe(false);
  });

  it("does not repeat itself within a file", () => {
    const bytes = all(3, 1 << 20);
    expect(bytes.subarray(0, 65_536).equals(bytes.subarray(65_536, 131_072))).toBe(false);
  });
});
