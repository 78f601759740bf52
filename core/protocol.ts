/**
 * The frame layer of the wire protocol (DESIGN.md): every WebSocket message is one
 * MessagePack array of one of four kinds. Decoding is strict because it runs on
 * untrusted bytes; anything that is not a well-formed request is reported, not thrown.
 */
import { Decoder } from "@msgpack/msgpack";
import type { ErrorBody } from "./errors.js";
import { encodeMessagePack } from "./msgpack-encoder.js";
import { isWellFormedUtf8 } from "./utf8.js";

/** The first element of every frame. */
export const FrameKind = { request: 0, ok: 1, error: 2, event: 3 } as const;

/** `[0, id, op, args]` sent by a client. */
export type RequestFrame = [kind: 0, id: number, op: string, args: Record<string, unknown>];
/** `[1, id, result]` */
export type OkFrame = [kind: 1, id: number, result: Record<string, unknown>];
/** `[2, id, error]` */
export type ErrorFrame = [kind: 2, id: number, error: ErrorBody];
/** `[3, topic, type, data]`; a channel event's `data.seq` is its log position. */
export type EventFrame = [kind: 3, topic: string, type: string, data: Record<string, unknown>];
/** Any frame. */
export type Frame = RequestFrame | OkFrame | ErrorFrame | EventFrame;

/** Largest request id a client may use (fits an unsigned 32-bit integer). */
export const maxRequestId = 0xffff_ffff;

/**
 * False once the frame being decoded held a str whose bytes are not well-formed UTF-8.
 * `decodeRequest` sets it before each frame and reads it after (decoding is synchronous).
 */
let strsWellFormed = true;

/** The decoder's per-str step, which @msgpack/msgpack keeps private (see `utf8Checked`). */
interface StrStep {
  decodeUtf8String(this: StrStepState, byteLength: number, headerOffset: number): unknown;
}
/** The decoder's state that the step reads: the frame and where the str's header starts. */
interface StrStepState {
  bytes: Uint8Array;
  pos: number;
}

/**
 * From this many bytes on, @msgpack/msgpack decodes a str with `TextDecoder` (its
 * TEXT_DECODER_THRESHOLD is 200), which turns ill-formed bytes into U+FFFD; shorter ones
 * it decodes in JavaScript, leniently (each stray byte becomes a code point).
 */
const libraryTextDecoderFrom = 201;

/**
 * `decoder`, noting in `strsWellFormed` any str (value or map key) whose bytes are not
 * well-formed UTF-8. The library has no option to refuse them (a short str `a5 61 ff fe
 * 80 62` became "aÿþ\x80b"), so its per-str step is wrapped on this one instance. A short
 * str's bytes are checked in place (no copy). A long one's decoded text is scanned for
 * U+FFFD instead, a native search: without one, its bytes were well formed, so the bytes
 * get a second pass only when the text has a U+FFFD. The frame is still decoded to its
 * end, so that its request id can be answered. The wrapped step and the threshold are
 * the library's private matters; the protocol tests send ill-formed strs of both sizes,
 * so a version that changed them fails those tests (and one without the step, this load).
 */
function utf8Checked(decoder: Decoder): Decoder {
  const internals = decoder as unknown as StrStep;
  const decodeStr = internals.decodeUtf8String;
  if (typeof decodeStr !== "function") throw new Error("@msgpack/msgpack: decodeUtf8String is gone");
  internals.decodeUtf8String = function (this: StrStepState, byteLength, headerOffset) {
    const bytes = this.bytes;
    const start = this.pos + headerOffset;
    // Throws for a str longer than the frame (or than maxStrLength): nothing to check.
    const text = decodeStr.call(this, byteLength, headerOffset) as string;
    if (strsWellFormed && (byteLength < libraryTextDecoderFrom || text.includes("\uFFFD")))
      strsWellFormed = isWellFormedUtf8(bytes, start, start + byteLength);
    return text;
  };
  return decoder;
}

// Limits on nested sizes stop a small frame from claiming huge allocations. Strings are
// bounded by the frame itself (COLINK_MAX_PAYLOAD_BYTES), so their cap is the largest
// payload limit allowed.
const decoder = utf8Checked(
  new Decoder({
    maxStrLength: 64 * 1024 * 1024,
    maxBinLength: 64 * 1024 * 1024,
    maxArrayLength: 10_000,
    maxMapLength: 1_000,
    maxExtLength: 0,
  }),
);

/** Encodes a frame to bytes. The result is a view into a fresh buffer, safe to keep. */
export function encodeFrame(frame: Frame): Uint8Array {
  return encodeMessagePack(frame);
}

/** Encodes a value that is already a frame-shaped array (used by the client). */
export function encodeValue(value: unknown): Uint8Array {
  return encodeMessagePack(value);
}

