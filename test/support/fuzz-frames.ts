/**
 * Fuzz frames for the WebSocket: fast-check arbitraries of random bytes, wrong shapes and
 * plausible-but-wrong requests (with well-formed writes mixed in), and their encoding with
 * the answer the server must give (a reply on the id, or a coded close); and well-formed
 * requests whose bytes are then mutated. Used by the fuzz run of test/bad-input.test.ts
 * and the long run of test/fuzz.alone.test.ts.
 */
import fc from "fast-check";
import { isOpName, type OpName, ops, parseArgs } from "../../core/ops.js";
import { decodeRequest, encodeValue } from "../../core/protocol.js";

/** One generated frame. `id` requests get their id assigned when sent. */
export type FuzzFrame =
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "text"; text: string }
  | { kind: "value"; value: unknown }
  | { kind: "request"; op: unknown; args: unknown }
  /** An edit or delete of a message the fuzz created earlier (chosen when sent). */
  | { kind: "known"; op: "msg.edit" | "msg.delete"; pick: number; text: string }
  /** A well-formed request whose bytes past its id are then changed by `edits`. */
  | { kind: "mutated"; op: string; args: Record<string, unknown>; edits: ByteEdit[] };

/** A change to the bytes of an encoded request; `at` is taken modulo the bytes it may touch. */
export interface ByteEdit {
  at: number;
  how: "flip" | "set" | "delete" | "insert" | "truncate" | "repeat";
  byte: number;
}

const opNames = Object.keys(ops) as OpName[];

/**
 * Frames about `channelId` (the fuzz channel, written to), `others` (channels that ops which
 * would take a channel away go to) and texts around `maxMessageChars`.
 */
