/**
 * Invariant 3, acknowledged means durable: a server killed with SIGKILL in the middle of
 * a stream of sends keeps every acknowledged message exactly once after a restart, and
 * a reader resumes from its last seq with no gap and no duplicate. Also a clean drain
 * (SIGTERM): clients are told to reconnect (4500) and the SDK resumes by itself.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import type { Message } from "../core/types.js";
import { connectAs, type StoreKind, startServer, storeKinds, type TestServer, until } from "./harness.js";

describe.each(storeKinds)("durability on %s", (store: StoreKind) => {
  let server: TestServer | null = null;
  const clients: ColinkClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.cleanup();
    server = null;
  });

  it("keeps every acked message exactly once across SIGKILL and restart", async () => {
    server = await startServer(store);
    const s = server;
    const owner = await connectAs(s, "dur-owner", { autoReconnect: false });
    clients.push(owner.client);
    const { channel } = await owner.client.request("ch.create", { name: "durable", kind: "public" });
    const senders = await Promise.all(
      Array.from({ length: 8 }, (_, i) => connectAs(s, `dur-sender-${i}`, { autoReconnect: false })),
    );
    clients.push(...senders.map((x) => x.client));
    await Promise.all(senders.map((x) => x.client.request("ch.join", { channelId: channel.id })));
    const reader = await connectAs(s, "dur-reader", { autoReconnect: false });
    clients.push(reader.client);
    const seen: number[] = [];
    await reader.client.subscribe(channel.id, (_t, d) => seen.push(d.seq as number));

    const acked: Message[] = [];
    let stop = false;
    const loops = senders.map(async (x, i) => {
      for (let k = 0; !stop; k++) {
        try {
          const r = await x.client.request("msg.send", {
            channelId: channel.id,
            text: `s${i}-${k}`,
            clientMsgId: `s${i}-${k}`,
          });
          acked.push(r.message);
        } catch {
          return; // the server died under this request: its outcome is unknown, not acked
        }
      }
    });
    await until(() => acked.length >= 300, 20_000, "300 acks");
    await s.stop("SIGKILL");
    stop = true;
    await Promise.all(loops);
    const lastSeen = seen.at(-1) ?? 0;

    await s.restart();
    const after = await connectAs(s, "dur-owner", { autoReconnect: false });
    clients.push(after.client);
    const all: Message[] = [];
    for (let before: number | undefined; ; ) {
      const page = await after.client.request("msg.history", {
        channelId: channel.id,
        limit: 200,
        ...(before === undefined ? {} : { beforeSeq: before }),
      });
      all.unshift(...page.messages);
      if (!page.hasMore) break;
      before = page.messages[0]!.seq;
    }
    const byId = new Map(all.map((m) => [m.id, m]));
    for (const m of acked) expect(byId.get(m.id)).toEqual(m);
    const keys = all.map((m) => `${m.authorId}/${m.clientMsgId}`);
    expect(new Set(keys).size).toBe(keys.length);
    const { channel: reloaded } = await after.client.request("ch.get", { channelId: channel.id });
    // Members joined at 2..10, then only messages: their seqs are exactly 11..lastSeq.
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: reloaded.lastSeq - 10 }, (_, i) => i + 11));

    // The reader resumes from what it saw: exactly the rest, in order.
    const back = await connectAs(s, "dur-reader", { autoReconnect: false });
    clients.push(back.client);
    const resumed: number[] = [];
    await back.client.subscribe(channel.id, (_t, d) => resumed.push(d.seq as number), { sinceSeq: lastSeen });
    await until(() => resumed.length === reloaded.lastSeq - lastSeen, 10_000, "resume");
    expect(resumed).toEqual(Array.from({ length: reloaded.lastSeq - lastSeen }, (_, i) => lastSeen + 1 + i));

    // A retry of an acked send after the restart returns the original.
    const sample = acked[acked.length - 1]!;
    const retry = await after.client.request("msg.send", {
      channelId: channel.id,
      text: "retry",
      clientMsgId: sample.clientMsgId,
    });
    expect(retry.message.id).not.toBe(sample.id); // another author: a different key
    const authorRetry = await connectAs(s, `dur-sender-${sample.text.split("-")[0]!.slice(1)}`);
    clients.push(authorRetry.client);
    const same = await authorRetry.client.request("msg.send", {
      channelId: channel.id,
      text: "retry",
      clientMsgId: sample.clientMsgId,
    });
    expect(same.message).toEqual(sample);
  });

  it("drains on SIGTERM; the SDK reconnects and resumes with no gap", async () => {
    server = await startServer(store);
    const s = server;
    const writer = await connectAs(s, "drain-writer");
    const reader = await connectAs(s, "drain-reader", { reconnect: { minDelayMs: 50, maxDelayMs: 300 } });
    clients.push(writer.client, reader.client);
    const closes: number[] = [];
    reader.client.on("close", (code) => closes.push(code));
    const { channel } = await writer.client.request("ch.create", { name: "drain", kind: "public" });
    const seen: number[] = [];
    await reader.client.subscribe(channel.id, (_t, d) => seen.push(d.seq as number));
    for (let i = 0; i < 20; i++) await writer.client.send(channel.id, `before ${i}`);
    await until(() => seen.length === 20, 10_000, "first events");
    await s.stop("SIGTERM");
    expect(closes).toContain(4500);
    await s.restart();
    // The writer's SDK also reconnects; its sends go through once it is back.
    for (let i = 0; i < 20; i++) await writer.client.send(channel.id, `after ${i}`);
    await until(() => seen.length === 40, 15_000, "resumed events");
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 2 + 1));
  });
});
