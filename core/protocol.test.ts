import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { replayOutlet } from "../actors/runtime/actor-system.js";
import {
  decodeFrame,
  decodeRequest,
  encodedMap,
  encodeValue,
  errorFrame,
  eventFrame,
  eventFrameEncoded,
  okFrame,
  okFrameEncoded,
} from "./protocol.js";

describe("frames", () => {
  it("builds from an encoded value the very bytes of encoding it whole", () => {
    const message = { id: "M1", seq: 3, text: 'a "b" \\ ü👍', editedAt: null, mentions: [], n: 2 ** 40 };
    const view = encodeValue(message);
    const result = encodedMap([["message", view]]);
    expect(okFrameEncoded(70_000, result)).toEqual(okFrame(70_000, { message }));
    expect(
      eventFrameEncoded(
        "ch:C1",
        "message.created",
        encodedMap([
          ["seq", encodeValue(3)],
          ["message", view],
        ]),
      ),
    ).toEqual(eventFrame("ch:C1", "message.created", { seq: 3, message }));
  });

  it("hands a reply that crossed threads as bytes to the outlet, decoding its result on demand", () => {
    const replies: Array<{ callId: number; outcome: unknown }> = [];
    const outlet = {
      reply: (callId: number, outcome: unknown) => replies.push({ callId, outcome }),
      publish: () => {},
      revoke: () => {},
    };
    const encoded = encodedMap([["message", encodeValue({ id: "M1", seq: 3 })]]);
    replayOutlet(outlet, [["b", 9, encoded, undefined]]);
    expect(replies).toHaveLength(1);
    const outcome = replies[0]!.outcome as { ok: boolean; encoded: Uint8Array; result: unknown };
    expect(outcome.ok).toBe(true);
    expect(outcome.encoded).toBe(encoded);
    expect(outcome.result).toEqual({ message: { id: "M1", seq: 3 } });
  });

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