export function fuzzArbitrary(
  channelId: string,
  others: string[],
  maxMessageChars: number,
): fc.Arbitrary<FuzzFrame> {
  const anyValue = fc.anything({ maxDepth: 3, maxKeys: 6 });
  const channelIdArb = fc.oneof(
    { weight: 6, arbitrary: fc.constant(channelId) },
    { weight: 2, arbitrary: fc.constantFrom(...others) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) },
    { weight: 1, arbitrary: anyValue },
  );
  const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((n) => `x${String.fromCharCode(n)}y`);
  const textArb = fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
    { weight: 1, arbitrary: loneSurrogate },
    { weight: 1, arbitrary: fc.constantFrom("a\u0000b", "   ", "", "x".repeat(maxMessageChars + 1)) },
    { weight: 1, arbitrary: anyValue },
  );
  const seqArb = fc.oneof(fc.nat({ max: 2000 }), fc.integer(), fc.double(), anyValue);
  const keyArb = fc.string({ minLength: 1, maxLength: 70 });
  const idArb = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), anyValue);
  const nameArb = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,12}$/), fc.string({ maxLength: 90 }));
  // Ops that would take the fuzz channel away (leave, archive) go to other channels only.
  const otherChannel = fc.oneof(fc.constantFrom(...others), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/));
  const baseArgs: Partial<Record<OpName, fc.Arbitrary<Record<string, unknown>>>> = {
    auth: fc.record({ token: fc.oneof(fc.string({ maxLength: 200 }), anyValue) }),
    "ch.create": fc.record(
      {
        name: nameArb,
        kind: fc.constantFrom("public", "private", "dm", "group_dm", "x"),
        topic: fc.string(),
      },
      { requiredKeys: ["name", "kind"] },
    ),
    "ch.get": fc.record({ channelId: channelIdArb }),
    "ch.list": fc.record(
      { includePublic: fc.oneof(fc.boolean(), anyValue), includeArchived: fc.boolean() },
      { requiredKeys: [] },
    ),
    "ch.update": fc.record(
      { channelId: channelIdArb, name: nameArb, topic: fc.string({ maxLength: 300 }) },
      { requiredKeys: ["channelId"] },
    ),
    "ch.archive": fc.record({ channelId: otherChannel }),
    "ch.join": fc.record({ channelId: channelIdArb }),
    "ch.invite": fc.record({ channelId: channelIdArb, userId: idArb }),
    "ch.leave": fc.record({ channelId: otherChannel }),
    "ch.kick": fc.record({ channelId: otherChannel, userId: idArb }),
    "ch.members": fc.record({ channelId: channelIdArb }),
    sub: fc.record({ channelId: channelIdArb, sinceSeq: seqArb }, { requiredKeys: ["channelId"] }),
    unsub: fc.record({ channelId: channelIdArb }),
    "msg.send": fc.record({
      channelId: channelIdArb,
      text: textArb,
      clientMsgId: fc.oneof(keyArb, anyValue),
    }),
    "msg.edit": fc.record({ channelId: channelIdArb, messageId: idArb, text: textArb }),
    "msg.delete": fc.record({ channelId: channelIdArb, messageId: idArb }),
    "msg.history": fc.record(
      {
        channelId: channelIdArb,
        beforeSeq: seqArb,
        afterSeq: seqArb,
        limit: fc.oneof(fc.integer({ min: -5, max: 300 }), anyValue),
      },
      { requiredKeys: ["channelId"] },
    ),
    "user.me": fc.constant({}),
  };
  // Valid-looking args, then maybe a field removed, replaced or added.
  const mutated = fc
    .constantFrom(...opNames)
    .chain((op) =>
      fc.tuple(
        fc.constant(op),
        baseArgs[op] ?? fc.constant({}),
        fc.constantFrom("none", "none", "drop", "replace", "extra"),
        keyArb,
        anyValue,
        fc.nat(),
      ),
    )
    .map(([op, args, how, key, value, pick]): FuzzFrame => {
      const a: Record<string, unknown> = { ...args };
      const keys = Object.keys(a);
      const target = keys.length > 0 ? keys[pick % keys.length]! : key;
      if (how === "drop") delete a[target];
      else if (how === "replace") a[target] = value;
      else if (how === "extra") a[key] = value;
      return { kind: "request", op, args: a };
    });
  const wrongOp = fc
    .tuple(
      fc.oneof(fc.string({ maxLength: 70 }), anyValue),
      fc.oneof(fc.dictionary(keyArb, anyValue), anyValue),
    )
    .map(([op, args]): FuzzFrame => ({ kind: "request", op, args }));
  const badIdValue = fc
    .tuple(
      fc.oneof(
        fc.integer({ max: -1 }),
        fc.double({ noInteger: true }),
        fc.string(),
        fc.constant(2 ** 32),
        fc.constant(2 ** 53),
      ),
      fc.constantFrom(...opNames),
    )
    .map(([id, op]): FuzzFrame => ({ kind: "value", value: [0, id, op, {}] }));
  const wrongShape = fc.oneof(
    anyValue,
    fc.array(anyValue, { maxLength: 6 }),
    fc.tuple(fc.integer({ min: 1, max: 9 }), fc.nat(), fc.constantFrom(...opNames), fc.constant({})),
  );
  // Well-formed writes to the fuzz channel, so that its log grows past the in-memory
  // window: sends (some retried with the same clientMsgId), edits, deletes, topic changes.
  const writes = fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(
          fc.string({ unit: "binary", minLength: 1, maxLength: 200 }),
          fc.oneof(fc.constantFrom(...Array.from({ length: 40 }, (_, i) => `retry-${i}`)), fc.uuid()),
        )
        .map(
          ([text, clientMsgId]): FuzzFrame => ({
            kind: "request",
            op: "msg.send",
            args: { channelId, text, clientMsgId },
          }),
        ),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom("msg.edit" as const, "msg.delete" as const),
          fc.nat(),
          fc.string({ minLength: 1 }),
        )
        .map(([op, pick, text]): FuzzFrame => ({ kind: "known", op, pick, text })),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: "grapheme", maxLength: 60 })
        .map((topic): FuzzFrame => ({ kind: "request", op: "ch.update", args: { channelId, topic } })),
    },
  );
  return fc.oneof(
    { weight: 12, arbitrary: writes },
    {
      weight: 14,
      arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes): FuzzFrame => ({ kind: "bytes", bytes })),
    },
    { weight: 4, arbitrary: wrongShape.map((value): FuzzFrame => ({ kind: "value", value })) },
    { weight: 2, arbitrary: badIdValue },
    { weight: 1, arbitrary: fc.string({ maxLength: 50 }).map((text): FuzzFrame => ({ kind: "text", text })) },
    { weight: 55, arbitrary: mutated },
    { weight: 12, arbitrary: wrongOp },
  );
}

/**
 * Well-formed requests about `channelId` (none that takes the channel away or replays its
 * log), mutated byte by byte past the request id: the op and the args become anything
 * from a near miss to garbage, and the id stays the one the sender chose.
 */
