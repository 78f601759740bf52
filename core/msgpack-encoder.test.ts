import { decode, Encoder } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { encodeMessagePack } from "./msgpack-encoder.js";

const library = new Encoder({ ignoreUndefined: true });

/** Same bytes as the library's encoder (with `ignoreUndefined`). */
function expectLibraryBytes(value: unknown): void {
  expect(Buffer.from(encodeMessagePack(value)).toString("hex")).toBe(
    Buffer.from(library.encode(value)).toString("hex"),
  );
}

/** A deterministic pseudo-random source, so that a failure can be replayed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

const boundaries = [
  0,
  1,
  0x7f,
  0x80,
  0xff,
  0x100,
  0xffff,
  0x1_0000,
  0xffff_ffff,
  0x1_0000_0000,
  Number.MAX_SAFE_INTEGER,
  -1,
  -0x20,
  -0x21,
  -0x80,
  -0x81,
  -0x8000,
  -0x8001,
  -0x8000_0000,
  -0x8000_0001,
  Number.MIN_SAFE_INTEGER,
  -0,
  0.5,
  -1.25,
  1e300,
  Number.MAX_SAFE_INTEGER + 2,
  Number.NaN,
  Number.POSITIVE_INFINITY,
];

function randomValue(rand: () => number, depth: number): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return boundaries[Math.floor(rand() * boundaries.length)];
    case 3:
      return Math.floor((rand() - 0.5) * 2 ** (rand() * 60));
    case 4: {
      // Lengths around each string header boundary, ASCII or not.
      const length = [0, 5, 31, 32, 64, 65, 255, 256][Math.floor(rand() * 8)]!;
      // UTF-16 units, so that some strings hold lone surrogates.
      const alphabet = rand() < 0.5 ? "abcxyz019 " : "aé€😀z";
      return Array.from({ length }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
    }
    case 5:
      return new Uint8Array(Array.from({ length: Math.floor(rand() * 300) }, (_, i) => i & 0xff));
    case 6: {
      const n = [0, 3, 15, 16, 40][Math.floor(rand() * 5)]!;
      return Array.from({ length: n }, () => randomValue(rand, depth + 1));
    }
    default: {
      const n = [0, 2, 15, 16, 20][Math.floor(rand() * 5)]!;
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++)
        o[`k${i}${"é".repeat(i % 2)}`] = rand() < 0.2 ? undefined : randomValue(rand, depth + 1);
      return o;
    }
  }
}

describe("encodeMessagePack", () => {
  it("writes the library's bytes for a message event frame", () => {
    const message = {
      id: "01JDZ3K8Q6W5X4Y3Z2A1B0C9D8",
      channelId: "01JDZ3K8Q6W5X4Y3Z2A1B0CHAN",
      seq: 12_345,
      text: "héllo @everyone 😀",
      createdAt: 1_764_300_000_000,
      editedAt: null,
      threadRootId: undefined,
      mentions: [],
      reactions: [{ emoji: "👍", count: 2, me: false }],
    };
    expectLibraryBytes([3, `ch:${message.channelId}`, "message.created", { seq: 12_345, message }]);
  });

  it("writes the library's bytes for every number, string and collection size boundary", () => {
    for (const n of boundaries) expectLibraryBytes(n);
    for (const length of [0, 31, 32, 255, 256, 65_535, 65_536]) {
      expectLibraryBytes("a".repeat(length));
      expectLibraryBytes("é".repeat(length));
      expectLibraryBytes(Array.from({ length: Math.min(length, 70_000) }, () => 1));
      expectLibraryBytes(new Uint8Array(length));
      expectLibraryBytes(
        Object.fromEntries(Array.from({ length: Math.min(length, 70_000) }, (_, i) => [`k${i}`, i])),
      );
    }
    expectLibraryBytes([undefined, null, true, false, Buffer.from("bytes"), new Uint16Array([1, 2, 3])]);
    expectLibraryBytes({ a: undefined, b: { c: undefined } });
  });

  it("writes the library's bytes for random values (seeded)", () => {
    const rand = seeded(4242);
    for (let i = 0; i < 1000; i++) expectLibraryBytes(randomValue(rand, 0));
  });

  it("leaves values it does not write itself to the library", () => {
    expectLibraryBytes({ at: new Date(1_764_300_000_123), map: new Map([["a", 1]]) });
    expect(() => encodeMessagePack({ n: 1n })).toThrow();
  });

  it("writes lone surrogates as the library does, in short and long strings", () => {
    for (const text of ["a\ud800b", "\udfff", "x\ud83d", "a\ud800b".repeat(20), "é\ud800".repeat(30)]) {
      expectLibraryBytes({ text });
    }
    // Short: the surrogate survives (and the server's checks reject it); long: U+FFFD.
    expect(decode(encodeMessagePack("a\ud800b"))).toBe("a\ud800b");
  });

  it("fails on a cyclic value like the library, and encodes normally afterwards", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeMessagePack(cyclic)).toThrow(/Too deep/);
    expectLibraryBytes({ after: "ok" });
  });

  it("returns a copy that a later call does not overwrite", () => {
    const first = encodeMessagePack({ first: 1 });
    encodeMessagePack({ second: "overwrites the shared buffer" });
    expect(decode(first)).toEqual({ first: 1 });
  });
});
