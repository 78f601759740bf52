/**
 * PortOutlet and replayOutlet: a worker turn's outputs cross to the main thread as records
 * plus one buffer, and come out in order with the same bytes, however large the turn.
 */
import { describe, expect, it } from "vitest";
import { okFrame, okFrameInPlace, packResult } from "../../core/protocol.js";
import type { Answer, Grant, Outlet } from "../envelope.js";
import type { FromWorker } from "./thread-messages.js";
import { replayOutlet } from "./worker-actor-system.js";
import { PortOutlet } from "./worker-host.js";

type Seen =
  | { kind: "reply"; callId: number; outcome: Answer; grant?: Grant }
  | { kind: "publish"; topic: string; frame: Uint8Array }
  | { kind: "revoke"; userId: string; topic: string };

/** Records what reaches the main thread's outlet. */
function recorder(): Outlet & { seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    reply: (callId, outcome, grant) =>
      seen.push({ kind: "reply", callId, outcome, ...(grant ? { grant } : {}) }),
    publish: (topic, frame) => seen.push({ kind: "publish", topic, frame }),
    revoke: (userId, topic) => seen.push({ kind: "revoke", userId, topic }),
    accountChanged: () => {},
  };
}

/** Runs `turn` on a PortOutlet and returns what it posted at the end of the turn. */
async function posted(
  turn: (outlet: PortOutlet) => void,
): Promise<Array<{ msg: FromWorker; transfer?: ArrayBuffer[] }>> {
  const out: Array<{ msg: FromWorker; transfer?: ArrayBuffer[] }> = [];
  const outlet = new PortOutlet((msg, transfer) => out.push({ msg, ...(transfer ? { transfer } : {}) }));
  turn(outlet);
  await Promise.resolve();
  return out;
}

describe("PortOutlet", () => {
  it("posts a turn once, in order, with results and frames in one transferred buffer", async () => {
    const big = new Uint8Array(300 * 1024).fill(7); // past the initial buffer: it grows
    const frame = new Uint8Array([0x94, 3, 1, 2]);
    const result = { message: { id: "M1", text: "héllo" } };
    const out = await posted((o) => {
      o.publish("ch:C1", frame);
      o.reply(1, { ok: true, result });
      o.publish("ch:C1", big);
      o.reply(2, { ok: false, error: { code: "not_found", message: "channel", retryable: false } });
      o.revoke("U1", "ch:C1");
    });
    expect(out).toHaveLength(1);
    const [{ msg, transfer }] = out as [{ msg: FromWorker; transfer?: ArrayBuffer[] }];
    if (msg.t !== "out") throw new Error(`posted ${msg.t}`);
    expect(transfer).toEqual([msg.bytes]);

    const main = recorder();
    replayOutlet(main, msg.list, msg.bytes);
    expect(main.seen.map((s) => s.kind)).toEqual(["publish", "reply", "publish", "reply", "revoke"]);
    const [first, reply, second, failed, revoked] = main.seen as [Seen, Seen, Seen, Seen, Seen];
    expect(first.kind === "publish" && Buffer.from(first.frame)).toEqual(Buffer.from(frame));
    expect(second.kind === "publish" && Buffer.from(second.frame)).toEqual(Buffer.from(big));
    if (reply.kind !== "reply" || !("packed" in reply.outcome)) throw new Error("not a packed reply");
    expect(reply.outcome.headroom).toBe(true);
    expect(Buffer.from(reply.outcome.packed)).toEqual(Buffer.from(packResult(result)));
    // The header goes in front of the result without touching the frame before it.
    expect(Buffer.from(okFrameInPlace(70_000, reply.outcome.packed))).toEqual(
      Buffer.from(okFrame(70_000, result)),
    );
    expect(first.kind === "publish" && Buffer.from(first.frame)).toEqual(Buffer.from(frame));
    expect(failed).toMatchObject({ kind: "reply", callId: 2, outcome: { ok: false } });
    expect(revoked).toEqual({ kind: "revoke", userId: "U1", topic: "ch:C1" });
  });

  it("starts each turn with an empty buffer", async () => {
    const sizes: number[] = [];
    const spy = new PortOutlet((msg) => {
      if (msg.t === "out") sizes.push(msg.bytes.byteLength);
    });
    for (let turn = 0; turn < 3; turn++) {
      spy.publish("ch:C1", new Uint8Array(10));
      await Promise.resolve();
    }
    expect(sizes).toEqual([10, 10, 10]);
  });
});
