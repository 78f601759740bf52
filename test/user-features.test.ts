/**
 * The user's own features end to end over real sockets with the SDK, on PGlite and on
 * Postgres: read markers (forward only, shared by the user's sessions through `u:`),
 * unread counts, profiles, settings and user search. The SQL edge cases of unread counts
 * are the store contract suite's; this covers the wire path.
 */
import { describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import { type StoreKind, storeKinds, until } from "./harness.js";
import { serverForBlock } from "./support/server-fixture.js";

/** Records the events of one type a client receives on its personal topic. */
function eventsOf(client: ColinkClient, type: string): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = [];
  client.on("event", (topic, t, data) => {
    if (t === type && topic.startsWith("u:")) seen.push(data);
  });
  return seen;
}

describe.each(storeKinds)("user features on %s", (store: StoreKind) => {
  const fixture = serverForBlock(store, { COLINK_MAX_NOTIFY_OVERRIDES: "3" });
  const connect = fixture.connect;

  it("moves read markers forward only and tells the user's other sessions", async () => {
    const alice = await connect("ra");
    const bob1 = await connect("rb");
    const bob2 = await connect("rb");
    const outsider = await connect("rc");
    const updates = eventsOf(bob2.client, "read.updated");
    const { channel } = await alice.client.request("ch.create", { name: "reads", kind: "public" });
    await bob1.client.request("ch.join", { channelId: channel.id });
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push((await alice.client.send(channel.id, `m${i}`)).message);

    const marked = await bob1.client.request("read.mark", { channelId: channel.id, seq: sent[2]!.seq });
    expect(marked).toEqual({ channelId: channel.id, lastReadSeq: sent[2]!.seq });
    await until(() => updates.length === 1, 5000, "read.updated on the other session");
    expect(updates[0]).toEqual({ channelId: channel.id, lastReadSeq: sent[2]!.seq });

    // Backwards is a no-op; past the end is clamped to the channel's last seq.
    const back = await bob1.client.request("read.mark", { channelId: channel.id, seq: sent[0]!.seq });
    expect(back.lastReadSeq).toBe(sent[2]!.seq);
    const far = await bob1.client.request("read.mark", { channelId: channel.id, seq: 1_000_000 });
    expect(far.lastReadSeq).toBe(sent[4]!.seq);
    await until(() => updates.length === 3, 5000, "every marker reported");
    expect(updates.map((u) => u.lastReadSeq)).toEqual([sent[2]!.seq, sent[2]!.seq, sent[4]!.seq]);

    await expect(
      outsider.client.request("read.mark", { channelId: channel.id, seq: 1 }),
    ).rejects.toMatchObject({ code: "not_found" });
    await expect(bob1.client.request("read.mark", { channelId: "Cnowhere", seq: 1 })).rejects.toMatchObject({
      code: "not_found",
    });
    await expect(bob1.client.request("read.mark", { channelId: channel.id, seq: -1 })).rejects.toMatchObject({
      code: "bad_request",
    });
  });

  it("counts unread messages of others and mentions in unread.summary", async () => {
    const alice = await connect("ua");
    const bob = await connect("ub");
    const { channel } = await alice.client.request("ch.create", { name: "unread", kind: "public" });
    const joined = await bob.client.request("ch.join", { channelId: channel.id });
    await bob.client.request("read.mark", { channelId: channel.id, seq: joined.channel.lastSeq });

    await alice.client.send(channel.id, "one");
    await alice.client.send(channel.id, "hello @ub");
    await alice.client.send(channel.id, "three");
    const own = await bob.client.send(channel.id, "bob's own");

    const forBob = (await bob.client.request("unread.summary", {})).channels.find(
      (c) => c.channelId === channel.id,
    );
    // Bob's own message is not unread for him; the @ub one is a mention.
    expect(forBob).toEqual({
      channelId: channel.id,
      lastReadSeq: joined.channel.lastSeq,
      unread: 3,
      mentions: 1,
      threads: 0,
    });
    const forAlice = (await alice.client.request("unread.summary", {})).channels.find(
      (c) => c.channelId === channel.id,
    );
    expect(forAlice).toMatchObject({ unread: 1, mentions: 0 });

    await bob.client.request("read.mark", { channelId: channel.id, seq: own.message.seq });
    const after = (await bob.client.request("unread.summary", {})).channels.find(
      (c) => c.channelId === channel.id,
    );
    expect(after).toMatchObject({ lastReadSeq: own.message.seq, unread: 0, mentions: 0 });
    // Channels one is not in are not listed.
    const outsider = await connect("ud");
    const none = await outsider.client.request("unread.summary", {});
    expect(none.channels.find((c) => c.channelId === channel.id)).toBeUndefined();
  });

  it("marks threads read with threadRootId", async () => {
    const alice = await connect("ta");
    const bob = await connect("tb");
    const bobUpdates = eventsOf(bob.client, "read.updated");
    const { channel } = await alice.client.request("ch.create", { name: "threads", kind: "public" });
    await bob.client.request("ch.join", { channelId: channel.id });
    const root = (await alice.client.send(channel.id, "root")).message;
    await bob.client.request("msg.send", {
      channelId: channel.id,
      text: "reply 1",
      clientMsgId: "r1",
      threadRootId: root.id,
    });
    const reply2 = await bob.client.request("msg.send", {
      channelId: channel.id,
      text: "reply 2",
      clientMsgId: "r2",
      threadRootId: root.id,
    });
    // Alice wrote the root, so she follows the thread: two unread replies.
    const before = (await alice.client.request("unread.summary", {})).channels.find(
      (c) => c.channelId === channel.id,
    );
    expect(before?.threads).toBe(2);

    const marked = await alice.client.request("read.mark", {
      channelId: channel.id,
      seq: reply2.message.seq,
      threadRootId: root.id,
    });
    expect(marked).toEqual({ channelId: channel.id, lastReadSeq: reply2.message.seq, threadRootId: root.id });
    const after = (await alice.client.request("unread.summary", {})).channels.find(
      (c) => c.channelId === channel.id,
    );
    expect(after?.threads).toBe(0);
    // Bob's thread marker is his own: nothing reached his sessions.
    expect(bobUpdates).toEqual([]);
  });

  it("reads and changes profiles; every session hears the change", async () => {
    const me1 = await connect("pf");
    const me2 = await connect("pf");
    const other = await connect("pg");
    const updates = eventsOf(me2.client, "user.updated");

    const { user } = await me1.client.request("user.update", {
      displayName: "Pat Field",
      title: "Chief of Things",
      timeZone: "Europe/Paris",
    });
    expect(user).toMatchObject({
      id: me1.userId,
      username: "pf",
      displayName: "Pat Field",
      title: "Chief of Things",
      timeZone: "Europe/Paris",
    });
    await until(() => updates.length === 1, 5000, "user.updated on the other session");
    expect(updates[0]).toEqual({ user });
    const partial = await me1.client.request("user.update", { title: "" });
    expect(partial.user).toMatchObject({ displayName: "Pat Field", title: "", timeZone: "Europe/Paris" });

    const seen = await other.client.request("user.get", { userId: me1.userId });
    expect(seen.user).toMatchObject({ displayName: "Pat Field", deactivated: false });
    await expect(other.client.request("user.get", { userId: "Unobody" })).rejects.toMatchObject({
      code: "not_found",
    });
    await expect(me1.client.request("user.update", { timeZone: "not a zone" })).rejects.toMatchObject({
      code: "bad_request",
    });

    // A new session says hello with the token's display name ("pf"): the chosen one stays.
    const me3 = await connect("pf");
    const { user: again } = await me3.client.request("user.me", {});
    expect(again.displayName).toBe("Pat Field");
  });

  it("merges settings per channel and tells every session", async () => {
    const s1 = await connect("st");
    const s2 = await connect("st");
    const updates = eventsOf(s2.client, "settings.updated");

    const defaults = await s1.client.request("user.settings.get", {});
    expect(defaults.settings).toEqual({ theme: "system", language: "en", notify: {} });
    await s1.client.request("user.settings.set", { theme: "dark", notify: { C1: "none" } });
    await s1.client.request("user.settings.set", { language: "fr-CA", notify: { C2: "mentions" } });
    const last = await s1.client.request("user.settings.set", { notify: { C1: "all", C3: "none" } });
    expect(last.settings).toEqual({
      theme: "dark",
      language: "fr-CA",
      notify: { C2: "mentions", C3: "none" },
    });
    expect((await s2.client.request("user.settings.get", {})).settings).toEqual(last.settings);
    await until(() => updates.length === 3, 5000, "settings.updated on the other session");
    expect(updates[2]).toEqual({ settings: last.settings });

    await expect(s1.client.request("user.settings.set", { theme: "neon" as "dark" })).rejects.toMatchObject({
      code: "bad_request",
    });
    // COLINK_MAX_NOTIFY_OVERRIDES=3 here.
    await s1.client.request("user.settings.set", { notify: { C4: "none" } });
    await expect(s1.client.request("user.settings.set", { notify: { C5: "none" } })).rejects.toMatchObject({
      code: "too_large",
    });
    expect(Object.keys((await s1.client.request("user.settings.get", {})).settings.notify)).toHaveLength(3);
  });

  it("searches active users by prefix, with LIKE wildcards taken literally", async () => {
    const names = ["sr.alpha", "sr.beta", "sr_x", "srqx", "zed"];
    const users = await Promise.all(names.map((n) => connect(n)));
    const [alpha, beta, , , zed] = users;
    await zed!.client.request("user.update", { displayName: "Sr Zed" });
    const search = async (q: string, limit?: number) =>
      (await alpha!.client.request("search.users", { q, ...(limit ? { limit } : {}) })).users
        .map((u) => u.username)
        .sort();

    expect(await search("sr")).toEqual([...names].sort());
    expect(await search("SR.")).toEqual(["sr.alpha", "sr.beta"]);
    expect(await search("sr_")).toEqual(["sr_x"]);
    expect(await search("%")).toEqual([]);
    expect(await search("sr%")).toEqual([]);
    expect(await search("sr z")).toEqual(["zed"]);
    expect(await search("sr", 2)).toHaveLength(2);
    await expect(alpha!.client.request("search.users", { q: "" })).rejects.toMatchObject({
      code: "bad_request",
    });

    // No op deactivates a user yet: the test does it in SQL (the server restarts meanwhile).
    await fixture.sqlWhileStopped("UPDATE users SET deactivated = true WHERE id = $1", [beta!.userId]);
    expect(await search("sr.")).toEqual(["sr.alpha"]);
    const { user } = await alpha!.client.request("user.get", { userId: beta!.userId });
    expect(user.deactivated).toBe(true);
    // After the restart every actor is new: hello re-reads the user, and keeps the chosen name.
    expect((await zed!.client.request("user.me", {})).user.displayName).toBe("Sr Zed");
    expect(await search("sr z")).toEqual(["zed"]);
  });
});
