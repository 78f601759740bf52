/**
 * Unread counts through the whole path (channel actor writes, user actor reads), in the
 * cases that break other servers: thread replies, deleted messages, edited mentions,
 * leaving and rejoining.
 */
import { describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import type { Unread } from "../core/types.js";
import { type StoreKind, storeKinds } from "./harness.js";
import { serverForBlock } from "./support/server-fixture.js";

describe.each(storeKinds)("unread counts on %s", (store: StoreKind) => {
  const { connect } = serverForBlock(store);
  const unreadOf = async (client: ColinkClient, channelId: string): Promise<Unread> => {
    const { channels } = await client.request("unread.summary", {});
    const found = channels.find((c) => c.channelId === channelId);
    if (!found) throw new Error(`no unread entry for ${channelId}`);
    return found;
  };

  it("counts others' top-level messages and followed threads, not own, deleted or unfollowed", async () => {
    const me = await connect("ur-me");
    const other = await connect("ur-other");
    const { channel } = await other.client.request("ch.create", { name: "unread", kind: "public" });
    await me.client.request("ch.join", { channelId: channel.id });
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 0, mentions: 0, threads: 0 });

    const { message: a } = await other.client.send(channel.id, "one");
    await other.client.send(channel.id, "two");
    await me.client.send(channel.id, "my own");
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 2 });

    // A deleted message no longer counts.
    await other.client.request("msg.delete", { channelId: channel.id, messageId: a.id });
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 1 });

    // Replies in a thread I do not follow do not count; in one I follow, they do.
    const { message: root } = await other.client.send(channel.id, "a thread");
    const reply = (text: string, id: string) =>
      other.client.request("msg.send", {
        channelId: channel.id,
        text,
        clientMsgId: id,
        threadRootId: root.id,
      });
    await reply("r1", "r1");
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 2, threads: 0 });
    await me.client.request("thread.follow", { channelId: channel.id, rootId: root.id });
    await reply("r2", "r2");
    const followed = await unreadOf(me.client, channel.id);
    expect(followed.threads).toBe(2);

    // Marking read clears the channel; the thread marker is separate.
    const { channel: now } = await me.client.request("ch.get", { channelId: channel.id });
    await me.client.request("read.mark", { channelId: channel.id, seq: now.lastSeq });
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 0, mentions: 0 });
    await me.client.request("read.mark", { channelId: channel.id, seq: now.lastSeq, threadRootId: root.id });
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 0, threads: 0 });
  });

  it("follows edits of mentions, and starts afresh after leaving and rejoining", async () => {
    const me = await connect("ur-m-me");
    const other = await connect("ur-m-other");
    const { channel } = await other.client.request("ch.create", { name: "unread-mentions", kind: "public" });
    await me.client.request("ch.join", { channelId: channel.id });
    const { message } = await other.client.send(channel.id, "hello everyone");
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 1, mentions: 0 });
    await other.client.request("msg.edit", {
      channelId: channel.id,
      messageId: message.id,
      text: "hello @ur-m-me",
    });
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 1, mentions: 1 });
    await other.client.request("msg.edit", {
      channelId: channel.id,
      messageId: message.id,
      text: "hello nobody",
    });
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 1, mentions: 0 });
    await other.client.send(channel.id, "@here standup");
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 2, mentions: 1 });

    // Leaving drops the channel from the summary; rejoining starts from the rejoin point.
    await me.client.request("ch.leave", { channelId: channel.id });
    const { channels } = await me.client.request("unread.summary", {});
    expect(channels.map((c) => c.channelId)).not.toContain(channel.id);
    await other.client.send(channel.id, "while away");
    await me.client.request("ch.join", { channelId: channel.id });
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 0, mentions: 0 });
    await other.client.send(channel.id, "welcome back @ur-m-me");
    expect(await unreadOf(me.client, channel.id)).toMatchObject({ unread: 1, mentions: 1 });
  });
});
