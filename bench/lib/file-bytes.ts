/**
 * The bytes of S11's uploads, made on the fly: a seeded AES-128-CTR keystream (the key from
 * the seed through bench/lib/prng.ts), chunk by chunk, so that a 1 GiB file is never held
 * whole nor written to disk first, every file differs (clamd keeps no verdict of one
 * file for the next) and the same seed gives the same bytes again. It runs at several
 * GB/s here, far above what the server takes.
 */
import { createCipheriv } from "node:crypto";
import { prng } from "./prng.js";

/** The chunk the bytes come in, unless told otherwise. */
export const defaultChunkBytes = 64 * 1024;

/** The 16-byte key of a seed. */
function keyOf(seed: number): Buffer {
  const next = prng(seed);
  const key = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) key.writeUInt32LE(Math.floor(next() * 2 ** 32), i * 4);
  return key;
}

/** `size` bytes for `seed`, in chunks of `chunkBytes` (the last one shorter). */
export function* fileChunks(seed: number, size: number, chunkBytes = defaultChunkBytes): Generator<Buffer> {
  const cipher = createCipheriv("aes-128-ctr", keyOf(seed), Buffer.alloc(16));
  const zeros = Buffer.alloc(chunkBytes);
  for (let made = 0; made < size; ) {
    const n = Math.min(chunkBytes, size - made);
    yield cipher.update(n === chunkBytes ? zeros : zeros.subarray(0, n));
    made += n;
  }
}
