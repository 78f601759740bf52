/**
 * End to end over real sockets with the SDK, on PGlite and on Postgres: channels,
 * messages, history, and invariants 2 (gap-free log), 4 (idempotent sends), 5 (resume)
 * and 6 (access at the actor).
 */
import { describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import { encodeValue, FrameKind } from "../core/protocol.js";
import type { Message } from "../core/types.js";
import { until } from "./harness.js";
import { RawSocket } from "./raw-socket.js";
import { serverForBlock, threadSetups } from "./support/server-fixture.js";

interface Seen {
  type: string;
  seq: number;
  data: Record<string, unknown>;
}

/** Subscribes and records every channel event the SDK delivers. */
async function record(client: ColinkClient, channelId: string, sinceSeq?: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  await client.subscribe(channelId, (type, data) => seen.push({ type, seq: data.seq as number, data }), {
    ...(sinceSeq === undefined ? {} : { sinceSeq }),
  });
  return seen;
}

describe.each(threadSetups(2))("messaging on $store with $workers worker(s)", ({ store, workers }) => {
  const fixture = serverForBlock(store, {
    COLINK_REPLAY_LIMIT: "700",
    COLINK_WORKERS: String(workers),
    // Bursts of hundreds of sends from one user, and 500 from one address at once: these
    // tests are of ordering and replay, not of the send budgets (test/limits.test.ts).
    COLINK_RATE_SEND: "0",
    COLINK_RATE_SEND_PER_IP: "0",
  });
  const connect = fixture.connect;

  it("creates, joins, sends, edits, deletes and pages history", async () => {
    const alice = await connect("alice");
    const bob = await connect("bob");
    const { channel } = await alice.client.request("ch.create", {
      name: "general",
      kind: "public",
      topic: "hi",
    });
    expect(channel).toMatchObject({
      name: "general",
      kind: "public",
      topic: "hi",
      lastSeq: 2,
      memberCount: 1,
    });

    const joined = await bob.client.request("ch.join", { channelId: channel.id });
    expect(joined.channel.memberCount).toBe(2);
    const seen = await record(bob.client, channel.id);

    const sent: Message[] = [];
    for (let i = 0; i < 30; i++) {
      sent.push((await alice.client.send(channel.id, `message ${i}`)).message);
    }
    expect(sent.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 4 + i));

    const { message: edited } = await alice.client.request("msg.edit", {
      channelId: channel.id,
      messageId: sent[0]!.id,
      text: "edited",
    });
    expect(edited.text).toBe("edited");
    expect(edited.editedAt).not.toBeNull();
    await expect(
      bob.client.request("msg.edit", { channelId: channel.id, messageId: sent[1]!.id, text: "nope" }),
    ).rejects.toMatchObject({ code: "forbidden" });

    await alice.client.request("msg.delete", { channelId: channel.id, messageId: sent[1]!.id });
    await until(() => seen.length === 30 + 2, 10_000, "events");
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: 32 }, (_, i) => 4 + i));
    expect(seen.at(-2)!.type).toBe("message.updated");
    expect(seen.at(-1)).toMatchObject({ type: "message.deleted", data: { messageId: sent[1]!.id } });

    const newest = await bob.client.request("msg.history", { channelId: channel.id, limit: 10 });
    expect(newest.hasMore).toBe(true);
    expect(newest.messages.map((m) => m.text)).toEqual(sent.slice(20).map((m) => m.text));
    const older = await bob.client.request("msg.history", {
      channelId: channel.id,
      beforeSeq: newest.messages[0]!.seq,
      limit: 50,
    });
    expect(older.hasMore).toBe(false);
    expect(older.messages).toHaveLength(20);
    expect(older.messages[0]).toMatchObject({ text: "edited" });
    expect(older.messages[1]).toMatchObject({ text: "", deletedAt: expect.any(Number) });
    const after = await bob.client.request("msg.history", {
      channelId: channel.id,
      afterSeq: sent[4]!.seq,
      limit: 3,
    });
    expect(after.messages.map((m) => m.seq)).toEqual([sent[5]!.seq, sent[6]!.seq, sent[7]!.seq]);
    expect(after.hasMore).toBe(true);
  });

  it("keeps one gap-free order for 20 concurrent senders (invariant 2)", async () => {
    const owner = await connect("owner2");
    const { channel } = await owner.client.request("ch.create", { name: "busy", kind: "public" });
    const watchers = await Promise.all([connect("watch-a"), connect("watch-b")]);
    const logs = await Promise.all(watchers.map((w) => record(w.client, channel.id)));
    const senders = await Promise.all(Array.from({ length: 20 }, (_, i) => connect(`sender-${i}`)));
    await Promise.all(senders.map((s) => s.client.request("ch.join", { channelId: channel.id })));
    const perSender = 25;
    const acks = await Promise.all(
      senders.map(async (s, i) => {
        const out: number[] = [];
        for (let k = 0; k < perSender; k++)
          out.push((await s.client.send(channel.id, `s${i}-${k}`)).message.seq);
        return out;
      }),
    );
    const { channel: after } = await owner.client.request("ch.get", { channelId: channel.id });
    const total = 2 + 20 + 20 * perSender;
    expect(after.lastSeq).toBe(total);
    const ackSeqs = acks.flat().sort((a, b) => a - b);
    expect(new Set(ackSeqs).size).toBe(20 * perSender);
    for (const log of logs) await until(() => log.length === total - 2, 15_000, "all events");
    // Both watchers saw seq 3..N, in order, with no gap, identically.
    expect(logs[0]!.map((e) => e.seq)).toEqual(Array.from({ length: total - 2 }, (_, i) => i + 3));
    expect(logs[1]!.map((e) => `${e.seq}:${e.type}`)).toEqual(logs[0]!.map((e) => `${e.seq}:${e.type}`));
  });

  it("writes a subscribed sender's frames in the order they were made: each event, then its reply", async () => {
    // Replies are written to each socket in batches (one cork per socket per turn); a
    // publish must still reach a subscriber after the replies made before it.
    const owner = await connect("orderly");
    const { channel } = await owner.client.request("ch.create", { name: "orderly", kind: "public" });
    const raw = await RawSocket.open(fixture.server.wsUrl, { token: owner.token });
    try {
      const sub = await raw.call("sub", { channelId: channel.id });
      expect(sub[0]).toBe(FrameKind.ok);
      const from = raw.frames.length;
      const ids = Array.from({ length: 40 }, () => raw.id());
      raw.sendBatch(
        ids.map((id, i) =>
          encodeValue([
            FrameKind.request,
            id,
            "msg.send",
            { channelId: channel.id, text: `m${i}`, clientMsgId: `o-${i}` },
          ]),
        ),
      );
      await Promise.all(ids.map((id) => raw.reply(id)));
      // Frames of this channel and replies (one's own presence may arrive on the personal topic).
      const mine = () =>
        raw.frames.slice(from).filter((f) => f[0] !== FrameKind.event || f[1] === `ch:${channel.id}`);
      await until(() => mine().length >= 80, 5000, "every event");
      const seen = mine().map((f) => {
        if (f[0] === FrameKind.event) return `e${(f[3] as { seq: number }).seq}`;
        expect(f[0]).toBe(FrameKind.ok);
        return `r${(f as unknown as [number, number, { message: Message }])[2].message.seq}`;
      });
      const first = (sub[2] as { lastSeq: number }).lastSeq + 1;
      expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => [`e${first + i}`, `r${first + i}`]).flat());
    } finally {
      await raw.close();
    }
  });

  it("returns the original message for a retried send (invariant 4)", async () => {
    const a = await connect("idem");
    const { channel } = await a.client.request("ch.create", { name: "idem", kind: "private" });
    const first = await a.client.request("msg.send", {
      channelId: channel.id,
      text: "once",
      clientMsgId: "k-1",
    });
    const again = await a.client.request("msg.send", {
      channelId: channel.id,
      text: "twice?",
      clientMsgId: "k-1",
    });
    expect(again.message).toEqual(first.message);
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () =>
        a.client.request("msg.send", { channelId: channel.id, text: "race", clientMsgId: "k-2" }),
      ),
    );
    expect(new Set(concurrent.map((r) => r.message.id)).size).toBe(1);
    const h = await a.client.request("msg.history", { channelId: channel.id });
    expect(h.messages.map((m) => m.clientMsgId)).toEqual(["k-1", "k-2"]);
  });

  it("replays exactly the missed events on resubscribe (invariant 5)", async () => {
    const owner = await connect("resumer-owner");
    const { channel } = await owner.client.request("ch.create", { name: "resume", kind: "public" });
    const reader = await connect("resumer");
    const first = await record(reader.client, channel.id);
    const burst = (from: number, n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => owner.client.send(channel.id, `m${from + i}`)));
    await burst(0, 20);
    await until(() => first.length === 20, 10_000, "first burst");
    const lastSeen = first.at(-1)!.seq;
    await reader.client.close();
    // Sends while the reader is away, including a few beyond the in-memory window's reach.
    await burst(20, 600);
    const back = await connect("resumer");
    const resumed = await record(back.client, channel.id, lastSeen);
    await burst(620, 10);
    await until(() => resumed.length === 610, 15_000, "replay and live");
    expect(resumed.map((e) => e.seq)).toEqual(Array.from({ length: 610 }, (_, i) => lastSeen + 1 + i));

    // A gap beyond the replay limit (700 here) asks for a resync instead.
    await burst(630, 100);
    const far = await back.client.request("sub", { channelId: channel.id, sinceSeq: 1 });
    expect(far).toMatchObject({ channelId: channel.id, resync: true });
    expect(far.lastSeq).toBeGreaterThan(701);
  });

  it("hides private channels from outsiders and revokes on kick (invariant 6)", async () => {
    const owner = await connect("priv-owner");
    const member = await connect("priv-member");
    const outsider = await connect("priv-outsider");
    const { channel } = await owner.client.request("ch.create", { name: "secret", kind: "private" });
    await owner.client.request("ch.invite", { channelId: channel.id, userId: member.userId });
    await owner.client.send(channel.id, "classified");
    for (const op of ["ch.get", "ch.members", "msg.history", "sub"] as const) {
      await expect(outsider.client.request(op, { channelId: channel.id })).rejects.toMatchObject({
        code: "not_found",
      });
    }
    await expect(outsider.client.request("ch.join", { channelId: channel.id })).rejects.toMatchObject({
      code: "not_found",
    });
    await expect(outsider.client.send(channel.id, "let me in")).rejects.toMatchObject({ code: "not_found" });
    const listed = await outsider.client.request("ch.list", { includePublic: true });
    expect(listed.channels.map((c) => c.id)).not.toContain(channel.id);

    const seen = await record(member.client, channel.id);
    await owner.client.request("ch.kick", { channelId: channel.id, userId: member.userId });
    await until(() => seen.some((e) => e.type === "member.left"), 5000, "member.left");
    await owner.client.send(channel.id, "after the kick");
    await owner.client.request("ch.update", { channelId: channel.id, topic: "t2" });
    // The member saw its own removal, then nothing more.
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.at(-1)!.type).toBe("member.left");
    await expect(member.client.request("msg.history", { channelId: channel.id })).rejects.toMatchObject({
      code: "not_found",
    });
  });

  it("enforces roles: archive, kick and moderation", async () => {
    const owner = await connect("role-owner");
    const member = await connect("role-member");
    const { channel } = await owner.client.request("ch.create", { name: "roles", kind: "public" });
    await member.client.request("ch.join", { channelId: channel.id });
    const { message } = await owner.client.send(channel.id, "owner's words");
    await expect(
      member.client.request("msg.delete", { channelId: channel.id, messageId: message.id }),
    ).rejects.toMatchObject({ code: "forbidden" });
    await expect(member.client.request("ch.archive", { channelId: channel.id })).rejects.toMatchObject({
      code: "forbidden",
    });
    await expect(
      member.client.request("ch.kick", { channelId: channel.id, userId: owner.userId }),
    ).rejects.toMatchObject({ code: "forbidden" });
    const { channel: archived } = await owner.client.request("ch.archive", { channelId: channel.id });
    expect(archived.archived).toBe(true);
    await expect(member.client.send(channel.id, "too late")).rejects.toMatchObject({ code: "forbidden" });
    await member.client.request("ch.leave", { channelId: channel.id });
    const members = await owner.client.request("ch.members", { channelId: channel.id });
    expect(members.members.map((m) => m.userId)).toEqual([owner.userId]);
  });
});

describe("the SDK's send order across a crash", () => {
  const fixture = serverForBlock("pglite");

  it("stores one client's sends to a channel in the order send() was called, retried ones included", async () => {
    const { client } = await fixture.connect("order-olga");
    const { channel } = await client.request("ch.create", { name: "order", kind: "public" });
    const texts = Array.from({ length: 30 }, (_, i) => `ordered ${i}`);
    // Killed while the sends are in flight: those not acknowledged are retried after the restart.
    const sends = texts.map((text) => client.send(channel.id, text));
    await fixture.server.stop("SIGKILL");
    await fixture.server.restart();
    const sent = await Promise.all(sends);
    const seqs = sent.map((r) => r.message.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const { messages } = await client.request("msg.history", { channelId: channel.id, limit: 50 });
    expect(messages.map((m) => m.text)).toEqual(texts);
  }, 60_000);
});
