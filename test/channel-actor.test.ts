/**
 * The ChannelActor driven with no sockets: an ActorHost over a real (in-memory) PGlite
 * store, and an Outlet that records what the transport would receive.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Envelope, Grant, Outcome, Outlet } from "../actors/envelope.js";
import { ActorHost, type Routed } from "../actors/runtime/actor-host.js";
import { shardOf } from "../actors/runtime/placement.js";
import { openPgliteStore } from "../adapters/pglite/pglite-store.js";
import { defaultLimits, type Limits } from "../core/config.js";
import type { ChannelLog, ChannelWrite, ShardFence, Store } from "../core/ports.js";
import { decodeFrame, packedIn, packResult } from "../core/protocol.js";
import type { Message, Principal } from "../core/types.js";

const alice: Principal = { userId: "Ualice", username: "alice", displayName: "Alice", role: "member" };
const bob: Principal = { userId: "Ubob", username: "bob", displayName: "Bob", role: "member" };

/** Records the actors' outputs in order, as the transport would see them. */
class RecordingOutlet implements Outlet {
  readonly log: Array<{ kind: string; callId?: number; seq?: number; topic?: string }> = [];
  private readonly waiters = new Map<number, (o: Outcome & { grant?: Grant; packed?: Uint8Array }) => void>();

  reply(callId: number, outcome: Outcome, grant?: Grant): void {
    this.log.push({ kind: "reply", callId });
    const packed = outcome.ok ? packedIn(outcome.result) : undefined;
    this.waiters.get(callId)?.({ ...outcome, ...(grant ? { grant } : {}), ...(packed ? { packed } : {}) });
  }

  publish(topic: string, frame: Uint8Array): void {
    const [, , , data] = decodeFrame(frame) as [3, string, string, { seq: number }];
    this.log.push({ kind: "publish", topic, seq: data.seq });
  }

  revoke(userId: string, topic: string): void {
    this.log.push({ kind: "revoke", topic: `${topic}/${userId}` });
  }

  accountChanged(): void {}

  wait(callId: number): Promise<Outcome & { grant?: Grant; packed?: Uint8Array }> {
    return new Promise((resolve) => this.waiters.set(callId, resolve));
  }
}

/**
 * A FAKE store wrapper that fails commits on demand: the only way to make a real
 * database refuse one transaction and accept the next, here, without stopping it.
 */
class FakeFlakyCommits {
  failNext = 0;
  /** Extra time each commit and each user lookup takes, to make them overlap. */
  delayMs = 0;
  commits = 0;
  /** Commits the real store refused (e.g. a duplicate key it alone knew). */
  refused: unknown[] = [];
  writes: ChannelWrite[][] = [];
  wrap(store: Store): Store {
    const commit: ChannelLog["commit"] = async (writes) => {
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error("fake: connection lost");
      }
      this.commits++;
      this.writes.push(writes);
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      return store.commit(writes).catch((err: unknown) => {
        this.refused.push(err);
        throw err;
      });
    };
    const getUser: Store["getUser"] = async (id) => {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs * 2));
      return store.getUser(id);
    };
    return Object.assign(Object.create(Object.getPrototypeOf(store)), store, { commit, getUser }) as Store;
  }
}

