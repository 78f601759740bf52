/**
 * Collaboration features over real sockets with the SDK, on PGlite and Postgres: DMs,
 * threads, reactions, mentions, pins, edit history, scheduled messages and typing.
 */
import { describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import type { Message } from "../core/types.js";
import { connectAs, type StoreKind, startServer, storeKinds, until } from "./harness.js";
import { serverForBlock } from "./support/server-fixture.js";

interface Seen {
  topic: string;
  type: string;
  data: Record<string, unknown>;
}

/** Records every event the client receives (channel and personal topics). */
function recordAll(client: ColinkClient): Seen[] {
  const seen: Seen[] = [];
  client.on("event", (topic, type, data) => seen.push({ topic, type, data }));
  return seen;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(storeKinds)("collaboration on %s", (store: StoreKind) => {
  const fixture = serverForBlock(store);
  const { connect } = fixture;

  it("opens one DM per set of people, even under 10 concurrent opens", async () => {
    const ann = await connect("dm-ann");
    const ben = await connect("dm-ben");
    const cat = await connect("dm-cat");
    const outsider = await connect("dm-out");
    const benSeen = recordAll(ben.client);
    const opens = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? ann : ben).client.request("dm.open", { userIds: [i % 2 ? ben.userId : ann.userId] }),
      ),
    );
    const ids = new Set(opens.map((o) => o.channel.id));
    expect(ids.size).toBe(1);
    expect(opens[0]!.channel).toMatchObject({ kind: "dm", memberCount: 2 });
    const dmId = opens[0]!.channel.id;
    const group = await ann.client.request("dm.open", { userIds: [ben.userId, cat.userId] });
    expect(group.channel).toMatchObject({ kind: "group_dm", memberCount: 3 });
    expect(group.channel.id).not.toBe(dmId);
    await until(() =>
      benSeen.some(
        (e) => e.type === "dm.opened" && (e.data.channel as { id: string }).id === group.channel.id,
      ),
    );

    await ann.client.send(dmId, "psst");
    const h = await ben.client.request("msg.history", { channelId: dmId });
    expect(h.messages.map((m) => m.text)).toEqual(["psst"]);
    for (const op of ["msg.history", "sub", "ch.get"] as const) {
      await expect(outsider.client.request(op, { channelId: dmId })).rejects.toMatchObject({
        code: "not_found",
      });
    }
    await expect(outsider.client.request("ch.join", { channelId: dmId })).rejects.toMatchObject({
      code: "not_found",
    });
    const tooMany = Array.from({ length: 8 }, (_, i) => `U${i}nobody`);
    await expect(ann.client.request("dm.open", { userIds: tooMany })).rejects.toMatchObject({
      code: "bad_request",
    });
    await expect(ann.client.request("dm.open", { userIds: ["Unobody"] })).rejects.toMatchObject({
      code: "not_found",
    });
    const listed = await ben.client.request("ch.list", {});
    expect(listed.channels.map((c) => c.id)).toEqual(expect.arrayContaining([dmId, group.channel.id]));
    // A DM is found by its people, so nobody leaves it (and it can always be reopened).
    await expect(ben.client.request("ch.leave", { channelId: dmId })).rejects.toMatchObject({
      code: "forbidden",
    });
    const again = await ben.client.request("dm.open", { userIds: [ann.userId] });
    expect(again.channel.id).toBe(dmId);
    // Other members' read positions are not shown.
    const members = await ann.client.request("ch.members", { channelId: dmId });
    expect(Object.keys(members.members[0]!).sort()).toEqual(["joinedAt", "role", "userId"]);
  });

  it("threads: replies count on the root, stay out of history, notify followers", async () => {
    const op = await connect("th-op");
    const rep = await connect("th-rep");
    const lurker = await connect("th-lurker");
    const { channel } = await op.client.request("ch.create", { name: "threads", kind: "public" });
    await rep.client.request("ch.join", { channelId: channel.id });
    await lurker.client.request("ch.join", { channelId: channel.id });
    const opSeen = recordAll(op.client);
    const lurkerSeen = recordAll(lurker.client);
    const chan: Seen[] = [];
    await op.client.subscribe(channel.id, (type, data) => chan.push({ topic: "", type, data }));

    const { message: root } = await op.client.send(channel.id, "root message");
    const r1 = await rep.client.request("msg.send", {
      channelId: channel.id,
      text: "first reply",
      clientMsgId: "r1",
      threadRootId: root.id,
    });
    expect(r1.message.threadRootId).toBe(root.id);
    // A reply to a reply joins the root's thread (sent with the SDK's send, which retries).
    const r2 = await op.client.send(channel.id, "nested?", {
      clientMsgId: "r2",
      threadRootId: r1.message.id,
    });
    expect(r2.message.threadRootId).toBe(root.id);
    await until(() => chan.filter((e) => e.type === "thread.updated").length === 2);
    expect(chan.at(-1)).toMatchObject({ type: "thread.updated", data: { rootId: root.id, replyCount: 2 } });
    const seqs = chan.map((e) => e.data.seq as number);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));

    // The root's author follows by participating, and hears the other's reply.
    await until(() => opSeen.some((e) => e.type === "thread.reply"));
    expect(opSeen.find((e) => e.type === "thread.reply")!.data).toMatchObject({ rootId: root.id });
    const history = await op.client.request("msg.history", { channelId: channel.id });
    expect(history.messages.map((m) => m.id)).toEqual([root.id]);
    expect(history.messages[0]).toMatchObject({ replyCount: 2, threadParticipants: [op.userId, rep.userId] });
    const thread = await lurker.client.request("thread.history", { channelId: channel.id, rootId: root.id });
    expect(thread.root.id).toBe(root.id);
    expect(thread.messages.map((m) => m.text)).toEqual(["first reply", "nested?"]);

    // An explicit follower hears replies; after unfollowing, no more.
    await lurker.client.request("thread.follow", { channelId: channel.id, rootId: root.id });
    await rep.client.request("msg.send", {
      channelId: channel.id,
      text: "3",
      clientMsgId: "r3",
      threadRootId: root.id,
    });
    await until(() => lurkerSeen.filter((e) => e.type === "thread.reply").length === 1);
    await lurker.client.request("thread.unfollow", { channelId: channel.id, rootId: root.id });
    await op.client.request("thread.unfollow", { channelId: channel.id, rootId: root.id });
    const before = opSeen.filter((e) => e.type === "thread.reply").length;
    await rep.client.request("msg.send", {
      channelId: channel.id,
      text: "4",
      clientMsgId: "r4",
      threadRootId: root.id,
    });
    await pause(300);
    expect(lurkerSeen.filter((e) => e.type === "thread.reply")).toHaveLength(1);
    expect(opSeen.filter((e) => e.type === "thread.reply")).toHaveLength(before);
    await expect(
      op.client.request("msg.send", {
        channelId: channel.id,
        text: "x",
        clientMsgId: "r5",
        threadRootId: "Mnope",
      }),
    ).rejects.toMatchObject({ code: "not_found" });
    // Deleting a reply counts it out of the root.
    await rep.client.request("msg.delete", { channelId: channel.id, messageId: r1.message.id });
    const after = await op.client.request("thread.history", { channelId: channel.id, rootId: root.id });
    expect(after.root.replyCount).toBe(3);
  });

  it("reactions: idempotent per user and emoji, counted with `me`, logged with seq", async () => {
    const a = await connect("re-a");
    const b = await connect("re-b");
    const { channel } = await a.client.request("ch.create", { name: "reacts", kind: "public" });
    await b.client.request("ch.join", { channelId: channel.id });
    const events: Seen[] = [];
    await a.client.subscribe(channel.id, (type, data) => events.push({ topic: "", type, data }));
    const { message } = await a.client.send(channel.id, "react to me");
    const ref = { channelId: channel.id, messageId: message.id };
    await a.client.request("react.add", { ...ref, emoji: "+1" });
    await a.client.request("react.add", { ...ref, emoji: "+1" });
    const byB = await b.client.request("react.add", { ...ref, emoji: "+1" });
    await b.client.request("react.add", { ...ref, emoji: "🎉" });
    expect(byB.message.reactions).toEqual([{ emoji: "+1", count: 2, me: true }]);
    const h = await a.client.request("msg.history", { channelId: channel.id });
    expect(h.messages[0]!.reactions).toEqual([
      { emoji: "+1", count: 2, me: true },
      { emoji: "🎉", count: 1, me: false },
    ]);
    await b.client.request("react.remove", { ...ref, emoji: "🎉" });
    await b.client.request("react.remove", { ...ref, emoji: "🎉" });
    const after = await b.client.request("msg.history", { channelId: channel.id });
    expect(after.messages[0]!.reactions).toEqual([{ emoji: "+1", count: 2, me: true }]);
    await until(() => events.filter((e) => e.type.startsWith("reaction.")).length === 4);
    expect(events.filter((e) => e.type.startsWith("reaction.")).map((e) => e.type)).toEqual([
      "reaction.added",
      "reaction.added",
      "reaction.added",
      "reaction.removed",
    ]);
    for (const emoji of ["Thumbs Up", "👍👍", "", "<b>"]) {
      await expect(a.client.request("react.add", { ...ref, emoji })).rejects.toMatchObject({
        code: "bad_request",
      });
    }
  });

  it("reaction emoji: keycaps are taken, and invisible variation selectors make no second reaction", async () => {
    const a = await connect("emoji-a");
    const b = await connect("emoji-b");
    const { channel } = await a.client.request("ch.create", { name: "emoji", kind: "public" });
    await b.client.request("ch.join", { channelId: channel.id });
    const events: Seen[] = [];
    await a.client.subscribe(channel.id, (type, data) => events.push({ topic: "", type, data }));
    const { message } = await a.client.send(channel.id, "vote");
    const ref = { channelId: channel.id, messageId: message.id };
    const keycap = "1\uFE0F\u20E3";
    // 1️⃣ was refused; 👍 followed by 30 U+FE0F was a second 👍 that looks the same.
    await a.client.request("react.add", { ...ref, emoji: keycap });
    await b.client.request("react.add", { ...ref, emoji: "1\u20E3" });
    await a.client.request("react.add", { ...ref, emoji: "👍" });
    const byB = await b.client.request("react.add", { ...ref, emoji: `👍${"\uFE0F".repeat(30)}` });
    expect(byB.message.reactions).toEqual([
      { emoji: keycap, count: 2, me: true },
      { emoji: "👍", count: 2, me: true },
    ]);
    // Removing by any form of it removes the one reaction.
    const removed = await b.client.request("react.remove", { ...ref, emoji: "👍\uFE0F" });
    expect(removed.message.reactions).toEqual([
      { emoji: keycap, count: 2, me: true },
      { emoji: "👍", count: 1, me: false },
    ]);
    await until(() => events.filter((e) => e.type.startsWith("reaction.")).length === 5);
    expect(events.filter((e) => e.type.startsWith("reaction.")).map((e) => [e.type, e.data.emoji])).toEqual([
      ["reaction.added", keycap],
      ["reaction.added", keycap],
      ["reaction.added", "👍"],
      ["reaction.added", "👍"],
      ["reaction.removed", "👍"],
    ]);
    // Over HTTP too, by path: the same one reaction.
    const res = await fetch(
      `${fixture.server.baseUrl}/v1/messages/${message.id}/reactions/${encodeURIComponent("1\u20E3")}`,
      { method: "DELETE", headers: { authorization: `Bearer ${b.token}` } },
    );
    expect(res.status).toBe(200);
    const h = await a.client.request("msg.history", { channelId: channel.id });
    expect(h.messages[0]!.reactions).toEqual([
      { emoji: keycap, count: 1, me: true },
      { emoji: "👍", count: 1, me: true },
    ]);
    for (const emoji of ["🇫", "👍\u200D👍", "1\uFE0F", "\uFE0F"]) {
      await expect(a.client.request("react.add", { ...ref, emoji })).rejects.toMatchObject({
        code: "bad_request",
      });
    }
  });

  it("mentions: members are notified and counted; non-members never see the message", async () => {
    const author = await connect("mn-author");
    const member = await connect("mn-member");
    const outsider = await connect("mn-outsider");
    const { channel } = await author.client.request("ch.create", { name: "mentions", kind: "private" });
    await author.client.request("ch.invite", { channelId: channel.id, userId: member.userId });
    const memberSeen = recordAll(member.client);
    const outsiderSeen = recordAll(outsider.client);
    const { message } = await author.client.send(channel.id, "hey @mn-member and @mn-outsider, look");
    expect(message.mentions).toEqual([member.userId]);
    await until(() => memberSeen.some((e) => e.type === "mention"));
    expect(memberSeen.find((e) => e.type === "mention")!.data).toMatchObject({
      channelId: channel.id,
      message: { id: message.id },
    });
    // An edit that adds a mention notifies the newly mentioned only.
    const { message: plain } = await author.client.send(channel.id, "no mention yet");
    await author.client.request("msg.edit", {
      channelId: channel.id,
      messageId: plain.id,
      text: "now @mn-member",
    });
    await until(() => memberSeen.filter((e) => e.type === "mention").length === 2);
    const { message: all } = await author.client.send(channel.id, "@channel standup");
    expect(all.broadcast).toBe("channel");
    await until(() => memberSeen.filter((e) => e.type === "mention").length === 3);
    await pause(200);
    expect(outsiderSeen).toEqual([]);
  });

  it("pins, edit versions and their permissions", async () => {
    const a = await connect("pv-a");
    const b = await connect("pv-b");
    const { channel } = await a.client.request("ch.create", { name: "pins", kind: "public" });
    await b.client.request("ch.join", { channelId: channel.id });
    const { message } = await a.client.send(channel.id, "v1");
    await b.client.request("pin.add", { channelId: channel.id, messageId: message.id });
    await b.client.request("pin.add", { channelId: channel.id, messageId: message.id });
    const { message: m2 } = await a.client.send(channel.id, "second");
    await a.client.request("pin.add", { channelId: channel.id, messageId: m2.id });
    let pins = await a.client.request("pin.list", { channelId: channel.id });
    expect(pins.messages.map((m) => m.id)).toEqual([m2.id, message.id]);
    expect(pins.messages[1]).toMatchObject({ pinnedBy: b.userId });
    await a.client.request("pin.remove", { channelId: channel.id, messageId: m2.id });
    pins = await a.client.request("pin.list", { channelId: channel.id });
    expect(pins.messages.map((m) => m.id)).toEqual([message.id]);

    await a.client.request("msg.edit", { channelId: channel.id, messageId: message.id, text: "v2" });
    await a.client.request("msg.edit", { channelId: channel.id, messageId: message.id, text: "v3" });
    const versions = await a.client.request("msg.versions", { channelId: channel.id, messageId: message.id });
    expect(versions.versions.map((v) => [v.version, v.text])).toEqual([
      [1, "v1"],
      [2, "v2"],
    ]);
    await expect(
      b.client.request("msg.versions", { channelId: channel.id, messageId: message.id }),
    ).rejects.toMatchObject({ code: "forbidden" });
  });

  it("typing reaches other subscribers, is rate-limited and never enters the log", async () => {
    const a = await connect("ty-a");
    const b = await connect("ty-b");
    const { channel } = await a.client.request("ch.create", { name: "typing", kind: "public" });
    await b.client.request("ch.join", { channelId: channel.id });
    const seen: Seen[] = [];
    b.client.on("event", (topic, type, data) => {
      if (topic === `ch:${channel.id}`) seen.push({ topic, type, data });
    });
    await b.client.subscribe(channel.id, () => {});
    const before = (await a.client.request("ch.get", { channelId: channel.id })).channel.lastSeq;
    for (let i = 0; i < 5; i++) await a.client.request("typing", { channelId: channel.id });
    await until(() => seen.some((e) => e.type === "typing"));
    await pause(200);
    const typings = seen.filter((e) => e.type === "typing");
    expect(typings).toHaveLength(1);
    expect(typings[0]!.data).toMatchObject({ userId: a.userId, expiresAt: expect.any(Number) });
    expect(typings[0]!.data.seq).toBeUndefined();
    const after = (await a.client.request("ch.get", { channelId: channel.id })).channel.lastSeq;
    expect(after).toBe(before);
    const outsider = await connect("ty-out");
    const { channel: priv } = await a.client.request("ch.create", { name: "typing-priv", kind: "private" });
    await expect(outsider.client.request("typing", { channelId: priv.id })).rejects.toMatchObject({
      code: "not_found",
    });
  });

  it("scheduled messages: list, cancel, and delivery at sendAt", async () => {
    const a = await connect("sc-a");
    const { channel } = await a.client.request("ch.create", { name: "later", kind: "public" });
    const seen: Message[] = [];
    await a.client.subscribe(channel.id, (type, data) => {
      if (type === "message.created") seen.push(data.message as Message);
    });
    const soon = await a.client.request("msg.schedule", {
      channelId: channel.id,
      text: "in a second",
      clientMsgId: "s1",
      sendAt: Date.now() + 1000,
    });
    const never = await a.client.request("msg.schedule", {
      channelId: channel.id,
      text: "cancel me",
      clientMsgId: "s2",
      sendAt: Date.now() + 60_000,
    });
    const listed = await a.client.request("msg.scheduled.list", { channelId: channel.id });
    expect(listed.scheduled.map((s) => s.id)).toEqual([soon.scheduled.id, never.scheduled.id]);
    const cancelled = await a.client.request("msg.scheduled.cancel", {
      channelId: channel.id,
      scheduleId: never.scheduled.id,
    });
    expect(cancelled.scheduled.status).toBe("cancelled");
    await until(() => seen.length === 1, 8000, "scheduled delivery");
    expect(seen[0]).toMatchObject({ text: "in a second", clientMsgId: "s1", authorId: a.userId });
    const left = await a.client.request("msg.scheduled.list", { channelId: channel.id });
    expect(left.scheduled).toEqual([]);
    // A past sendAt posts at once; a retry of it answers with the message, sent.
    const args = { channelId: channel.id, text: "now", clientMsgId: "s3", sendAt: 0 };
    const now = await a.client.request("msg.schedule", args);
    const retry = await a.client.request("msg.schedule", args);
    expect(now.scheduled.status).toBe("sent");
    expect(retry.scheduled).toMatchObject({ status: "sent", messageId: now.scheduled.messageId });
    // A cancelled schedule's key may be used again.
    const reused = await a.client.request("msg.schedule", {
      channelId: channel.id,
      text: "second try",
      clientMsgId: "s2",
      sendAt: Date.now() + 60_000,
    });
    expect(reused.scheduled.status).toBe("pending");
  });
});

describe.each(storeKinds)("scheduled delivery across a restart on %s", (store: StoreKind) => {
  it("delivers a message whose sendAt passed while the server was down", async () => {
    const server = await startServer(store);
    try {
      const a = await connectAs(server, "sc-restart", { autoReconnect: false });
      const { channel } = await a.client.request("ch.create", { name: "restart", kind: "public" });
      await a.client.request("msg.schedule", {
        channelId: channel.id,
        text: "survives",
        clientMsgId: "sr1",
        sendAt: Date.now() + 1500,
      });
      await a.client.close();
      await server.stop("SIGKILL");
      await pause(2000);
      await server.restart();
      const b = await connectAs(server, "sc-restart");
      try {
        let texts: string[] = [];
        for (let i = 0; i < 50 && !texts.includes("survives"); i++) {
          const h = await b.client.request("msg.history", { channelId: channel.id });
          texts = h.messages.map((m) => m.text);
          if (!texts.includes("survives")) await pause(200);
        }
        expect(texts).toEqual(["survives"]);
      } finally {
        await b.client.close();
      }
    } finally {
      await server.cleanup();
    }
  });
});