/** The outcome of decoding a client frame: a request, or why it is not one. */
export type DecodedRequest =
  | { ok: true; id: number; op: string; args: Record<string, unknown> }
  | { ok: false; id: number | null; reason: string };

/** True for a plain object (a MessagePack map), not an array or null. */
export function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * Decodes a client frame. A request whose id can be read but whose other parts are
 * wrong gets `id` back so that the error can be answered on that id.
 */
export function decodeRequest(bytes: Uint8Array): DecodedRequest {
  let value: unknown;
  strsWellFormed = true;
  try {
    value = decoder.decode(bytes);
  } catch {
    return { ok: false, id: null, reason: "frame is not valid MessagePack" };
  }
  if (!Array.isArray(value)) return { ok: false, id: null, reason: "frame must be an array" };
  const [kind, id, op, args] = value as unknown[];
  if (value.length !== 4 || kind !== FrameKind.request) {
    return { ok: false, id: null, reason: "frame must be a request [0, id, op, args]" };
  }
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > maxRequestId) {
    return { ok: false, id: null, reason: "request id must be an unsigned integer" };
  }
  if (!strsWellFormed) return { ok: false, id, reason: "a string is not valid UTF-8" };
  if (typeof op !== "string" || op.length === 0 || op.length > 64) {
    return { ok: false, id, reason: "op must be a non-empty string" };
  }
  if (!isPlainMap(args)) return { ok: false, id, reason: "args must be a map" };
  return { ok: true, id, op, args };
}

// Frames from the server are trusted and may be large (a long member list).
const serverFrameDecoder = new Decoder();

/** Decodes any server frame (used by the client SDK and tests). */
export function decodeFrame(bytes: Uint8Array): Frame {
  const value = serverFrameDecoder.decode(bytes);
  if (!Array.isArray(value) || value.length < 3) throw new Error("not a frame");
  return value as Frame;
}

/** Encodes an ok reply. */
export function okFrame(id: number, result: Record<string, unknown>): Uint8Array {
  return encodeMessagePack([FrameKind.ok, id, result]);
}

/**
 * Encodes a reply's result alone. An actor thread packs its results this way, so that the
 * main thread (which every socket write goes through) only frames them (`okFrameOfPacked`)
 * instead of encoding them, and so that a result crosses threads as bytes, not as a
 * structured clone of its objects.
 */
export function packResult(result: Record<string, unknown>): Uint8Array {
  return encodeMessagePack(result);
}

/** Where a result keeps its own packed bytes (see `withPacked`). */
const packedBytes = Symbol("packed");

/**
 * Attaches `packed`, the bytes `packResult(result)` would give, to `result`, so that they
 * are not encoded again. The property is a non-enumerable symbol: copies, structured
 * clones, JSON and MessagePack all leave it out.
 */
export function withPacked<T extends Record<string, unknown>>(result: T, packed: Uint8Array): T {
  Object.defineProperty(result, packedBytes, { value: packed });
  return result;
}

/** The bytes `withPacked` attached to `result`, if any. */
export function packedIn(result: Record<string, unknown>): Uint8Array | undefined {
  return (result as { [packedBytes]?: Uint8Array })[packedBytes];
}

/**
 * Where the MessagePack str that starts at `at` in `frame` ends, when its size is the UTF-8
 * size of `s`; -1 otherwise. The size is read from the str's header, not counted: topics
 * and event types are ASCII, whose size is their length, so the count (in JavaScript:
 * browsers have no `Buffer.byteLength`) only runs for a string that is not.
 */
function strEnd(frame: Uint8Array, at: number, s: string): number {
  const tag = frame[at];
  let header: number;
  let size: number;
  if (tag === undefined) return -1;
  if ((tag & 0xe0) === 0xa0) {
    header = 1;
    size = tag & 0x1f;
  } else if (tag === 0xd9) {
    header = 2;
    size = frame[at + 1] ?? -1;
  } else if (tag === 0xda) {
    header = 3;
    size = ((frame[at + 1] ?? 0) << 8) | (frame[at + 2] ?? 0);
  } else return -1; // a str32 is no topic or type: the caller encodes the reply itself
  if (size !== s.length && size !== utf8Length(s)) return -1;
  return at + header + size;
}

/** Bytes of `s` in UTF-8 as `TextEncoder` writes it (a lone surrogate as U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 2 units, 4 bytes.
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

/** Bytes of a non-negative integer as MessagePack writes it. */
function uintLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x1_0000 ? 3 : n < 0x1_0000_0000 ? 5 : 9;
}

/** `"message"` as a MessagePack str. */
const messageKey = new Uint8Array([0xa7, ...new TextEncoder().encode("message")]);

/**
 * The packed result `{message}` of a channel event frame `[3, topic, type, {seq, message}]`
 * (`eventFrame(topic, type, {seq, message})`): the message's bytes end the frame, and are
 * reused for the sender's reply rather than encoded a second time. Null when the frame is
 * not laid out that way.
 */