export function mutatedFrameArbitrary(channelId: string): fc.Arbitrary<FuzzFrame> {
  const text = fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 });
  type Base = [op: string, args: Record<string, unknown>];
  const req = (op: string, args: Record<string, unknown>): Base => [op, args];
  const base: fc.Arbitrary<Base> = fc.oneof(
    fc.tuple(text, fc.uuid()).map(([t, k]) => req("msg.send", { channelId, text: t, clientMsgId: k })),
    fc.integer({ min: 1, max: 200 }).map((limit) => req("msg.history", { channelId, limit })),
    fc.constant(req("react.add", { channelId, messageId: "M01ABCDEFGHJKMNPQRSTV", emoji: "thumbsup" })),
    text.map((topic) => req("ch.update", { channelId, topic })),
    fc.constant(req("typing", { channelId })),
    fc.nat({ max: 1000 }).map((seq) => req("read.mark", { channelId, seq })),
    text.map((q) => req("search", { q })),
    fc.constantFrom("online", "away", "dnd").map((status) => req("presence.set", { status })),
    text.map((title) => req("user.update", { title })),
    fc
      .tuple(text, fc.uuid(), fc.integer({ min: -1000, max: 60_000 }))
      .map(([t, k, d]) =>
        req("msg.schedule", { channelId, text: t, clientMsgId: k, sendAt: Date.now() + d }),
      ),
  );
  const edit: fc.Arbitrary<ByteEdit> = fc.record({
    at: fc.nat(),
    how: fc.constantFrom("flip", "set", "set", "delete", "insert", "truncate", "repeat"),
    byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0xc1, 0xdd, 0xdf, 0xff, 0x00, 0xa0)),
  });
  return fc
    .tuple(base, fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([[op, args], edits]): FuzzFrame => ({ kind: "mutated", op, args, edits }));
}

/** `bytes` with `edits` applied past the first `keep` bytes. */
function mutated(bytes: Uint8Array, keep: number, edits: readonly ByteEdit[]): Uint8Array {
  let out = [...bytes];
  for (const e of edits) {
    const room = out.length - keep;
    if (room <= 0) break;
    const at = keep + (e.at % room);
    if (e.how === "flip") out[at] = out[at]! ^ (1 << (e.byte % 8));
    else if (e.how === "set") out[at] = e.byte;
    else if (e.how === "delete") out.splice(at, 1);
    else if (e.how === "insert") out.splice(at, 0, e.byte);
    else if (e.how === "truncate") out = out.slice(0, at);
    else out.splice(at, 0, ...out.slice(at, at + 1 + (e.byte % 16)));
  }
  return new Uint8Array(out);
}

function validArgs(op: OpName, args: unknown): boolean {
  try {
    parseArgs(op, args);
    return true;
  } catch {
    return false;
  }
}

/** How the server must answer a frame on a connection. */
export type Expectation = { reply: number; code?: string } | { close: number };

/** The bytes (or text) of a frame on a connection, and how the server must answer them. */
export function encodeFuzz(
  frame: FuzzFrame,
  id: () => number,
  authed: boolean,
  channelId: string,
  known: string[],
): { wire: Uint8Array | string; expect: Expectation } {
  if (frame.kind === "text") return { wire: frame.text, expect: { close: 4002 } };
  if (frame.kind === "known") {
    const messageId = known[frame.pick % Math.max(1, known.length)] ?? "M0";
    const args =
      frame.op === "msg.edit" ? { channelId, messageId, text: frame.text } : { channelId, messageId };
    return encodeFuzz({ kind: "request", op: frame.op, args }, id, authed, channelId, known);
  }
  let wire: Uint8Array;
  if (frame.kind === "mutated") {
    const n = id();
    // The array header, the kind and the id stay: a mutated id could repeat one in flight.
    wire = mutated(encodeValue([0, n, frame.op, frame.args]), 2 + encodeValue(n).length, frame.edits);
  } else if (frame.kind === "bytes") wire = frame.bytes;
  else if (frame.kind === "value") {
    try {
      wire = encodeValue(frame.value);
    } catch {
      wire = new Uint8Array([0xc1]);
    }
  } else {
    const n = id();
    try {
      wire = encodeValue([0, n, frame.op, frame.args]);
    } catch {
      wire = encodeValue([0, n, frame.op, {}]);
    }
  }
  // The oracle is the server's own strict decoder: it decides close versus reply.
  const d = decodeRequest(wire);
  if (!d.ok && d.id === null) return { wire, expect: { close: 4002 } };
  if (!d.ok) return { wire, expect: { reply: d.id as number, code: "bad_request" } };
  // Without a token, a valid request other than auth closes with 4004; a valid auth with
  // a (random, hence refused) token closes with 4001 after its error reply.
  if (!authed && isOpName(d.op) && validArgs(d.op, d.args)) {
    return { wire, expect: { close: d.op === "auth" ? 4001 : 4004 } };
  }
  return { wire, expect: { reply: d.id } };
}
