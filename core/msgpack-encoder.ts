/**
 * The MessagePack encoder of every frame the server writes: the same bytes as
 * `@msgpack/msgpack`'s `Encoder({ ignoreUndefined: true })` for the values frames hold
 * (null, booleans, numbers, strings, arrays, plain objects, byte arrays), in about a
 * third of its time. Every `msg.send` encodes its `message.created` frame, and that
 * encoding was the largest single cost of an actor thread under S3 (docs/benchmarks.md);
 * the library's encoder asks its extension codec about every object, counts a map's keys
 * in a second pass over `Object.keys`, and walks every string twice.
 *
 * Anything else (a `Date`, a `bigint`, a `Map`) goes to the library's encoder, whole, so
 * that the output never differs from it. That includes a lone surrogate: in a string of
 * up to 50 UTF-16 units the library writes it as three bytes of its code (not valid
 * UTF-8, which the server's decoder turns back into the surrogate, and the request
 * checks reject), in a longer one as U+FFFD; so does this encoder.
 */
import { Encoder } from "@msgpack/msgpack";

const libraryEncoder = new Encoder({ ignoreUndefined: true });

/** The library's depth limit, kept so that a cyclic value fails the same way. */
const maxDepth = 100;

/** Strings up to this many UTF-16 units are copied by a JavaScript loop when they are ASCII. */
const shortString = 64;

/** Up to this many UTF-16 units the library encodes a string itself, above it with `TextEncoder`. */
const libraryTextEncoderThreshold = 50;

/** Thrown inside the encoder for a value it leaves to the library. */
const unsupported = Symbol("unsupported");

const textEncoder = new TextEncoder();

/**
 * One growing buffer per thread, reused by every call: each result is a copy of the
 * bytes written (`slice`), so the buffer is free again when `encode` returns.
 */
class FrameWriter {
  private bytes = new Uint8Array(4096);
  private view = new DataView(this.bytes.buffer);
  private pos = 0;
  private busy = false;

  encode(value: unknown): Uint8Array {
    // Re-entered (a getter that encodes, say): the library has its own state.
    if (this.busy) return libraryEncoder.encode(value);
    this.busy = true;
    this.pos = 0;
    try {
      this.value(value, 1);
      return this.bytes.slice(0, this.pos);
    } catch (err) {
      if (err === unsupported) return libraryEncoder.encode(value);
      throw err;
    } finally {
      this.busy = false;
      // A huge frame does not keep its buffer for the life of the thread.
      if (this.bytes.length > 1 << 20) this.reset(4096);
    }
  }

  private reset(size: number): void {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const old = this.bytes.subarray(0, this.pos);
    this.reset(Math.max(this.bytes.length * 2, (this.pos + n) * 2));
    this.bytes.set(old);
  }