describe("ChannelActor (no sockets)", () => {
  let store: Store;
  let flaky: FakeFlakyCommits;
  let outlet: RecordingOutlet;
  let host: ActorHost;
  let nextCall = 1;
  const limits: Limits = { ...defaultLimits, mailboxCapacity: 50_000 };

  const call = (p: Principal, op: Envelope["op"], args: Record<string, unknown>, key?: string) => {
    const callId = nextCall++;
    const done = outlet.wait(callId);
    const env: Routed = {
      callId,
      op,
      args,
      principal: p,
      actor: "channel",
      key: key ?? (args.channelId as string),
    };
    host.deliver(env);
    return done;
  };
  const ok = async (p: Principal, op: Envelope["op"], args: Record<string, unknown>, key?: string) => {
    const out = await call(p, op, args, key);
    if (!out.ok) throw new Error(`${op} failed: ${out.error.code} ${out.error.message}`);
    return out.result as Record<string, unknown> & { message: Message };
  };

  beforeEach(async () => {
    const real = await openPgliteStore();
    await real.migrate();
    flaky = new FakeFlakyCommits();
    store = flaky.wrap(real);
    outlet = new RecordingOutlet();
    host = new ActorHost({ store, outlet, limits });
    await ok(alice, "ch.create", { name: "general", kind: "public" }, "C1");
  });
  afterEach(async () => {
    await host.close();
    await store.close();
  });

  it("folds concurrent sends into few transactions and acks only after commit", async () => {
    const before = flaky.commits;
    const sends = Array.from({ length: 500 }, (_, i) =>
      ok(alice, "msg.send", { channelId: "C1", text: `m${i}`, clientMsgId: `k${i}` }),
    );
    const results = await Promise.all(sends);
    expect(results.map((r) => r.message.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 3));
    // Group commit: far fewer transactions than requests.
    expect(flaky.commits - before).toBeLessThan(50);
    // Every reply left after the publish of an event committed in the same batch,
    // and every publish is in seq order.
    const seqs = outlet.log.filter((e) => e.kind === "publish").map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 502 }, (_, i) => i + 1));
  });

  it("hands a new message's reply to the outlet with the bytes of its event's encoding", async () => {
    const out = await call(alice, "msg.send", { channelId: "C1", text: "hi @bob", clientMsgId: "pk1" });
    if (!out.ok) throw new Error(out.error.message);
    // The transport frames these bytes instead of encoding the result again.
    expect(out.packed).toEqual(packResult(out.result));
    // A thread reply too (its request also logs the root's `thread.updated`).
    const root = out.result.message as Message;
    const reply = await call(alice, "msg.send", {
      channelId: "C1",
      text: "re",
      clientMsgId: "pk2",
      threadRootId: root.id,
    });
    if (!reply.ok) throw new Error(reply.error.message);
    expect(reply.packed).toEqual(packResult(reply.result));
    // An edit's reply is encoded as it is: its event (`message.updated`) is laid out as a
    // new message's is, but shows the message to no one in particular.
    await ok(bob, "ch.join", { channelId: "C1" });
    await ok(bob, "react.add", { channelId: "C1", messageId: root.id, emoji: "tada" });
    const edited = await call(alice, "msg.edit", { channelId: "C1", messageId: root.id, text: "hi all" });
    expect(edited).toMatchObject({ ok: true, result: { message: { text: "hi all" } } });
    expect(edited.packed).toBeUndefined();
    // A retried send answers with the original, which no event of its request carries.
    const retried = await call(alice, "msg.send", { channelId: "C1", text: "hi @bob", clientMsgId: "pk1" });
    expect(retried).toMatchObject({ ok: true, result: { message: { id: root.id } } });
    expect(retried.packed).toBeUndefined();
  });

  it("answers unavailable when a commit fails, reloads, and goes on without a gap", async () => {
    flaky.failNext = 1;
    const failed = await call(alice, "msg.send", { channelId: "C1", text: "lost", clientMsgId: "x1" });
    expect(failed).toMatchObject({ ok: false, error: { code: "unavailable", retryable: true } });
    // The retry (same key) succeeds and takes the seq the failed attempt would have had.
    const retry = await ok(alice, "msg.send", { channelId: "C1", text: "lost", clientMsgId: "x1" });
    expect(retry.message.seq).toBe(3);
    const h = await ok(alice, "msg.history", { channelId: "C1" });
    expect((h.messages as unknown as Message[]).map((m) => m.clientMsgId)).toEqual(["x1"]);
  });

  it("recovers a duplicate key that only the store knew, returning the original", async () => {
    const first = await ok(alice, "msg.send", { channelId: "C1", text: "original", clientMsgId: "dup" });
    // Push the key out of the reloaded actor's key window (it loads the newest 1000).
    const fill = Array.from({ length: 1001 }, (_, i) =>
      ok(alice, "msg.send", { channelId: "C1", text: `f${i}`, clientMsgId: `f${i}` }),
    );
    await Promise.all(fill);
    host.passivate(-1);
    const again = await ok(alice, "msg.send", { channelId: "C1", text: "retry", clientMsgId: "dup" });
    expect(again.message).toEqual(first.message);
    expect(flaky.refused.map((e) => (e as Error).name)).toEqual(["DuplicateSendError"]);
    const { channel } = (await ok(alice, "ch.get", { channelId: "C1" })) as unknown as {
      channel: { lastSeq: number };
    };
    expect(channel.lastSeq).toBe(2 + 1 + 1001);
  });

  it("recovers two such keys, one in the commit in flight and one in the open batch, at once", async () => {
    const a = await ok(alice, "msg.send", { channelId: "C1", text: "a", clientMsgId: "old-a" });
    const b = await ok(alice, "msg.send", { channelId: "C1", text: "b", clientMsgId: "old-b" });
    await Promise.all(
      Array.from({ length: 1001 }, (_, i) =>
        ok(alice, "msg.send", { channelId: "C1", text: `g${i}`, clientMsgId: `g${i}` }),
      ),
    );
    host.passivate(-1);
    flaky.delayMs = 30;
    // The first repeat's commit is in flight when the second arrives (the fuzz found this:
    // the reload forgot the first key while learning the second, and back, for ever).
    const commits = flaky.commits;
    const againA = ok(alice, "msg.send", { channelId: "C1", text: "a?", clientMsgId: "old-a" });
    while (flaky.commits === commits) await new Promise((r) => setTimeout(r, 1));
    const againB = ok(alice, "msg.send", { channelId: "C1", text: "b?", clientMsgId: "old-b" });
    const within = (p: Promise<unknown>) =>
      Promise.race([
        p,
        new Promise((_, reject) => setTimeout(() => reject(new Error("no answer in 5 s")), 5000)),
      ]);
    expect(((await within(againA)) as { message: Message }).message).toEqual(a.message);
    expect(((await within(againB)) as { message: Message }).message).toEqual(b.message);
    const { channel } = (await ok(alice, "ch.get", { channelId: "C1" })) as unknown as {
      channel: { lastSeq: number };
    };
    expect(channel.lastSeq).toBe(2 + 2 + 1001);
  });

  it("answers a request whose read outlives the commit in flight (the batch stays open for it)", async () => {
    await store.upsertUser({ id: bob.userId, username: "bob", displayName: "Bob", role: "member" });
    flaky.delayMs = 30;
    // The first send commits; the second waits in the open batch; the first commit
    // finishes while the invite waits for its user lookup.
    const first = ok(alice, "msg.send", { channelId: "C1", text: "first", clientMsgId: "o1" });
    await new Promise((r) => setTimeout(r, 5));
    const second = ok(alice, "msg.send", { channelId: "C1", text: "second", clientMsgId: "o2" });
    const invite = call(alice, "ch.invite", { channelId: "C1", userId: bob.userId });
    const third = ok(alice, "msg.send", { channelId: "C1", text: "third", clientMsgId: "o3" });
    const outcomes = await Promise.race([
      Promise.all([first, second, invite, third]),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("a reply was lost")), 5000)),
    ]);
    expect(outcomes[2]).toMatchObject({ ok: true });
    expect(outcomes[3].message.seq).toBe(6);
  });

  it("passivates idle actors and reloads them with the log intact", async () => {
    await ok(alice, "msg.send", { channelId: "C1", text: "one", clientMsgId: "p1" });
    expect(host.counts.channels).toBe(1);
    host.passivate(-1);
    expect(host.counts.channels).toBe(0);
    const two = await ok(alice, "msg.send", { channelId: "C1", text: "two", clientMsgId: "p2" });
    expect(two.message.seq).toBe(4);
    const sub = await call(alice, "sub", { channelId: "C1", sinceSeq: 0 });
    expect(sub.ok && sub.grant?.replay.length).toBe(4);
  });

  it("refuses work beyond the mailbox capacity with a retryable error", async () => {
    const small = new ActorHost({ store, outlet, limits: { ...limits, mailboxCapacity: 5 } });
    const answers: Array<Promise<Outcome>> = [];
    for (let i = 0; i < 40; i++) {
      const callId = nextCall++;
      answers.push(outlet.wait(callId));
      small.deliver({
        callId,
        op: "msg.send",
        args: { channelId: "C1", text: `b${i}`, clientMsgId: `b${i}` },
        principal: alice,
        actor: "channel",
        key: "C1",
      });
    }
    const outcomes = await Promise.all(answers);
    const refused = outcomes.filter((o) => !o.ok);
    expect(refused.length).toBeGreaterThan(0);
    for (const o of refused)
      expect(o).toMatchObject({ ok: false, error: { code: "unavailable", retryable: true } });
    await small.close();
  });

  it("reports a fenced-out tenure with the epoch it was loaded under, not the node's newer one", async () => {
    const shards = 64;
    const shard = shardOf("C1", shards);
    const stale: ShardFence[] = [];
    const clustered = new ActorHost({ store, outlet, limits, shards, staleShard: (f) => stale.push(f) });
    const [first] = await store.takeShards([shard]);
    clustered.setOwnedShards([first!]);
    const send = (k: string) => {
      const callId = nextCall++;
      const answer = outlet.wait(callId);
      clustered.deliver({
        callId,
        op: "msg.send",
        args: { channelId: "C1", text: k, clientMsgId: k },
        principal: alice,
        actor: "channel",
        key: "C1",
      });
      return answer;
    };
    await expect(send("t0")).resolves.toMatchObject({ ok: true });
    // A commit in flight and a batch behind it when the node takes the shard again under a
    // newer epoch (as after losing its lease): both belong to the older tenure.
    flaky.delayMs = 50;
    const leftovers = [send("t1"), send("t2"), send("t3")];
    await new Promise((r) => setTimeout(r, 10));
    const [second] = await store.takeShards([shard]);
    clustered.setOwnedShards([second!]);
    for (const o of await Promise.all(leftovers)) {
      expect(o).toMatchObject({ ok: false, error: { code: "unavailable", retryable: true } });
    }
    expect(stale.length).toBeGreaterThan(0);
    expect(stale.every((f) => f.shard === shard && f.epoch === first!.epoch)).toBe(true);
    // The new tenure's actor writes under the new epoch.
    flaky.delayMs = 0;
    await expect(send("t4")).resolves.toMatchObject({ ok: true });
    expect(stale.every((f) => f.epoch === first!.epoch)).toBe(true);
    await clustered.close();
  });

  it("checks membership and roles at the actor", async () => {
    await expect(
      call(bob, "msg.send", { channelId: "C1", text: "hi", clientMsgId: "b" }),
    ).resolves.toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    await ok(bob, "ch.join", { channelId: "C1" });
    const { message } = await ok(bob, "msg.send", { channelId: "C1", text: "hi", clientMsgId: "b" });
    await expect(
      call(alice, "msg.edit", { channelId: "C1", messageId: message.id, text: "mine now" }),
    ).resolves.toMatchObject({ ok: false, error: { code: "forbidden" } });
    // The owner may delete anyone's message.
    await ok(alice, "msg.delete", { channelId: "C1", messageId: message.id });
    await expect(call(bob, "ch.get", { channelId: "C404" })).resolves.toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });
});
