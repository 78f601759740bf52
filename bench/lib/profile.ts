/**
 * Where Colink's time goes: reads a V8 `.cpuprofile` (from `node --cpu-prof`) and sums
 * self time per function, so the report can list the top costs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** One function's share of the busy (non-idle) samples. */
export interface Cost {
  where: string;
  sharePct: number;
}

/** The top `n` functions by self time in every profile found in `dir`, idle excluded. */
export function topCosts(dir: string, n = 15): Cost[] {
  const totals = new Map<string, number>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as { nodes: ProfileNode[] };
    for (const node of profile.nodes) {
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === "(idle)") continue;
      const where = url
        ? `${functionName || "(anonymous)"} ${basename(url)}:${lineNumber + 1}`
        : functionName || "(native)";
      totals.set(where, (totals.get(where) ?? 0) + (node.hitCount ?? 0));
    }
  }
  const busy = [...totals.values()].reduce((a, b) => a + b, 0) || 1;
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([where, hits]) => ({ where, sharePct: Math.round((hits / busy) * 1000) / 10 }));
}
