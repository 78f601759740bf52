/**
 * Placement: actor key → hash → virtual shard → worker thread. The shard layer is what
 * scale-out later maps onto nodes; within a node, shard mod W picks the worker.
 */

/** FNV-1a, 32-bit: cheap and well spread for short ids. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The virtual shard of a key. */
export function shardOf(key: string, shards: number): number {
  return hashKey(key) % shards;
}

/** The worker thread that hosts a shard, out of `workers` (≥ 1). */
export function workerOfShard(shard: number, workers: number): number {
  return shard % workers;
}
