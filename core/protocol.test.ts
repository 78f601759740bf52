import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  decodeRequest,
  errorFrame,
  eventFrame,
  maxRequestId,
  okFrame,
  okFrameHeadroom,
  okFrameIdOf,
  okFrameInPlace,
  okFrameOfPacked,
  packedIn,
  packedMessageOf,
  packResult,
  unpackResult,
  withPacked,
} from "./protocol.js";

describe("frames", () => {
  it("decodes a request and encodes the three server kinds", () => {
    expect(decodeRequest(encode([0, 7, "ch.get", { channelId: "C1" }]))).toEqual({
      ok: true,
      id: 7,
      op: "ch.get",
      args: { channelId: "C1" },
    });
    expect(decodeFrame(okFrame(7, { a: 1 }))).toEqual([1, 7, { a: 1 }]);
    expect(decodeFrame(errorFrame(7, { code: "not_found", message: "x", retryable: false }))).toEqual([
      2,
      7,
      { code: "not_found", message: "x", retryable: false },
    ]);
    expect(decodeFrame(eventFrame("ch:C1", "message.created", { seq: 3 }))).toEqual([
      3,
      "ch:C1",
      "message.created",
      { seq: 3 },
    ]);
  });

  it.each([0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31, maxRequestId])(
    "frames a packed result as okFrame would, for request id %i",
    (id) => {
      const result = { message: { id: "M1", seq: 2 ** 40, text: "héllo", reactions: [], editedAt: null } };
      const packed = packResult(result);
      expect(Buffer.from(okFrameOfPacked(id, packed))).toEqual(Buffer.from(okFrame(id, result)));
      // In place: the header goes into the free bytes in front, the bytes around stay.
      const shared = new Uint8Array(okFrameHeadroom + packed.length + 1).fill(0xee);
      shared.set(packed, okFrameHeadroom);
      const view = shared.subarray(okFrameHeadroom, okFrameHeadroom + packed.length);
      expect(Buffer.from(okFrameInPlace(id, view))).toEqual(Buffer.from(okFrame(id, result)));
      expect(shared[shared.length - 1]).toBe(0xee);
      expect(() => okFrameInPlace(id, packed)).toThrow(RangeError);
      expect(okFrameIdOf(okFrame(id, result))).toBe(id);
      expect(okFrameIdOf(errorFrame(id, { code: "not_found", message: "x", retryable: false }))).toBeNull();
      expect(unpackResult(packed)).toEqual(result);
    },
  );

  it.each([1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 40])(
    "takes the reply {message} out of a message.created frame at seq %i",
    (seq) => {
      const message = { id: "M1", seq, text: "ünïcode ✓ ".repeat(20), reactions: [], threadRootId: null };
      // The non-ASCII and surrogate topics check the UTF-8 count that finds the message.
      const topics = [
        "ch:C1",
        `ch:${"C".repeat(40)}`,
        `ch:${"D".repeat(300)}`,
        "ch:é€😀",
        "ch:\ud800x\udc00",
      ];
      for (const topic of topics) {
        const frame = eventFrame(topic, "message.created", { seq, message });
        const packed = packedMessageOf(frame, topic, "message.created", seq);
        expect(packed && Buffer.from(packed)).toEqual(Buffer.from(packResult({ message })));
      }
    },
  );

  it("finds no message in a frame laid out otherwise, and keeps attached bytes out of copies", () => {
    const other = eventFrame("ch:C1", "message.created", { seq: 3, message: {}, extra: 1 });
    expect(packedMessageOf(other, "ch:C1", "message.created", 3)).toBeNull();
    const renamed = eventFrame("ch:C1", "message.created", { seq: 3, massage: {} });
    expect(packedMessageOf(renamed, "ch:C1", "message.created", 3)).toBeNull();
    const frame = eventFrame("ch:C1", "message.created", { seq: 3, message: {} });
    expect(packedMessageOf(frame, "ch:C1", "message.created", 3)).not.toBeNull();
    expect(packedMessageOf(frame, "ch:C12", "message.created", 3)).toBeNull();
    expect(packedMessageOf(frame, "ch:C1", "message.updated!", 3)).toBeNull();
    expect(packedMessageOf(okFrame(3, { message: {} }), "ch:C1", "message.created", 3)).toBeNull();
    const result = withPacked({ a: 1 }, new Uint8Array([1]));
    expect(packedIn(result)).toEqual(new Uint8Array([1]));
    expect(packedIn({ ...result })).toBeUndefined();
    expect(Object.keys(result)).toEqual(["a"]);
  });

  it.each([
    ["garbage", new Uint8Array([0xc1, 0xff, 0x00]), null],
    ["a map", encode({ a: 1 }), null],
    ["wrong arity", encode([0, 1, "x"]), null],
    ["wrong kind", encode([1, 1, "x", {}]), null],
    ["negative id", encode([0, -1, "x", {}]), null],
    ["float id", encode([0, 1.5, "x", {}]), null],
    ["id above 2^32", encode([0, 2 ** 33, "x", {}]), null],
    ["empty op", encode([0, 4, "", {}]), 4],
    ["args not a map", encode([0, 5, "ch.get", [1]]), 5],
    ["args nil", encode([0, 6, "ch.get", null]), 6],
    ["huge declared array", new Uint8Array([0xdd, 0x7f, 0xff, 0xff, 0xff]), null],
  ])("refuses %s, keeping the id when it is readable", (_name, bytes, id) => {
    const r = decodeRequest(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.id).toBe(id);
  });
});

