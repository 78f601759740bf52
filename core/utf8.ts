/**
 * Whether bytes are well-formed UTF-8, read in place. The frame decoder asks it of every
 * MessagePack str before decoding it, so it runs on the hot path: it copies nothing,
 * allocates nothing and skips ASCII four bytes at a time. Pure JavaScript, because the
 * client SDK (in browsers) shares core/protocol.ts; Node's native `isUtf8` is faster still
 * but would tie the module to Node.
 */

/**
 * True when `bytes[start, end)` is well-formed UTF-8 as the Unicode Standard defines it
 * (Table 3-7): no stray continuation byte, no truncated sequence, no overlong form, no
 * surrogate (U+D800–U+DFFF) and nothing above U+10FFFF.
 */
export function isWellFormedUtf8(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  let i = start;
  while (i < end) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      i++;
      // ASCII, the bulk of chat text, four bytes at a time (about twice as fast as one).
      while (i + 4 <= end && ((bytes[i]! | bytes[i + 1]! | bytes[i + 2]! | bytes[i + 3]!) & 0x80) === 0)
        i += 4;
      continue;
    }
    if (b0 < 0xc2) return false; // a continuation byte first, or an overlong 2-byte form
    if (b0 < 0xe0) {
      if (i + 1 >= end || !isContinuation(bytes[i + 1]!)) return false;
      i += 2;
      continue;
    }
    if (b0 < 0xf0) {
      if (i + 2 >= end) return false;
      const b1 = bytes[i + 1]!;
      // E0 needs A0–BF (else overlong); ED needs 80–9F (else a surrogate).
      const low = b0 === 0xe0 ? 0xa0 : 0x80;
      const high = b0 === 0xed ? 0x9f : 0xbf;
      if (b1 < low || b1 > high || !isContinuation(bytes[i + 2]!)) return false;
      i += 3;
      continue;
    }
    if (b0 < 0xf5) {
      if (i + 3 >= end) return false;
      const b1 = bytes[i + 1]!;
      // F0 needs 90–BF (else overlong); F4 needs 80–8F (else above U+10FFFF).
      const low = b0 === 0xf0 ? 0x90 : 0x80;
      const high = b0 === 0xf4 ? 0x8f : 0xbf;
      if (b1 < low || b1 > high || !isContinuation(bytes[i + 2]!) || !isContinuation(bytes[i + 3]!))
        return false;
      i += 4;
      continue;
    }
    return false; // F5–FF never occur in UTF-8
  }
  return true;
}

function isContinuation(b: number): boolean {
  return (b & 0xc0) === 0x80;
}
