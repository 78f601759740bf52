/**
 * Invariant 7, "Bad input never hurts", end to end on PGlite: malformed, oversized and
 * unknown frames (and bodies) get a coded error reply or a coded close, the server keeps
 * running, and no channel state is corrupted. Ends with a fuzz run of >10,000 frames.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpName } from "../core/ops.js";
import { decodeRequest, type EventFrame, encodeValue, FrameKind } from "../core/protocol.js";
import type { Message } from "../core/types.js";
import { api, connectAs, devToken, startServer, type TestServer } from "./harness.js";
import { RawSocket, type Reply } from "./raw-socket.js";
import { fuzzArbitrary } from "./support/fuzz-frames.js";
import { describeBytes, type FuzzLane, newFuzzTally, runFuzzLane } from "./support/fuzz-lane.js";
import { allLimitsOff } from "./support/limits.js";

const maxPending = 4;
const maxPayload = 64 * 1024;
const maxMessageChars = 4000;

let server: TestServer;
let alice: { token: string; userId: string };
let bob: { token: string; userId: string };
/** A public channel alice owns. */
let aliceChannel: string;
/** A private channel of bob's that alice is not in. */
let bobPrivate: string;
/** A public channel of bob's that alice is not in. */
let bobPublic: string;
const sockets: RawSocket[] = [];

/** Opens a raw socket as alice (or as nobody). */
async function open(token: string | null = alice.token): Promise<RawSocket> {
  const s = await RawSocket.open(server.wsUrl, token === null ? {} : { token });
  sockets.push(s);
  return s;
}

/** Sends `bytes` on a fresh socket and expects the server to close it with `code`. */
async function expectClose(bytes: Uint8Array | string, code: number): Promise<string> {
  const s = await open();
  s.sendRaw(bytes);
  const closed = await s.closed();
  expect(closed.code, `close of ${describeBytes(bytes)} (${closed.reason})`).toBe(code);
  // No reply comes before the close (events on the personal topic, such as one's own
  // presence going online, may).
  expect(s.frames.filter((f) => f[0] !== 3)).toEqual([]);
  return closed.reason;
}

/** Expects `[2, id, {code}]` for a request on `s`, and the socket still open. */
async function expectError(s: RawSocket, op: unknown, args: unknown, code: string): Promise<Reply> {
  const reply = await s.call(op, args);
  expect(reply[0], `${String(op)} ${JSON.stringify(reply[2])}`).toBe(FrameKind.error);
  expect(reply[2]).toMatchObject({ code });
  const body = reply[2] as { message: unknown; retryable: unknown };
  expect(typeof body.message).toBe("string");
  expect(typeof body.retryable).toBe("boolean");
  expect(s.isOpen).toBe(true);
  return reply;
}

function concat(...parts: Array<Uint8Array | number[]>): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `[0, id, op, <argsBytes>]` with hand-made argument bytes. */
function requestWithRawArgs(id: number, op: string, argsBytes: Uint8Array | number[]): Uint8Array {
  return concat([0x94], encodeValue(0), encodeValue(id), encodeValue(op), argsBytes);
}

/** `{a: {a: … nil}}`, `depth` maps deep. */
function nestedMaps(depth: number): Uint8Array {
  const out = new Uint8Array(depth * 3 + 1);
  for (let i = 0; i < depth; i++) out.set([0x81, 0xa1, 0x61], i * 3);
  out[depth * 3] = 0xc0;
  return out;
}

/** `[[[… nil]]]`, `depth` arrays deep. */
function nestedArrays(depth: number): Uint8Array {
  const out = new Uint8Array(depth + 1).fill(0x91);
  out[depth] = 0xc0;
  return out;
}

async function health(): Promise<number> {
  const res = await fetch(`${server.baseUrl}/health`);
  return res.status;
}

/** Nothing in the server's output that looks like a crash or an unhandled fault. */
function expectQuietServer(): void {
  expect(server.output()).not.toMatch(/error|uncaught|unhandled|fatal|\n\s+at /i);
}

