/**
 * One lane of a WebSocket fuzz run, shared by the quick fuzz (test/bad-input.test.ts) and
 * the long one (test/fuzz.alone.test.ts): it takes frames from a source, sends them in
 * batches on connections of its own (one in ten unauthenticated, one in ten with a bearer
 * header), and checks every answer against what the server's own decoder says it must be:
 * a reply with a known error code (never `internal`), or a coded close for a frame that
 * must close. Every departure is told to `fail`; the tally counts what happened.
 */
import { ErrorCode } from "../../core/errors.js";
import { encodeValue, FrameKind } from "../../core/protocol.js";
import { isCodedClose, RawSocket } from "../raw-socket.js";
import { type Expectation, encodeFuzz, type FuzzFrame } from "./fuzz-frames.js";

/** What the lanes of one run counted, together. */
export interface FuzzTally {
  sent: number;
  replies: number;
  connections: number;
  closes: Map<number, number>;
  codes: Map<string, number>;
}

/** An empty tally. */
export function newFuzzTally(): FuzzTally {
  return { sent: 0, replies: 0, connections: 0, closes: new Map(), codes: new Map() };
}

/** A frame's bytes (or text) in a failure message: the length and the first 24 bytes. */
export function describeBytes(b: Uint8Array | string): string {
  if (typeof b === "string") return `text ${JSON.stringify(b.slice(0, 40))}`;
  return `${b.length} bytes ${Buffer.from(b.subarray(0, 24)).toString("hex")}`;
}

export interface FuzzLane {
  wsUrl: string;
  /** The token of the user the authenticated connections act as. */
  token: string;
  /** The next frame to send; null when the run has sent them all. */
  nextFrame: () => FuzzFrame | null;
  /** The channel requests name. */
  channelId: string;
  /** Ids of messages the fuzz created, for edits and deletes; shared by the lanes. */
  known: string[];
  tally: FuzzTally;
  fail: (what: string) => void;
  /** How long one batch may take to be answered (or to close its connection). */
  timeoutMs: number;
  /** Told after each batch is sent, with its size (for progress and memory samples). */
  onSent?: (frames: number) => void;
}

const knownCodes = new Set<string>(Object.values(ErrorCode));
const batchSize = 12;
/** A long-lived connection keeps every frame it got: a new one after this many frames. */
const framesPerConnection = 400;
/** Enough message ids for edits and deletes to hit real messages often. */
const knownCap = 5000;

/** Runs one lane until the frame source is empty. */
export async function runFuzzLane(lane: FuzzLane, laneNo: number): Promise<void> {
  const { tally, fail, known } = lane;
  let s: RawSocket | null = null;
  let authed = false;
  let used = 0;
  for (;;) {
    if (s?.isOpen && used >= framesPerConnection) {
      await s.close();
      s = null;
    }
    if (!s?.isOpen) {
      const mode = tally.connections % 10;
      authed = mode !== 9;
      s = await RawSocket.open(
        lane.wsUrl,
        !authed ? {} : mode === 8 ? { bearer: lane.token } : { token: lane.token },
      );
      tally.connections++;
      used = 0;
    }
    const sock = s;
    const batch: Array<{ wire: Uint8Array | string; expect: Expectation }> = [];
    let killer: Expectation | null = null;
    // Answerable frames first; at most one that closes the connection, last.
    while (batch.length < batchSize) {
      const frame = lane.nextFrame();
      if (frame === null) break;
      const e = encodeFuzz(frame, () => sock.id(), authed, lane.channelId, known);
      batch.push(e);
      if ("close" in e.expect) {
        killer = e.expect;
        break;
      }
    }
    if (batch.length === 0) break;
    const described = () => batch.map((b) => describeBytes(b.wire)).join(" | ");
    const sentinel = sock.id();
    const wires = batch.map((b) => b.wire);
    // An unknown op: answered bad_request whether or not the connection is authenticated.
    if (!killer) wires.push(encodeValue([0, sentinel, "fuzz.sentinel", {}]));
    sock.sendBatch(wires);
    tally.sent += batch.length;
    used += batch.length;
    lane.onSent?.(batch.length);
    const waitIds = batch.flatMap((b) => ("reply" in b.expect ? [b.expect.reply] : []));
    if (!killer) waitIds.push(sentinel);
    try {
      await sock.waitFor(
        () => (waitIds.every((id) => sock.replyTo(id)) || sock.closeInfo ? true : undefined),
        lane.timeoutMs,
        `lane ${laneNo} batch`,
      );
      if (killer) await sock.closed(lane.timeoutMs);
    } catch (err) {
      fail(`${(err as Error).message}: ${described()}`);
      await sock.close();
      continue;
    }
    for (const b of batch) {
      if (!("reply" in b.expect)) continue;
      const r = sock.replyTo(b.expect.reply);
      if (!r) {
        if (!sock.closeInfo) fail(`no reply to ${describeBytes(b.wire)}`);
        continue;
      }
      tally.replies++;
      const made = r[0] === FrameKind.ok ? (r[2].message as { id?: unknown } | undefined)?.id : undefined;
      if (typeof made === "string" && known.length < knownCap && !known.includes(made)) known.push(made);
      const code = r[0] === FrameKind.ok ? "ok" : r[2].code;
      tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
      if (code !== "ok" && !knownCodes.has(code)) fail(`unknown error code ${code}`);
      if (code === "internal") fail(`internal error for ${describeBytes(b.wire)}: ${JSON.stringify(r[2])}`);
      if (b.expect.code && code !== b.expect.code)
        fail(`expected ${b.expect.code}, got ${code} for ${describeBytes(b.wire)}`);
    }
    if (sock.closeInfo) {
      const { code, reason } = sock.closeInfo;
      tally.closes.set(code, (tally.closes.get(code) ?? 0) + 1);
      if (!isCodedClose(code))
        fail(
          `uncoded close ${code} ${reason} (client errors: ${sock.errors.join("; ") || "none"}; authed ${authed}) after ${described()}`,
        );
      if (!killer) fail(`unexpected close ${code} ${reason} after ${described()}`);
      else if ("close" in killer && killer.close !== code)
        fail(`expected close ${killer.close}, got ${code} ${reason}`);
    } else if (killer) {
      fail(`connection survived a frame that must close it: ${describeBytes(batch.at(-1)!.wire)}`);
    }
    if (sock.garbage.length > 0) fail(`${sock.garbage.length} undecodable server frames`);
  }
  await s?.close();
}
