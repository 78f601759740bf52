/**
 * Identifiers: a one-letter kind prefix and 20 characters of Crockford base32, time
 * ordered (48-bit millisecond clock, then 52 random bits), so ids sort by creation time.
 * Ids are made on every send, so this avoids BigInt and draws randomness in bulk.
 */
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Kinds of id, by prefix. */
export const IdPrefix = { channel: "C", message: "M", user: "U", file: "F" } as const;

// One getRandomValues call per 4096 random characters instead of one per id.
const pool = new Uint8Array(4096);
let poolAt = pool.length;

function randomChar(): string {
  if (poolAt === pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return alphabet[pool[poolAt++]! & 31]!;
}

/** A new time-ordered id with the given prefix. */
export function newId(prefix: string, now = Date.now()): string {
  // 48 bits of time as 10 base32 characters (the top 2 bits of the first are zero).
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let random = "";
  for (let i = 0; i < 10; i++) random += randomChar();
  return prefix + time + random;
}
