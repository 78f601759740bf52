import { describe, expect, it } from "vitest";
import { ownerOfShard } from "./rendezvous.js";

const shards = Array.from({ length: 1024 }, (_, s) => s);
const owners = (nodes: string[]) => shards.map((s) => ownerOfShard(s, nodes));

describe("rendezvous placement of shards on nodes", () => {
  it("spreads shards evenly and ignores the order nodes are listed in", () => {
    const nodes = ["node-a:8080", "node-b:8080", "node-c:8080"];
    const counts = new Map<string, number>();
    for (const o of owners(nodes)) counts.set(o!, (counts.get(o!) ?? 0) + 1);
    for (const n of nodes) expect(Math.abs(counts.get(n)! - 1024 / 3)).toBeLessThan(1024 / 3 / 4);
    expect(owners([...nodes].reverse())).toEqual(owners(nodes));
  });

  it("moves only the shards a joining node takes, and only a leaving node's shards", () => {
    const three = owners(["n1", "n2", "n3"]);
    const four = owners(["n1", "n2", "n3", "n4"]);
    const moved = shards.filter((s) => three[s] !== four[s]);
    expect(moved.length).toBeGreaterThan(1024 / 4 / 2);
    expect(moved.every((s) => four[s] === "n4")).toBe(true);
    const two = owners(["n1", "n3"]);
    expect(shards.filter((s) => three[s] !== two[s]).every((s) => three[s] === "n2")).toBe(true);
  });

  it("has no owner without nodes", () => {
    expect(ownerOfShard(5, [])).toBeNull();
  });
});
