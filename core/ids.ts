/**
 * Identifiers: a one-letter kind prefix and 20 characters of Crockford base32, time
 * ordered (48-bit millisecond clock, then 52 random bits), so ids sort by creation time.
 */
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Kinds of id, by prefix. */
export const IdPrefix = { channel: "C", message: "M", user: "U", file: "F" } as const;

function randomBits(count: number): bigint {
  const bytes = new Uint8Array(Math.ceil(count / 8));
  crypto.getRandomValues(bytes);
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v & ((1n << BigInt(count)) - 1n);
}

/** A new time-ordered id with the given prefix. */
export function newId(prefix: string, now = Date.now()): string {
  let v = (BigInt(now) << 52n) | randomBits(52);
  let out = "";
  for (let i = 0; i < 20; i++) {
    out = alphabet[Number(v & 31n)] + out;
    v >>= 5n;
  }
  return prefix + out;
}