beforeAll(async () => {
  server = await startServer("pglite", {
    COLINK_MAX_PENDING_REQUESTS: String(maxPending),
    COLINK_MAX_PAYLOAD_BYTES: String(maxPayload),
    COLINK_MAX_MESSAGE_CHARS: String(maxMessageChars),
    // The consistency check replays a channel's whole log.
    COLINK_REPLAY_LIMIT: "1000000",
    // Fuzzed `sub`s replay the whole fuzz channel (up to ~1 MB each); on a loaded machine the
    // client may read them slowly. This suite is not about slow consumers (past twice
    // this limit uWS drops the connection with 1006), so give it room.
    COLINK_MAX_BACKPRESSURE_BYTES: String(64 * 1024 * 1024),
    // The fuzzers open hundreds of connections a second and fire every op, for two users
    // from one address: each answer must be the one their input earns, not `rate_limited`.
    ...allLimitsOff,
  });
  alice = await devToken(server, "alice");
  bob = await devToken(server, "bob");
  const mk = async (token: string, name: string, kind: "public" | "private") => {
    const res = await api(server, token, "POST", "/v1/channels", { name, kind });
    expect(res.status).toBe(201);
    return (res.body.channel as { id: string }).id;
  };
  aliceChannel = await mk(alice.token, "alice-general", "public");
  bobPrivate = await mk(bob.token, "bob-secret", "private");
  bobPublic = await mk(bob.token, "bob-public", "public");
  const b = await RawSocket.open(server.wsUrl, { token: bob.token });
  const sent = await b.call("msg.send", { channelId: bobPrivate, text: "secret", clientMsgId: "s1" });
  expect(sent[0]).toBe(FrameKind.ok);
  await b.close();
});

afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  await server?.cleanup();
});

describe("frames that are not requests close the connection with 4002", () => {
  it("random bytes: an error reply when an id is readable, else close 4002", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), async (bytes) => {
        const decoded = decodeRequest(bytes);
        const s = await open();
        s.sendRaw(bytes);
        if (!decoded.ok && decoded.id === null) {
          const closed = await s.closed();
          expect(closed.code).toBe(4002);
        } else {
          const id = decoded.id as number;
          const reply = await s.reply(id);
          if (!decoded.ok) expect(reply[2]).toMatchObject({ code: "bad_request" });
        }
        await s.close();
      }),
      { numRuns: 150 },
    );
  });

  it("MessagePack values that are not arrays", async () => {
    const values: unknown[] = [
      0,
      1,
      -1,
      2 ** 40,
      1.5,
      Number.NaN,
      "hello",
      "",
      null,
      true,
      false,
      {},
      { 0: 0, 1: 1, 2: "user.me", 3: {} },
      new Uint8Array([0, 1, 2]),
    ];
    for (const v of values) {
      expect(await expectClose(encodeValue(v), 4002)).toMatch(/array|MessagePack/);
    }
  });

  it("arrays of the wrong arity or kind", async () => {
    const frames: unknown[] = [
      [],
      [0],
      [0, 1],
      [0, 1, "user.me"],
      [0, 1, "user.me", {}, {}],
      [0, 1, "user.me", {}, null],
      [1, 1, {}],
      [1, 1, "user.me", {}],
      [2, 1, { code: "bad_request" }],
      [3, "ch:x", "message.created", {}],
      [4, 1, "user.me", {}],
      [-1, 1, "user.me", {}],
      ["0", 1, "user.me", {}],
      [null, 1, "user.me", {}],
      [0.5, 1, "user.me", {}],
      [[0, 1, "user.me", {}]],
    ];
    for (const f of frames) await expectClose(encodeValue(f), 4002);
  });

  it("request ids that are not unsigned 32-bit integers", async () => {
    const ids: unknown[] = [-1, -(2 ** 31), 1.5, 0.1, "1", "", 2 ** 32, 2 ** 53, 1e300, null, true, [], {}];
    for (const id of ids) {
      const reason = await expectClose(encodeValue([0, id, "user.me", {}]), 4002);
      expect(reason).toMatch(/id/);
    }
    // NaN and infinities are floats too.
    for (const id of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      await expectClose(encodeValue([0, id, "user.me", {}]), 4002);
    }
    // A deeply nested id.
    await expectClose(concat([0x94, 0x00], nestedArrays(5000), encodeValue("user.me"), [0x80]), 4002);
  });

  it("the edges of the id range are fine", async () => {
    const s = await open();
    for (const id of [0, 2 ** 32 - 1, 2 ** 31]) {
      s.send("user.me", {}, id);
      const reply = await s.reply(id);
      expect(reply[0]).toBe(FrameKind.ok);
    }
  });

  it("text WebSocket messages", async () => {
    for (const text of ["hello", "", '[0,1,"user.me",{}]', "\u0000", "\u{1F600}".repeat(100)]) {
      expect(await expectClose(text, 4002)).toMatch(/binary/);
    }
  });

  it("truncated, trailing, reserved and extension bytes", async () => {
    const good = encodeValue([0, 1, "user.me", {}]);
    await expectClose(good.subarray(0, good.length - 1), 4002);
    await expectClose(concat(good, [0x00]), 4002);
    await expectClose(new Uint8Array([0xc1]), 4002);
    await expectClose(new Uint8Array(0), 4002);
    // fixext 1 in the args position: extensions are refused.
    await expectClose(requestWithRawArgs(1, "user.me", [0xd4, 0x01, 0x00]), 4002);
    // A map key "__proto__" is refused by the decoder.
    await expectClose(
      requestWithRawArgs(1, "user.me", [0x81, 0xa9, ...Buffer.from("__proto__"), 0x80]),
      4002,
    );
  });

  it("declared lengths far beyond the frame (str, bin, array, map)", async () => {
    const huge = [0xff, 0xff, 0xff, 0xff];
    const heads = [
      [0xdb, ...huge], // str 32
      [0xc6, ...huge], // bin 32
      [0xdd, ...huge], // array 32
      [0xdf, ...huge], // map 32
      [0xda, 0xff, 0xff], // str 16
      [0xdc, 0xff, 0xff], // array 16
      [0xdb, 0x00, 0x20, 0x00, 0x00], // str of 2 MiB (over the decoder's 1 MiB cap)
    ];
    for (const head of heads) {
      // As the whole frame, and in the args position of a well-formed request.
      await expectClose(concat(head, [0x41, 0x42]), 4002);
      await expectClose(requestWithRawArgs(1, "user.me", concat(head, [0x41])), 4002);
    }
    // An array or map longer than the decoder's element caps.
    await expectClose(requestWithRawArgs(1, "user.me", encodeValue(new Array(10_001).fill(0))), 4002);
    const bigMap = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, 0]));
    await expectClose(requestWithRawArgs(1, "user.me", encodeValue(bigMap)), 4002);
  });
});