export function packedMessageOf(
  frame: Uint8Array,
  topic: string,
  type: string,
  seq: number,
): Uint8Array | null {
  // fixarray(4), kind, topic, type, then the data: fixmap(2), "seq", seq, "message", message
  if (frame[0] !== 0x94 || frame[1] !== FrameKind.event) return null;
  const typeAt = strEnd(frame, 2, topic);
  const data = typeAt < 0 ? -1 : strEnd(frame, typeAt, type);
  if (data < 0 || frame[data] !== 0x82) return null;
  const start = data + 1 + 4 + uintLength(seq) + messageKey.length;
  const key = start - messageKey.length;
  for (let i = 0; i < messageKey.length; i++) if (frame[key + i] !== messageKey[i]) return null;
  const packed = new Uint8Array(1 + messageKey.length + frame.length - start);
  packed[0] = 0x81;
  packed.set(messageKey, 1);
  packed.set(frame.subarray(start), 1 + messageKey.length);
  return packed;
}

/** The result inside `packResult`'s bytes (which come from this server, not a client). */
export function unpackResult(packed: Uint8Array): Record<string, unknown> {
  return serverFrameDecoder.decode(packed) as Record<string, unknown>;
}

/** An ok reply around a packed result: the same bytes as `okFrame(id, result)`. */
export function okFrameOfPacked(id: number, packed: Uint8Array): Uint8Array {
  const header = 2 + uintLength(id);
  const frame = new Uint8Array(header + packed.length);
  writeOkHeader(frame, id);
  frame.set(packed, header);
  return frame;
}

/** Bytes in front of a packed result that `okFrameInPlace` may write its header into. */
export const okFrameHeadroom = 7;

/**
 * `okFrameOfPacked(id, packed)` written in place: the header goes into the bytes just
 * before `packed`, which must be `okFrameHeadroom` free bytes of the same buffer, and the
 * frame is a view of that buffer (no copy of the result).
 */
export function okFrameInPlace(id: number, packed: Uint8Array): Uint8Array {
  const header = 2 + uintLength(id);
  if (packed.byteOffset < okFrameHeadroom) throw new RangeError("no headroom in front of the packed result");
  const frame = new Uint8Array(packed.buffer, packed.byteOffset - header, header + packed.length);
  writeOkHeader(frame, id);
  return frame;
}

/** Writes `[1, id, ` (the fixarray, the kind and the id) at the start of `frame`. */
function writeOkHeader(frame: Uint8Array, id: number): void {
  // ids fit 32 bits, so the id takes at most 5 bytes, as MessagePack's shortest uint.
  frame[0] = 0x93;
  frame[1] = FrameKind.ok;
  const idBytes = uintLength(id);
  if (idBytes === 1) frame[2] = id;
  else if (idBytes === 2) frame.set([0xcc, id], 2);
  else if (idBytes === 3) frame.set([0xcd, id >>> 8, id & 0xff], 2);
  else frame.set([0xce, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff], 2);
}

/**
 * The request id of an ok reply (`[1, id, result]`), read from its first bytes without
 * decoding the result (a load generator counting acks); null for any other frame.
 */
export function okFrameIdOf(frame: Uint8Array): number | null {
  if (frame.length < 4 || frame[0] !== 0x93 || frame[1] !== FrameKind.ok) return null;
  const tag = frame[2]!;
  if (tag < 0x80) return tag;
  if (tag === 0xcc) return frame[3]!;
  if (tag === 0xcd && frame.length >= 5) return (frame[3]! << 8) | frame[4]!;
  if (tag === 0xce && frame.length >= 7) {
    return ((frame[3]! << 24) | (frame[4]! << 16) | (frame[5]! << 8) | frame[6]!) >>> 0;
  }
  return null;
}

/** Encodes an error reply. */
export function errorFrame(id: number, error: ErrorBody): Uint8Array {
  return encodeMessagePack([FrameKind.error, id, error]);
}

/** Encodes an event. */
export function eventFrame(topic: string, type: string, data: Record<string, unknown>): Uint8Array {
  return encodeMessagePack([FrameKind.event, topic, type, data]);
}

/** The topic of a channel's events. */
export function channelTopic(channelId: string): string {
  return `ch:${channelId}`;
}

/** The personal topic of a user. */
export function userTopic(userId: string): string {
  return `u:${userId}`;
}

/** The channel whose topic `topic` is, or null when it is not a channel's. */
export function channelIdOfTopic(topic: string): string | null {
  return topic.startsWith("ch:") ? topic.slice(3) : null;
}

/** The user whose personal topic `topic` is, or null when it is not a user's. */
export function userIdOfTopic(topic: string): string | null {
  return topic.startsWith("u:") ? topic.slice(2) : null;
}