describe("strings in a request must be well-formed UTF-8", () => {
  /** A MessagePack str (fixstr, str8 or str16) holding `bytes` as they are. */
  const str = (bytes: number[]): number[] => {
    if (bytes.length < 32) return [0xa0 | bytes.length, ...bytes];
    if (bytes.length < 256) return [0xd9, bytes.length, ...bytes];
    return [0xda, bytes.length >> 8, bytes.length & 0xff, ...bytes];
  };
  /** `[0, 1, op, {k: v}]` with `op`, `k` and `v` given as raw str bytes. */
  const request = (op: number[], key: number[], value: number[]) =>
    new Uint8Array([0x94, 0x00, 0x01, ...str(op), 0x81, ...str(key), ...str(value)]);
  const ascii = (s: string) => [...Buffer.from(s)];
  const review = [0xa5, 0x61, 0xff, 0xfe, 0x80, 0x62];

  it("refuses the review's text bytes a5 61 ff fe 80 62 wherever a string stands, on the request's id", () => {
    const cases = [
      request(ascii("msg.send"), ascii("text"), review),
      request(ascii("msg.send"), ascii("text"), [...ascii("x".repeat(300)), ...review]), // str16: decoded natively
      request(ascii("msg.send"), review, ascii("hello")), // a map key
      request(review, ascii("text"), ascii("hello")), // the op
      request(ascii("msg.send"), ascii("text"), [0xed, 0xa0, 0x80]), // an encoded surrogate
    ];
    for (const bytes of cases) {
      expect(decodeRequest(bytes)).toEqual({ ok: false, id: 1, reason: "a string is not valid UTF-8" });
    }
  });

  it("without a readable id there is nothing to answer; the next frame starts afresh", () => {
    const badId = new Uint8Array([0x94, 0x00, ...str([0xff]), ...str(ascii("user.me")), 0x80]);
    expect(decodeRequest(badId)).toEqual({
      ok: false,
      id: null,
      reason: "request id must be an unsigned integer",
    });
    expect(decodeRequest(request(ascii("user.me"), ascii("k"), ascii("v")))).toMatchObject({ ok: true });
  });

  it("reads well-formed UTF-8 as before, and bin payloads stay bytes", () => {
    const thumbs = [...Buffer.from("👍 é €")];
    expect(decodeRequest(request(ascii("msg.send"), ascii("text"), thumbs))).toMatchObject({
      ok: true,
      args: { text: "👍 é €" },
    });
    const bin = new Uint8Array([
      0x94,
      0x00,
      0x01,
      ...str(ascii("x")),
      0x81,
      ...str(ascii("b")),
      0xc4,
      2,
      0xff,
      0xfe,
    ]);
    expect(decodeRequest(bin)).toMatchObject({ ok: true, args: { b: new Uint8Array([0xff, 0xfe]) } });
  });
});