describe("requests with a readable id get an error reply on that id", () => {
  it("unknown ops", async () => {
    const s = await open();
    const unknown: unknown[] = [
      "nope",
      "USER.ME",
      "user.me ",
      "user.me\u0000",
      "msg",
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
      "msg.locate",
      "user.hello",
      "x".repeat(64),
    ];
    for (const op of unknown) await expectError(s, op, {}, "bad_request");
    // Not a non-empty string of at most 64 characters.
    for (const op of ["", "x".repeat(65), "x".repeat(1000), 7, null, true, [], {}, 1.5]) {
      await expectError(s, op, {}, "bad_request");
    }
  });

  it("args that are not a map", async () => {
    const s = await open();
    for (const args of [null, [], [{ channelId: aliceChannel }], "x", 0, true, new Uint8Array(3)]) {
      await expectError(s, "ch.get", args, "bad_request");
    }
  });

  it("wrong argument types, missing and extra fields for real ops", async () => {
    const s = await open();
    const c = aliceChannel;
    const cases: Array<[OpName, Record<string, unknown>]> = [
      ["msg.send", { channelId: c, text: 42, clientMsgId: "a" }],
      ["msg.send", { channelId: c, text: ["hi"], clientMsgId: "a" }],
      ["msg.send", { channelId: c, text: "hi" }],
      ["msg.send", { channelId: c, clientMsgId: "a" }],
      ["msg.send", { text: "hi", clientMsgId: "a" }],
      ["msg.send", { channelId: c, text: "hi", clientMsgId: "a", extra: 1 }],
      ["msg.send", { channelId: c, text: "hi", clientMsgId: 7 }],
      ["msg.send", { channelId: c, text: "hi", clientMsgId: "" }],
      ["msg.send", { channelId: c, text: "hi", clientMsgId: "k".repeat(65) }],
      ["msg.send", { channelId: c, text: "", clientMsgId: "a" }],
      ["msg.send", { channelId: "", text: "hi", clientMsgId: "a" }],
      ["msg.send", { channelId: "bad id!", text: "hi", clientMsgId: "a" }],
      ["msg.send", { channelId: "C".repeat(65), text: "hi", clientMsgId: "a" }],
      ["msg.send", { channelId: 12, text: "hi", clientMsgId: "a" }],
      ["msg.send", { channelId: c, text: null, clientMsgId: "a" }],
      ["msg.edit", { channelId: c, messageId: 1, text: "x" }],
      ["msg.delete", { channelId: c }],
      ["msg.history", { channelId: c, limit: 0 }],
      ["msg.history", { channelId: c, limit: 201 }],
      ["msg.history", { channelId: c, limit: 1.5 }],
      ["msg.history", { channelId: c, limit: "10" }],
      ["msg.history", { channelId: c, beforeSeq: -1 }],
      ["msg.history", { channelId: c, afterSeq: 2 ** 60 }],
      ["sub", { channelId: c, sinceSeq: -5 }],
      ["sub", { channelId: c, sinceSeq: "0" }],
      ["ch.create", { name: "Upper", kind: "public" }],
      ["ch.create", { name: "ok-name", kind: "secret" }],
      ["ch.create", { name: "ok-name", kind: "dm" }],
      ["ch.create", { name: "-lead", kind: "public" }],
      ["ch.create", { name: "x".repeat(81), kind: "public" }],
      ["ch.create", { name: "ok-name", kind: "public", topic: "t".repeat(251) }],
      ["ch.create", { name: "ok-name" }],
      ["ch.update", { channelId: c, name: 5 }],
      ["ch.list", { includePublic: "yes" }],
      ["ch.list", { other: true }],
      ["ch.invite", { channelId: c }],
      ["user.me", { x: 1 }],
      ["auth", {}],
      ["auth", { token: 5 }],
      ["auth", { token: "" }],
      ["unsub", {}],
    ];
    for (const [op, args] of cases) {
      const reply = await expectError(s, op, args, "bad_request");
      expect((reply[2] as { message: string }).message).toMatch(/invalid args|op|text/);
    }
    // Nothing above reached the channel: its log holds only the create and the owner's join.
    const got = await s.call("ch.get", { channelId: c });
    expect(got[2]).toMatchObject({ channel: { lastSeq: 2 } });
  });

  it("NUL bytes and lone surrogates in strings", async () => {
    const s = await open();
    const c = aliceChannel;
    const cases: Array<[OpName, Record<string, unknown>]> = [
      ["msg.send", { channelId: c, text: "a\u0000b", clientMsgId: "nul1" }],
      ["msg.send", { channelId: c, text: "\u0000", clientMsgId: "nul2" }],
      ["msg.send", { channelId: c, text: "ok", clientMsgId: "nul\u0000id" }],
      ["msg.send", { channelId: c, text: "half \ud800 pair", clientMsgId: "sur1" }],
      ["msg.send", { channelId: c, text: "\udfff", clientMsgId: "sur2" }],
      ["msg.send", { channelId: c, text: "ok", clientMsgId: "\ud83d" }],
      ["msg.send", { channelId: `${c}\u0000`, text: "ok", clientMsgId: "nul3" }],
      ["ch.create", { name: "nul-topic", kind: "public", topic: "a\u0000" }],
      ["ch.update", { channelId: c, topic: "bad\u0000topic" }],
      ["auth", { token: "a\u0000b" }],
    ];
    for (const [op, args] of cases) await expectError(s, op, args, "bad_request");
    // A well-formed pair and other control characters are fine.
    const ok = await s.call("msg.send", {
      channelId: c,
      text: "emoji \u{1F600} \u0001\u001f",
      clientMsgId: "ok1",
    });
    expect(ok[0]).toBe(FrameKind.ok);
    expect(ok[2]).toMatchObject({ message: { text: "emoji \u{1F600} \u0001\u001f", seq: 3 } });
  });

  it("a string that is not well-formed UTF-8, anywhere in the request: bad_request, nothing stored", async () => {
    // A channel of its own: the other tests count aliceChannel's seqs.
    const created = await api(server, alice.token, "POST", "/v1/channels", { name: "utf8", kind: "public" });
    const channel = (created.body.channel as { id: string }).id;
    const lastSeq = async () => {
      const res = await api(server, alice.token, "GET", `/v1/channels/${channel}`);
      return (res.body.channel as { lastSeq: number }).lastSeq;
    };
    const before = await lastSeq();
    const str = (b: number[]) => [0xa0 | b.length, ...b];
    const text = (t: string) => str([...Buffer.from(t)]);
    // The security review's bytes: acked and stored as "aÿþ\x80b" before.
    const review = [0xa5, 0x61, 0xff, 0xfe, 0x80, 0x62];
    const sendWith = (id: number, key: number[], value: number[]) =>
      requestWithRawArgs(id, "msg.send", [
        0x83,
        ...text("channelId"),
        ...text(channel),
        ...text("clientMsgId"),
        ...text(`utf8-${id}`),
        ...key,
        ...value,
      ]);
    const s = await open();
    const frames = [
      sendWith(1, text("text"), str(review)),
      sendWith(2, text("text"), [0xd9, 201, ...Buffer.from("x".repeat(200)), 0xff]), // str8, over 200 bytes
      sendWith(3, text("text"), str([0xed, 0xa0, 0x80])), // a surrogate, encoded
      sendWith(4, text("text"), str([0xc0, 0xaf])), // an overlong "/"
      sendWith(5, str(review), text("hello")), // a map key
      concat([0x94], encodeValue(0), encodeValue(6), str([0x6d, 0x73, 0x67, 0xff]), encodeValue({})), // the op
    ];
    // Ids 1–6, which the socket's own counter (s.call) then skips past.
    for (const [i, bytes] of frames.entries()) {
      s.sendRaw(bytes);
      expect(s.id()).toBe(i + 1);
      expect(await s.reply(i + 1)).toEqual([
        FrameKind.error,
        i + 1,
        { code: "bad_request", message: "a string is not valid UTF-8", retryable: false },
      ]);
    }
    expect(s.isOpen).toBe(true);
    expect(await lastSeq()).toBe(before);
    // The same text well formed is taken.
    const ok = await s.call("msg.send", {
      channelId: channel,
      text: "a\u00ff\u00feb",
      clientMsgId: "utf8-ok",
    });
    expect(ok[2]).toMatchObject({ message: { text: "a\u00ff\u00feb" } });
    // Without a readable request id there is nothing to answer: close 4002.
    await expectClose(
      concat([0x94], encodeValue(0), str([0xff]), encodeValue("user.me"), encodeValue({})),
      4002,
    );
    // Over HTTP, a body that is not UTF-8 is a 400 bad_request, and nothing is stored.
    const res = await fetch(`${server.baseUrl}/v1/channels/${channel}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json" },
      body: new Uint8Array([...Buffer.from('{"text":"'), ...review, ...Buffer.from('"}')]),
    });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 400,
      body: { error: { code: "bad_request", message: "body is not valid UTF-8", retryable: false } },
    });
    expect(await lastSeq()).toBe(before + 1);
  });

  it("message text longer than COLINK_MAX_MESSAGE_CHARS is too_large; blank text is bad_request", async () => {
    const s = await open();
    const c = aliceChannel;
    await expectError(
      s,
      "msg.send",
      { channelId: c, text: "x".repeat(maxMessageChars + 1), clientMsgId: "long" },
      "too_large",
    );
    await expectError(s, "msg.send", { channelId: c, text: "   \n\t ", clientMsgId: "blank" }, "bad_request");
    // Exactly at the limit, counted in code points.
    const atLimit = "\u{1F600}".repeat(maxMessageChars);
    const ok = await s.call("msg.send", { channelId: c, text: atLimit, clientMsgId: "at-limit" });
    expect(ok[0]).toBe(FrameKind.ok);
  });

  it("deeply nested maps and arrays", async () => {
    const s = await open();
    // 20,000 maps deep (60 KB) as the args, and as a field's value.
    const depth = 20_000;
    let id = s.id();
    s.sendRaw(requestWithRawArgs(id, "user.me", nestedMaps(depth)));
    expect((await s.reply(id))[2]).toMatchObject({ code: "bad_request" });
    id = s.id();
    const inField = concat(
      [0x83],
      encodeValue("channelId"),
      encodeValue(aliceChannel),
      encodeValue("clientMsgId"),
      encodeValue("deep"),
      encodeValue("text"),
      nestedMaps(depth),
    );
    s.sendRaw(requestWithRawArgs(id, "msg.send", inField));
    expect((await s.reply(id))[2]).toMatchObject({ code: "bad_request" });
    id = s.id();
    s.sendRaw(requestWithRawArgs(id, "ch.get", nestedArrays(depth)));
    expect((await s.reply(id))[2]).toMatchObject({ code: "bad_request" });
    // As the op.
    id = s.id();
    s.sendRaw(concat([0x94, 0x00], encodeValue(id), nestedMaps(depth), [0x80]));
    expect((await s.reply(id))[2]).toMatchObject({ code: "bad_request" });
    expect(s.isOpen).toBe(true);
    expect((await s.call("user.me", {}))[0]).toBe(FrameKind.ok);
  });
});

describe("limits", () => {
  it("a frame of exactly COLINK_MAX_PAYLOAD_BYTES is read and answered", async () => {
    const s = await open();
    const id = s.id();
    const head = encodeValue([0, id, "msg.send", { channelId: aliceChannel, clientMsgId: "big", text: "" }]);
    // A str 16 header (3 bytes) replaces the empty string (1 byte).
    const textLength = maxPayload - (head.length - 1) - 3;
    const frame = encodeValue([
      0,
      id,
      "msg.send",
      { channelId: aliceChannel, clientMsgId: "big", text: "y".repeat(textLength) },
    ]);
    expect(frame.length).toBe(maxPayload);
    s.sendRaw(frame);
    expect((await s.reply(id))[2]).toMatchObject({ code: "too_large" });
  });

  it("a frame over COLINK_MAX_PAYLOAD_BYTES (up to twice it) gets the coded close 4003", async () => {
    for (const size of [maxPayload + 1, maxPayload + 1000, 2 * maxPayload]) {
      const s = await open();
      s.sendRaw(new Uint8Array(size).fill(0x90));
      expect(await s.closed(), `${size} bytes`).toMatchObject({ code: 4003 });
      expect(s.frames).toEqual([]);
    }
    // A well-formed request that is merely too big: closed the same way, and not executed.
    const s = await open();
    const text = "z".repeat(maxPayload);
    s.sendRaw(encodeValue([0, 1, "msg.send", { channelId: aliceChannel, clientMsgId: "oversize", text }]));
    expect(await s.closed()).toMatchObject({ code: 4003 });
    const check = await open();
    const h = await check.call("msg.history", { channelId: aliceChannel, limit: 200 });
    expect((h[2] as { messages: Message[] }).messages.map((m) => m.clientMsgId)).not.toContain("oversize");
  });

  it("beyond twice the limit uWS drops the connection (1006, as documented); nothing else is hurt", async () => {
    const bystander = await open();
    for (const size of [2 * maxPayload + 1, 4 * maxPayload, 1 << 20]) {
      const s = await open();
      s.sendRaw(new Uint8Array(size).fill(0x90));
      const closed = await s.closed();
      // docs/protocol.md, close codes: 1006 "A frame larger than twice COLINK_MAX_PAYLOAD_BYTES".
      expect(closed.code, `${size} bytes`).toBe(1006);
      expect((await bystander.call("user.me", {}))[0]).toBe(FrameKind.ok);
    }
    expect(await health()).toBe(200);
  });

  it("a duplicate in-flight request id closes with 4002", async () => {
    const s = await open();
    const send = (id: number, key: string) =>
      encodeValue([0, id, "msg.send", { channelId: aliceChannel, text: `dup ${key}`, clientMsgId: key }]);
    // One TCP write, so that request 1 is still committing when its twin arrives.
    s.sendBatch([send(1, "dup-a"), send(2, "dup-b"), send(1, "dup-c")]);
    const closed = await s.closed();
    expect(closed.code).toBe(4002);
    expect(closed.reason).toMatch(/already in flight/);
    // The twin was refused before reaching the channel: at most the first two were written.
    const check = await open();
    const h = await check.call("msg.history", { channelId: aliceChannel, limit: 200 });
    const texts = ((h[2] as { messages: Message[] }).messages ?? []).map((m) => m.text);
    expect(texts).not.toContain("dup dup-c");
  });

  it(`more than COLINK_MAX_PENDING_REQUESTS (${maxPending}) in flight are answered rate_limited`, async () => {
    const s = await open();
    const frames: Uint8Array[] = [];
    const sends = new Map<number, string>();
    for (let i = 0; i < 24; i++) {
      const id = s.id();
      if (i % 2 === 0) {
        const key = `flood-${i}`;
        sends.set(id, key);
        frames.push(
          encodeValue([0, id, "msg.send", { channelId: aliceChannel, text: key, clientMsgId: key }]),
        );
      } else {
        // Channels nobody has loaded yet: each needs a store read.
        frames.push(encodeValue([0, id, "msg.history", { channelId: `Cflood${i}`, limit: 5 }]));
      }
    }
    s.sendBatch(frames);
    const replies = await Promise.all(Array.from({ length: 24 }, (_, i) => s.reply(i + 1)));
    const limited = replies.filter((r) => r[0] === FrameKind.error && r[2].code === "rate_limited");
    expect(limited.length).toBeGreaterThan(0);
    expect(replies.length - limited.length).toBeGreaterThanOrEqual(maxPending);
    for (const r of limited) expect(r[2]).toMatchObject({ code: "rate_limited", retryable: true });
    for (const r of replies) {
      if (r[0] === FrameKind.ok) continue;
      expect(["rate_limited", "not_found"]).toContain(r[2].code);
    }
    expect(s.isOpen).toBe(true);
    // Refused sends left nothing behind; accepted ones are in the history exactly once.
    const h = await s.call("msg.history", { channelId: aliceChannel, limit: 200 });
    const texts = (h[2] as { messages: Message[] }).messages.map((m) => m.text);
    for (const [id, key] of sends) {
      const r = replies[id - 1]!;
      expect(texts.filter((t) => t === key).length, key).toBe(r[0] === FrameKind.ok ? 1 : 0);
    }
  });
});

describe("access to channels one may not see", () => {
  it("another user's private channel is not_found for every channel op", async () => {
    const s = await open();
    const c = bobPrivate;
    const cases: Array<[OpName, Record<string, unknown>]> = [
      ["ch.get", { channelId: c }],
      ["ch.members", { channelId: c }],
      ["ch.join", { channelId: c }],
      ["ch.update", { channelId: c, topic: "mine now" }],
      ["ch.archive", { channelId: c }],
      ["ch.invite", { channelId: c, userId: alice.userId }],
      ["ch.kick", { channelId: c, userId: bob.userId }],
      ["sub", { channelId: c }],
      ["sub", { channelId: c, sinceSeq: 0 }],
      ["msg.history", { channelId: c }],
      ["msg.send", { channelId: c, text: "hi", clientMsgId: "x" }],
      ["msg.edit", { channelId: c, messageId: "M1", text: "x" }],
      ["msg.delete", { channelId: c, messageId: "M1" }],
    ];
    for (const [op, args] of cases) await expectError(s, op, args, "not_found");
    // Over HTTP too.
    const res = await api(server, alice.token, "GET", `/v1/channels/${c}/messages`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: "not_found" } });
    // And no event of it reaches alice.
    expect(s.frames.filter((f) => f[0] === FrameKind.event && f[1] === `ch:${c}`)).toEqual([]);
  });

  // Regression: leave used to answer ok here, which told outsiders the channel exists.
  it("ch.leave of another user's private channel is not_found, like a nonexistent one", async () => {
    const s = await open();
    await expectError(s, "ch.leave", { channelId: "C000000000000000NOSUCH" }, "not_found");
    await expectError(s, "ch.leave", { channelId: bobPrivate }, "not_found");
  });

  it("another user's public channel: readable, but posting needs joining", async () => {
    const s = await open();
    expect((await s.call("ch.get", { channelId: bobPublic }))[0]).toBe(FrameKind.ok);
    await expectError(s, "msg.send", { channelId: bobPublic, text: "hi", clientMsgId: "x" }, "forbidden");
    await expectError(s, "ch.update", { channelId: bobPublic, topic: "x" }, "forbidden");
    await expectError(s, "ch.archive", { channelId: bobPublic }, "forbidden");
    await expectError(s, "ch.kick", { channelId: bobPublic, userId: bob.userId }, "forbidden");
  });

  it("ids of channels that do not exist are not_found", async () => {
    const s = await open();
    for (const c of ["C000000000000000NOSUCH", "Cx", "x", "-", "_".repeat(64), "C06H1SWT4REYNXFJVGHFH"]) {
      for (const op of ["ch.get", "ch.members", "ch.join", "ch.archive", "sub", "msg.history"] as const) {
        await expectError(s, op, { channelId: c }, "not_found");
      }
      await expectError(s, "msg.send", { channelId: c, text: "hi", clientMsgId: "x" }, "not_found");
      await expectError(s, "msg.edit", { channelId: c, messageId: "M1", text: "x" }, "not_found");
      await expectError(s, "ch.invite", { channelId: c, userId: bob.userId }, "not_found");
    }
    const res = await api(server, alice.token, "GET", "/v1/channels/C000000000000000NOSUCH");
    expect(res.status).toBe(404);
  });
});

describe("bad HTTP bodies", () => {
  const post = async (path: string, body: BodyInit, token = alice.token) => {
    const res = await fetch(`${server.baseUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
  };

  it("answers 400, 404 and 413 with a coded JSON error", async () => {
    expect(await post("/v1/channels", "{not json")).toMatchObject({
      status: 400,
      body: { error: { code: "bad_request" } },
    });
    expect(await post("/v1/channels", "[1,2]")).toMatchObject({
      status: 400,
      body: { error: { code: "bad_request" } },
    });
    expect(await post("/v1/channels", '"x"')).toMatchObject({ status: 400 });
    expect(await post("/v1/channels", "null")).toMatchObject({ status: 400 });
    expect(await post("/v1/channels", '{"name":"a\\u0000b","kind":"public"}')).toMatchObject({ status: 400 });
    expect(await post("/v1/channels", new Uint8Array([0xff, 0xfe, 0x00]))).toMatchObject({ status: 400 });
    const deep = `${"[".repeat(30_000)}${"]".repeat(30_000)}`;
    expect(await post("/v1/channels", deep)).toMatchObject({ status: 400 });
    const big = JSON.stringify({ name: "big", kind: "public", topic: "t".repeat(maxPayload) });
    expect(await post("/v1/channels", big)).toMatchObject({
      status: 413,
      body: { error: { code: "too_large" } },
    });
    expect(await post("/v1/nothing-here", "{}")).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
    const limit = await api(server, alice.token, "GET", `/v1/channels/${aliceChannel}/messages?limit=abc`);
    expect(limit).toMatchObject({ status: 400, body: { error: { code: "bad_request" } } });
    expect(await health()).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------
// Fuzz: >10,000 frames of random bytes and structurally plausible but wrong requests.

describe("fuzz", () => {
  it("survives >10,000 random and plausible-but-wrong frames, then works and is consistent", async () => {
    const started = Date.now();
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    const channelId = (
      (await api(server, alice.token, "POST", "/v1/channels", { name: "fuzz", kind: "public" })).body
        .channel as {
        id: string;
      }
    ).id;
    const frames = fc.sample(
      fuzzArbitrary(channelId, [bobPrivate, bobPublic, aliceChannel], maxMessageChars),
      {
        numRuns: 10_400,
        seed,
      },
    );
    const stats = newFuzzTally();
    const failures: string[] = [];
    const fail = (what: string) => {
      if (failures.length < 20) failures.push(`${what} (seed ${seed})`);
    };
    /** Ids of messages the fuzz created, for edits and deletes. */
    const known: string[] = [];
    let next = 0;
    const lanes = 4;

    const lane: FuzzLane = {
      wsUrl: server.wsUrl,
      token: alice.token,
      nextFrame: () => frames[next++] ?? null,
      channelId,
      known,
      tally: stats,
      fail,
      timeoutMs: 15_000,
    };
    await Promise.all(Array.from({ length: lanes }, (_, i) => runFuzzLane(lane, i)));
    const fuzzMs = Date.now() - started;
    console.log(
      `fuzz seed=${seed}: ${stats.sent} frames, ${stats.connections} connections, ${stats.replies} replies in ${fuzzMs} ms;`,
      `replies ${JSON.stringify(Object.fromEntries(stats.codes))}; closes ${JSON.stringify(Object.fromEntries(stats.closes))}`,
    );
    expect(failures.join("\n")).toBe("");
    expect(stats.sent).toBeGreaterThanOrEqual(10_000);
    expect(fuzzMs).toBeLessThan(45_000);

    // The server is alive and quiet.
    expect(await health()).toBe(200);
    expectQuietServer();

    // A normal client still works end to end.
    const { client } = await connectAs(server, "carol");
    try {
      const { channel } = await client.request("ch.create", { name: "after-fuzz", kind: "public" });
      const { message } = await client.send(channel.id, "still here");
      const history = await client.request("msg.history", { channelId: channel.id });
      expect(history.messages.map((m) => [m.id, m.text, m.seq])).toEqual([[message.id, "still here", 3]]);
    } finally {
      await client.close();
    }

    // The fuzz channel's log is gap-free and matches its state.
    const s = await open();
    const got = await s.call("ch.get", { channelId });
    expect(got[0]).toBe(FrameKind.ok);
    const lastSeq = (got[2] as { channel: { lastSeq: number } }).channel.lastSeq;
    const sub = await s.call("sub", { channelId, sinceSeq: 0 });
    expect(sub[2]).toMatchObject({ lastSeq });
    const events = s.frames.filter(
      (f): f is EventFrame => f[0] === FrameKind.event && f[1] === `ch:${channelId}`,
    );
    expect(events.map((e) => e[3].seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    const state = new Map<string, Message>();
    for (const [, , type, data] of events) {
      if (type === "message.created" || type === "message.updated") {
        const m = data.message as Message;
        state.set(m.id, m);
      } else if (type === "message.deleted") {
        const m = state.get(data.messageId as string);
        expect(m, `deleted message ${String(data.messageId)} exists`).toBeDefined();
        if (m) state.set(m.id, { ...m, text: "", deletedAt: data.deletedAt as number });
      }
    }
    const history: Message[] = [];
    for (let after = 0; ; ) {
      const page = await s.call("msg.history", { channelId, afterSeq: after, limit: 200 });
      expect(page[0]).toBe(FrameKind.ok);
      const { messages, hasMore } = page[2] as { messages: Message[]; hasMore: boolean };
      history.push(...messages);
      if (!hasMore || messages.length === 0) break;
      after = messages.at(-1)!.seq;
    }
    const seqs = history.map((m) => m.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    expect(Math.max(0, ...seqs)).toBeLessThanOrEqual(lastSeq);
    expect(history.map((m) => [m.id, m.seq, m.text, m.deletedAt !== null])).toEqual(
      [...state.values()]
        .sort((a, b) => a.seq - b.seq)
        .map((m) => [m.id, m.seq, m.text, m.deletedAt !== null]),
    );
    console.log(
      `fuzz channel: ${lastSeq} events, ${history.length} messages; total ${Date.now() - started} ms`,
    );
  }, 90_000);
});