  private value(v: unknown, depth: number): void {
    if (depth > maxDepth) throw new Error(`Too deep objects in depth ${depth}`);
    if (v === null || v === undefined) {
      this.ensure(1);
      this.bytes[this.pos++] = 0xc0;
      return;
    }
    switch (typeof v) {
      case "string":
        this.string(v);
        return;
      case "number":
        this.number(v);
        return;
      case "boolean":
        this.ensure(1);
        this.bytes[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case "object":
        break;
      default:
        throw unsupported;
    }
    if (Array.isArray(v)) {
      this.array(v, depth);
      return;
    }
    if (ArrayBuffer.isView(v)) {
      this.binary(v);
      return;
    }
    // Only plain objects (and null-prototype ones): a Date, a Map or a class instance
    // is the library's to encode, as it would have been.
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw unsupported;
    this.map(v as Record<string, unknown>, depth);
  }

  private number(v: number): void {
    this.ensure(9);
    const b = this.bytes;
    if (Number.isSafeInteger(v)) {
      if (v >= 0) {
        if (v < 0x80) b[this.pos++] = v;
        else if (v < 0x100) {
          b[this.pos++] = 0xcc;
          b[this.pos++] = v;
        } else if (v < 0x1_0000) {
          b[this.pos++] = 0xcd;
          this.view.setUint16(this.pos, v);
          this.pos += 2;
        } else if (v < 0x1_0000_0000) {
          b[this.pos++] = 0xce;
          this.view.setUint32(this.pos, v);
          this.pos += 4;
        } else {
          b[this.pos++] = 0xcf;
          this.view.setUint32(this.pos, Math.floor(v / 0x1_0000_0000));
          this.view.setUint32(this.pos + 4, v >>> 0);
          this.pos += 8;
        }
      } else if (v >= -0x20) b[this.pos++] = 0xe0 | (v + 0x20);
      else if (v >= -0x80) {
        b[this.pos++] = 0xd0;
        this.view.setInt8(this.pos++, v);
      } else if (v >= -0x8000) {
        b[this.pos++] = 0xd1;
        this.view.setInt16(this.pos, v);
        this.pos += 2;
      } else if (v >= -0x8000_0000) {
        b[this.pos++] = 0xd2;
        this.view.setInt32(this.pos, v);
        this.pos += 4;
      } else {
        b[this.pos++] = 0xd3;
        this.view.setInt32(this.pos, Math.floor(v / 0x1_0000_0000));
        this.view.setUint32(this.pos + 4, v >>> 0);
        this.pos += 8;
      }
      return;
    }
    b[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  private string(s: string): void {
    const length = s.length;
    if (length <= shortString) {
      // ASCII, the usual case for ids, keys and short texts: one pass, no native call.
      this.ensure(2 + length);
      const b = this.bytes;
      const start = this.pos + (length < 32 ? 1 : 2);
      let i = 0;
      for (; i < length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[start + i] = c;
      }
      if (i === length) {
        if (length < 32) b[this.pos] = 0xa0 | length;
        else {
          b[this.pos] = 0xd9;
          b[this.pos + 1] = length;
        }
        this.pos = start + length;
        return;
      }
    }
    if (length <= libraryTextEncoderThreshold) {
      this.shortUtf8(s);
      return;
    }
    this.longString(s);
  }

  /**
   * A string longer than `libraryTextEncoderThreshold`, encoded as the library does (with
   * `TextEncoder`, lone surrogates as U+FFFD) without counting its UTF-8 bytes first: the
   * text is written after room for the widest header its size could need (3 bytes per
   * UTF-16 unit at most), then moved back over the header bytes the actual size leaves
   * unused. Counting would walk the string a second time and has no browser-safe native
   * call (`Buffer.byteLength` is Node's).
   */
  private longString(s: string): void {
    const maxSize = s.length * 3;
    const room = headerBytes(maxSize);
    this.ensure(room + maxSize);
    const textAt = this.pos + room;
    const size = textEncoder.encodeInto(s, this.bytes.subarray(textAt, textAt + maxSize)).written;
    const unused = room - headerBytes(size);
    if (unused > 0) this.bytes.copyWithin(textAt - unused, textAt, textAt + size);
    this.stringHeader(size);
    this.pos += size;
  }

  /** A short string with non-ASCII characters, byte for byte as the library's `utf8EncodeJs`. */
  private shortUtf8(s: string): void {
    const length = s.length;
    this.ensure(5 + length * 3);
    const start = this.pos;
    // Header space for the largest size such a string can have (3 bytes per unit: 150).
    let at = start + 2;
    const b = this.bytes;
    for (let i = 0; i < length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        b[at++] = c;
        continue;
      }
      if (c < 0x800) {
        b[at++] = 0xc0 | (c >> 6);
      } else {
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < length) {
          const low = s.charCodeAt(i + 1);
          if ((low & 0xfc00) === 0xdc00) {
            i++;
            c = ((c & 0x3ff) << 10) + (low & 0x3ff) + 0x1_0000;
          }
        }
        if (c < 0x1_0000) {
          b[at++] = 0xe0 | (c >> 12);
          b[at++] = 0x80 | ((c >> 6) & 0x3f);
        } else {
          b[at++] = 0xf0 | (c >> 18);
          b[at++] = 0x80 | ((c >> 12) & 0x3f);
          b[at++] = 0x80 | ((c >> 6) & 0x3f);
        }
      }
      b[at++] = 0x80 | (c & 0x3f);
    }
    const size = at - start - 2;
    if (size < 32) {
      // A one-byte header: the text moves one byte back.
      b[start] = 0xa0 | size;
      b.copyWithin(start + 1, start + 2, at);
      this.pos = at - 1;
    } else {
      b[start] = 0xd9;
      b[start + 1] = size;
      this.pos = at;
    }
  }

  private stringHeader(size: number): void {
    const b = this.bytes;
    if (size < 32) b[this.pos++] = 0xa0 | size;
    else if (size < 0x100) {
      b[this.pos++] = 0xd9;
      b[this.pos++] = size;
    } else if (size < 0x1_0000) {
      b[this.pos++] = 0xda;
      this.view.setUint16(this.pos, size);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdb;
      this.view.setUint32(this.pos, size);
      this.pos += 4;
    }
  }

  private array(a: unknown[], depth: number): void {
    const n = a.length;
    this.ensure(5);
    this.collectionHeader(n, 0x90, 0xdc);
    for (let i = 0; i < n; i++) this.value(a[i], depth + 1);
  }

  private map(o: Record<string, unknown>, depth: number): void {
    // for…in, not Object.keys: no array per map (V8 caches an object's keys), and a plain
    // object inherits no enumerable key, so both give the same keys in the same order.
    let n = 0;
    for (const key in o) if (o[key] !== undefined) n++;
    this.ensure(5);
    this.collectionHeader(n, 0x80, 0xde);
    for (const key in o) {
      const item = o[key];
      if (item === undefined) continue;
      this.string(key);
      this.value(item, depth + 1);
    }
  }

  /** A fixarray/fixmap header (`fix`), or its 16- or 32-bit form (`wide`, `wide + 1`). */
  private collectionHeader(n: number, fix: number, wide: number): void {
    if (n < 16) this.bytes[this.pos++] = fix | n;
    else if (n < 0x1_0000) {
      this.bytes[this.pos++] = wide;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.bytes[this.pos++] = wide + 1;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  private binary(v: ArrayBufferView): void {
    const size = v.byteLength;
    this.ensure(5 + size);
    const b = this.bytes;
    if (size < 0x100) {
      b[this.pos++] = 0xc4;
      b[this.pos++] = size;
    } else if (size < 0x1_0000) {
      b[this.pos++] = 0xc5;
      this.view.setUint16(this.pos, size);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xc6;
      this.view.setUint32(this.pos, size);
      this.pos += 4;
    }
    b.set(new Uint8Array(v.buffer, v.byteOffset, size), this.pos);
    this.pos += size;
  }
}

/** Bytes of a MessagePack str header for a text of `size` bytes. */
function headerBytes(size: number): number {
  return size < 32 ? 1 : size < 0x100 ? 2 : size < 0x1_0000 ? 3 : 5;
}

const writer = new FrameWriter();

/** Encodes `value` as MessagePack (see the module comment); the result is a fresh copy, safe to keep. */
export function encodeMessagePack(value: unknown): Uint8Array {
  return writer.encode(value);
}
