import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isWellFormedUtf8 } from "./utf8.js";

/** The platform's verdict: a fatal TextDecoder throws on exactly the ill-formed inputs. */
function decodesStrictly(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const bytes = (...b: number[]) => new Uint8Array(b);

describe("isWellFormedUtf8", () => {
  it("accepts ASCII, every sequence length and the edges of the code space", () => {
    for (const s of ["", "hello", "é", "€", "\u{1F44D}", "\u{10FFFF}", "\uD7FF", "\uE000", "a\u0000b"]) {
      expect(isWellFormedUtf8(new TextEncoder().encode(s)), s).toBe(true);
    }
  });

  it("refuses the review's bytes a5 61 ff fe 80 62, and each kind of ill-formed sequence", () => {
    const bad = [
      bytes(0xa5, 0x61, 0xff, 0xfe, 0x80, 0x62), // the security review's example
      bytes(0x80), // a stray continuation byte
      bytes(0xc0, 0xaf), // overlong "/"
      bytes(0xc1, 0xbf), // overlong
      bytes(0xe0, 0x80, 0xaf), // overlong 3-byte
      bytes(0xed, 0xa0, 0x80), // a surrogate, U+D800
      bytes(0xed, 0xbf, 0xbf), // a surrogate, U+DFFF
      bytes(0xf0, 0x80, 0x80, 0xaf), // overlong 4-byte
      bytes(0xf4, 0x90, 0x80, 0x80), // U+110000
      bytes(0xf5, 0x80, 0x80, 0x80), // never in UTF-8
      bytes(0xe2, 0x82), // truncated €
      bytes(0xf0, 0x9f, 0x91), // truncated 👍
      bytes(0xc3, 0x41), // a lead byte followed by ASCII
    ];
    for (const b of bad) expect(isWellFormedUtf8(b), Buffer.from(b).toString("hex")).toBe(false);
  });

  it("reads only the given range", () => {
    const b = bytes(0xff, 0x61, 0x62, 0xff);
    expect(isWellFormedUtf8(b, 1, 3)).toBe(true);
    expect(isWellFormedUtf8(b, 0, 3)).toBe(false);
    // A sequence cut by the end of the range is ill-formed even when the bytes go on.
    const euro = bytes(0xe2, 0x82, 0xac);
    expect(isWellFormedUtf8(euro, 0, 2)).toBe(false);
  });

  it("agrees with a fatal TextDecoder on random bytes and on mutated UTF-8", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(isWellFormedUtf8(b)).toBe(decodesStrictly(b));
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 20 }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (s, at, byte) => {
          const b = new TextEncoder().encode(s);
          if (b.length > 0) b[at % b.length] = byte;
          expect(isWellFormedUtf8(b)).toBe(decodesStrictly(b));
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
