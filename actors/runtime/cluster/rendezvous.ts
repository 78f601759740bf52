/**
 * Rendezvous (highest random weight) hashing of shards onto nodes: every node computes
 * the same owner from the same set of live nodes, and when a node joins or leaves only
 * the shards it gains or loses move.
 */
import { hashKey } from "../placement.js";

/** A 32-bit avalanche (murmur3's finaliser): FNV alone scores near-equal strings alike. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The node that owns `shard` among `nodes`, or null when there is none. */
export function ownerOfShard(shard: number, nodes: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const node of nodes) {
    const score = mix(hashKey(`${node}#${shard}`));
    // Ties (rare) go to the smaller id, so that every node breaks them alike.
    if (score > bestScore || (score === bestScore && best !== null && node < best)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}
