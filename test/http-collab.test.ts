/**
 * End to end over HTTP, on PGlite and on Postgres: the collaboration routes. Direct
 * messages (one channel per set of people, even under concurrent opens), threads (replies,
 * history, follow and unfollow), reactions and pins (idempotent), message versions,
 * scheduled messages, profiles, search and settings, read markers and unread counts,
 * presence, and typing. Where a route's effect shows only live (thread notifications,
 * typing, presence sessions), an SDK client on the WebSocket observes it.
 */
import { describe, expect, it } from "vitest";
import { type ErrorCode, httpStatusOf } from "../core/errors.js";
import type {
  Channel,
  Message,
  MessageVersion,
  Presence,
  Scheduled,
  Unread,
  User,
  UserSettings,
} from "../core/types.js";
import { devToken, type StoreKind, storeKinds, until } from "./harness.js";
import { serverForBlock } from "./support/server-fixture.js";

type Json = Record<string, unknown>;

interface Reply<T = Json> {
  status: number;
  body: T;
}

/** A signed-in user with shorthands for requests carrying their token. */
interface Actor {
  id: string;
  name: string;
  token: string;
  get<T = Json>(path: string): Promise<Reply<T>>;
  post<T = Json>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  put<T = Json>(path: string, body?: unknown): Promise<Reply<T>>;
  patch<T = Json>(path: string, body?: unknown): Promise<Reply<T>>;
  del<T = Json>(path: string): Promise<Reply<T>>;
}

type ChannelReply = { channel: Channel };
type MessageReply = { message: Message };
type HistoryReply = { messages: Message[]; hasMore: boolean };
type ThreadReply = { root: Message; messages: Message[]; hasMore: boolean };
type ScheduledReply = { scheduled: Scheduled };

/** Asserts an error reply: its status, the code's one status, and the code. */
function expectError(r: Reply<unknown>, status: number, code: ErrorCode): void {
  const shown = JSON.stringify(r.body);
  expect(r.status, shown).toBe(status);
  expect(httpStatusOf[code]).toBe(status);
  expect((r.body as { error: Json }).error, shown).toMatchObject({ code, message: expect.any(String) });
}

/** Asserts a success status and returns the body. */
function ok<T>(r: Reply<T>, status = 200): T {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(storeKinds)("HTTP collaboration routes on %s", (store: StoreKind) => {
  const fixture = serverForBlock(store);
  const run = Math.random().toString(36).slice(2, 7);

  async function call<T>(token: string, method: string, path: string, body?: unknown, headers = {}) {
    const res = await fetch(`${fixture.server.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the assertions show the text
    }
    return { status: res.status, body: parsed as T };
  }

  /** A user whose name is unique to this run (one server serves every test). */
  const login = async (name: string): Promise<Actor> => {
    const username = `${name}-${run}`;
    const { token, userId } = await devToken(fixture.server, username);
    return {
      id: userId,
      name: username,
      token,
      get: (path) => call(token, "GET", path),
      post: (path, body, headers) => call(token, "POST", path, body, headers),
      put: (path, body) => call(token, "PUT", path, body),
      patch: (path, body) => call(token, "PATCH", path, body),
      del: (path) => call(token, "DELETE", path),
    };
  };

  /** An SDK client of an actor, recording the events of their personal topic. */
  const live = async (a: Actor) => {
    const { client } = await fixture.connect(a.name);
    const events: Array<{ type: string; data: Json }> = [];
    client.on("event", (topic: string, type: string, data: Json) => {
      if (topic === `u:${a.id}`) events.push({ type, data });
    });
    return { client, events };
  };

  const createChannel = async (owner: Actor, name: string, kind: "public" | "private" = "public") =>
    ok(await owner.post<ChannelReply>("/v1/channels", { name: `${name}-${run}`, kind }), 201).channel;

  const join = async (a: Actor, channelId: string) =>
    ok(await a.post<ChannelReply>(`/v1/channels/${channelId}/members`));

  const post = async (a: Actor, channelId: string, text: string, extra: Json = {}) =>
    ok(await a.post<MessageReply>(`/v1/channels/${channelId}/messages`, { text, ...extra }), 201).message;

  const lastSeqOf = async (a: Actor, channelId: string) =>
    ok(await a.get<ChannelReply>(`/v1/channels/${channelId}`)).channel.lastSeq;

  // ---- direct messages ------------------------------------------------------------------

  it("opens one DM per pair: the same channel whoever opens it, as often as they like", async () => {
    const alice = await login("dm-alice");
    const bob = await login("dm-bob");
    const outsider = await login("dm-outsider");

    const first = ok(await alice.post<ChannelReply>("/v1/dms", { userIds: [bob.id] })).channel;
    expect(first).toMatchObject({ kind: "dm", archived: false, memberCount: 2 });
    const seq = first.lastSeq;
    expect(ok(await alice.post<ChannelReply>("/v1/dms", { userIds: [bob.id] })).channel.id).toBe(first.id);
    expect(ok(await bob.post<ChannelReply>("/v1/dms", { userIds: [alice.id] })).channel.id).toBe(first.id);
    // Naming oneself too is the same set.
    const both = await alice.post<ChannelReply>("/v1/dms", { userIds: [bob.id, alice.id] });
    expect(ok(both).channel.id).toBe(first.id);

    // Both members read and write it; nobody else sees it.
    const m = await post(alice, first.id, "just us");
    const history = ok(await bob.get<HistoryReply>(`/v1/channels/${first.id}/messages`));
    expect(history.messages.map((x) => x.id)).toEqual([m.id]);
    expectError(await outsider.get(`/v1/channels/${first.id}`), 404, "not_found");
    expectError(await outsider.get(`/v1/channels/${first.id}/messages`), 404, "not_found");
    expectError(await outsider.post(`/v1/channels/${first.id}/messages`, { text: "hi" }), 404, "not_found");
    // Re-opening changed nothing in the log.
    expect(await lastSeqOf(alice, first.id)).toBe(seq + 1);
  });

  it("answers 10 concurrent opens of the same DM with one channel", async () => {
    const alice = await login("race-alice");
    const bob = await login("race-bob");
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? alice.post<ChannelReply>("/v1/dms", { userIds: [bob.id] })
          : bob.post<ChannelReply>("/v1/dms", { userIds: [alice.id] }),
      ),
    );
    const ids = new Set(replies.map((r) => ok(r).channel.id));
    expect(ids.size).toBe(1);
    const id = [...ids][0]!;
    const members = ok(await alice.get<{ members: Array<{ userId: string }> }>(`/v1/channels/${id}/members`));
    expect(members.members.map((x) => x.userId).sort()).toEqual([alice.id, bob.id].sort());
    // Created once: one channel.created and two joins at most, never ten.
    expect(await lastSeqOf(alice, id)).toBeLessThanOrEqual(3);
  });

  it("opens a group DM for 3 people, and refuses unknown users and bad sets", async () => {
    const alice = await login("group-alice");
    const bob = await login("group-bob");
    const carol = await login("group-carol");
    const group = ok(await alice.post<ChannelReply>("/v1/dms", { userIds: [bob.id, carol.id] })).channel;
    expect(group).toMatchObject({ kind: "group_dm", memberCount: 3 });
    const again = await carol.post<ChannelReply>("/v1/dms", { userIds: [bob.id, alice.id] });
    expect(ok(again).channel.id).toBe(group.id);
    const pair = ok(await alice.post<ChannelReply>("/v1/dms", { userIds: [bob.id] })).channel;
    expect(pair.id).not.toBe(group.id);

    expectError(await alice.post("/v1/dms", { userIds: ["Unosuchuser000"] }), 404, "not_found");
    expectError(await alice.post("/v1/dms", { userIds: [] }), 400, "bad_request");
    expectError(await alice.post("/v1/dms", { userIds: [bob.id, bob.id] }), 400, "bad_request");
    expectError(await alice.post("/v1/dms", {}), 400, "bad_request");
    const eight = Array.from({ length: 8 }, (_, i) => `Ufake${i}`);
    expectError(await alice.post("/v1/dms", { userIds: eight }), 400, "bad_request");
  });

  // ---- threads ------------------------------------------------------------------------

  it("posts thread replies, reads the thread, and keeps replies out of the channel's history", async () => {
    const alice = await login("thread-alice");
    const bob = await login("thread-bob");
    const channel = await createChannel(alice, "threads");
    await join(bob, channel.id);
    const root = await post(alice, channel.id, "a question");
    const r1 = await post(bob, channel.id, "an answer", { threadRootId: root.id });
    expect(r1).toMatchObject({ threadRootId: root.id, channelId: channel.id, authorId: bob.id });
    const r2 = await post(alice, channel.id, "thanks", { threadRootId: root.id });

    const thread = ok(await bob.get<ThreadReply>(`/v1/threads/${root.id}`));
    expect(thread.root).toMatchObject({ id: root.id, replyCount: 2, lastReplyAt: r2.createdAt });
    expect(thread.root.threadParticipants.sort()).toEqual([alice.id, bob.id].sort());
    expect(thread.messages.map((m) => m.id)).toEqual([r1.id, r2.id]);
    expect(thread.hasMore).toBe(false);

    // Paging: after a seq, and a limit; with the channel named explicitly too.
    const after = ok(await bob.get<ThreadReply>(`/v1/threads/${root.id}?after=${r1.seq}`));
    expect(after.messages.map((m) => m.id)).toEqual([r2.id]);
    const first = ok(await bob.get<ThreadReply>(`/v1/threads/${root.id}?limit=1&channelId=${channel.id}`));
    expect(first.messages.map((m) => m.id)).toEqual([r1.id]);
    expect(first.hasMore).toBe(true);

    const history = ok(await bob.get<HistoryReply>(`/v1/channels/${channel.id}/messages`));
    expect(history.messages.map((m) => m.id)).toEqual([root.id]);
    expect(history.messages[0]!.replyCount).toBe(2);

    // A reply is not a thread; unknown roots and bad paging are refused.
    expectError(await bob.get(`/v1/threads/${r1.id}`), 404, "not_found");
    expectError(await bob.get("/v1/threads/Mnosuchroot"), 404, "not_found");
    expectError(await bob.get(`/v1/threads/${root.id}?limit=0`), 400, "bad_request");
    expectError(await bob.get(`/v1/threads/${root.id}?after=x`), 400, "bad_request");
    expectError(await bob.get("/v1/threads/bad.id"), 400, "bad_request");
    expectError(
      await alice.post(`/v1/channels/${channel.id}/messages`, { text: "x", threadRootId: "Mnosuchroot" }),
      404,
      "not_found",
    );
  });

  it("follows and unfollows a thread: followers hear of new replies on their own topic", async () => {
    const alice = await login("follow-alice");
    const bob = await login("follow-bob");
    const carol = await login("follow-carol");
    const channel = await createChannel(alice, "follow");
    await join(bob, channel.id);
    await join(carol, channel.id);
    const root = await post(alice, channel.id, "thread here");
    const { events } = await live(carol);
    const repliesHeard = () =>
      events.filter((e) => e.type === "thread.reply").map((e) => (e.data.message as Message).text);

    expect(ok(await carol.put(`/v1/threads/${root.id}/follow`))).toEqual({});
    expect(ok(await carol.put(`/v1/threads/${root.id}/follow`))).toEqual({});
    await post(bob, channel.id, "reply 1", { threadRootId: root.id });
    await until(() => repliesHeard().includes("reply 1"), 10_000, "reply 1 on carol's topic");
    const heard = events.find((e) => e.type === "thread.reply")!;
    expect(heard.data).toMatchObject({ channelId: channel.id, rootId: root.id });

    expect(ok(await carol.del(`/v1/threads/${root.id}/follow`))).toEqual({});
    expect(ok(await carol.del(`/v1/threads/${root.id}/follow`))).toEqual({});
    await post(bob, channel.id, "reply 2", { threadRootId: root.id });
    // Following again: reply 3 arrives, and reply 2 (sent before it, in order) never did.
    expect(ok(await carol.put(`/v1/threads/${root.id}/follow?channelId=${channel.id}`))).toEqual({});
    await post(bob, channel.id, "reply 3", { threadRootId: root.id });
    await until(() => repliesHeard().includes("reply 3"), 10_000, "reply 3 on carol's topic");
    expect(repliesHeard()).toEqual(["reply 1", "reply 3"]);

    // Following does not change the channel's log.
    const seq = await lastSeqOf(alice, channel.id);
    await carol.del(`/v1/threads/${root.id}/follow`);
    expect(await lastSeqOf(alice, channel.id)).toBe(seq);
    expectError(await carol.put("/v1/threads/Mnosuchroot/follow"), 404, "not_found");
  });

  // ---- reactions and pins -------------------------------------------------------------

  it("adds and removes reactions idempotently, with counts and the caller's `me`", async () => {
    const alice = await login("react-alice");
    const bob = await login("react-bob");
    const outsider = await login("react-outsider");
    const channel = await createChannel(alice, "react", "private");
    ok(await alice.post(`/v1/channels/${channel.id}/members`, { userId: bob.id }));
    const m = await post(alice, channel.id, "react to me");
    const reactions = `/v1/messages/${m.id}/reactions`;
    const summary = (msg: Message, emoji: string) => msg.reactions.find((r) => r.emoji === emoji);

    const byBob = ok(await bob.post<MessageReply>(reactions, { emoji: "thumbsup" })).message;
    expect(summary(byBob, "thumbsup")).toEqual({ emoji: "thumbsup", count: 1, me: true });
    const seq = await lastSeqOf(alice, channel.id);
    const again = ok(await bob.post<MessageReply>(reactions, { emoji: "thumbsup" })).message;
    expect(summary(again, "thumbsup")).toEqual({ emoji: "thumbsup", count: 1, me: true });
    expect(await lastSeqOf(alice, channel.id)).toBe(seq);

    const byAlice = ok(await alice.post<MessageReply>(reactions, { emoji: "thumbsup" })).message;
    expect(summary(byAlice, "thumbsup")).toEqual({ emoji: "thumbsup", count: 2, me: true });
    const party = ok(
      await alice.post<MessageReply>(reactions, { emoji: "🎉", channelId: channel.id }),
    ).message;
    expect(summary(party, "🎉")).toEqual({ emoji: "🎉", count: 1, me: true });
    ok(await bob.post(reactions, { emoji: "+1" }));

    // Each caller sees their own `me` in history.
    const seenBy = async (a: Actor) =>
      ok(await a.get<HistoryReply>(`/v1/channels/${channel.id}/messages`)).messages[0]!;
    expect(summary(await seenBy(bob), "🎉")).toEqual({ emoji: "🎉", count: 1, me: false });
    expect(summary(await seenBy(alice), "+1")).toEqual({ emoji: "+1", count: 1, me: false });

    // Removal, by a percent-encoded path segment; repeated removals change nothing.
    const removed = ok(await bob.del<MessageReply>(`${reactions}/thumbsup`)).message;
    expect(summary(removed, "thumbsup")).toEqual({ emoji: "thumbsup", count: 1, me: false });
    const seq2 = await lastSeqOf(alice, channel.id);
    ok(await bob.del(`${reactions}/thumbsup`));
    expect(await lastSeqOf(alice, channel.id)).toBe(seq2);
    const noParty = ok(await alice.del<MessageReply>(`${reactions}/${encodeURIComponent("🎉")}`)).message;
    expect(summary(noParty, "🎉")).toBeUndefined();
    const noPlus = ok(await bob.del<MessageReply>(`${reactions}/${encodeURIComponent("+1")}`)).message;
    expect(summary(noPlus, "+1")).toBeUndefined();
    expect((await seenBy(alice)).reactions).toEqual([{ emoji: "thumbsup", count: 1, me: true }]);

    expectError(await bob.post(reactions, { emoji: "not an emoji" }), 400, "bad_request");
    expectError(await bob.post(reactions, {}), 400, "bad_request");
    expectError(await bob.del(`${reactions}/%E0%A4%A`), 400, "bad_request");
    expectError(await outsider.post(reactions, { emoji: "thumbsup" }), 404, "not_found");
    expectError(await outsider.del(`${reactions}/thumbsup`), 404, "not_found");
    expectError(
      await bob.post("/v1/messages/Mnosuchmessage/reactions", { emoji: "thumbsup" }),
      404,
      "not_found",
    );
  });

  it("pins and unpins messages, and lists the pins most recently pinned first", async () => {
    const alice = await login("pin-alice");
    const bob = await login("pin-bob");
    const outsider = await login("pin-outsider");
    const channel = await createChannel(alice, "pins", "private");
    ok(await alice.post(`/v1/channels/${channel.id}/members`, { userId: bob.id }));
    const m1 = await post(alice, channel.id, "first");
    const m2 = await post(alice, channel.id, "second");
    const pins = `/v1/channels/${channel.id}/pins`;
    expect(ok(await bob.get<HistoryReply>(pins)).messages).toEqual([]);

    const p1 = ok(await bob.put<MessageReply>(`/v1/messages/${m1.id}/pin`)).message;
    expect(p1).toMatchObject({ id: m1.id, pinnedBy: bob.id, pinnedAt: expect.any(Number) });
    await pause(5);
    const p2 = ok(await alice.put<MessageReply>(`/v1/messages/${m2.id}/pin?channelId=${channel.id}`)).message;
    expect(p2).toMatchObject({ id: m2.id, pinnedBy: alice.id });
    const seq = await lastSeqOf(alice, channel.id);
    // Pinning a pinned message changes nothing.
    expect(ok(await alice.put<MessageReply>(`/v1/messages/${m1.id}/pin`)).message).toMatchObject({
      pinnedAt: p1.pinnedAt,
      pinnedBy: bob.id,
    });
    expect(await lastSeqOf(alice, channel.id)).toBe(seq);
    expect(ok(await bob.get<HistoryReply>(pins)).messages.map((m) => m.id)).toEqual([m2.id, m1.id]);

    const unpinned = ok(await alice.del<MessageReply>(`/v1/messages/${m1.id}/pin`)).message;
    expect(unpinned).toMatchObject({ id: m1.id, pinnedAt: null, pinnedBy: null });
    ok(await alice.del(`/v1/messages/${m1.id}/pin`));
    expect(ok(await bob.get<HistoryReply>(pins)).messages.map((m) => m.id)).toEqual([m2.id]);

    expectError(await outsider.get(pins), 404, "not_found");
    expectError(await outsider.put(`/v1/messages/${m2.id}/pin`), 404, "not_found");
    expectError(await alice.put("/v1/messages/Mnosuchmessage/pin"), 404, "not_found");
    expect(ok(await bob.get<HistoryReply>(pins)).messages.map((m) => m.id)).toEqual([m2.id]);
  });

  // ---- versions -----------------------------------------------------------------------

  it("keeps the previous versions of an edited message for its author", async () => {
    const alice = await login("ver-alice");
    const bob = await login("ver-bob");
    const channel = await createChannel(alice, "versions");
    await join(bob, channel.id);
    const m = await post(alice, channel.id, "v1");
    const versions = `/v1/messages/${m.id}/versions`;
    expect(ok(await alice.get<{ versions: MessageVersion[] }>(versions)).versions).toEqual([]);
    ok(await alice.patch(`/v1/messages/${m.id}`, { text: "v2" }));
    const v3 = ok(await alice.patch<MessageReply>(`/v1/messages/${m.id}`, { text: "v3" })).message;
    expect(v3.text).toBe("v3");

    const list = ok(await alice.get<{ versions: MessageVersion[] }>(versions)).versions;
    expect(list.map((v) => [v.version, v.text])).toEqual([
      [1, "v1"],
      [2, "v2"],
    ]);
    for (const v of list) expect(v).toMatchObject({ messageId: m.id, editedAt: expect.any(Number) });
    expect(list[1]!.editedAt).toBe(v3.editedAt);
    const named = ok(await alice.get<{ versions: MessageVersion[] }>(`${versions}?channelId=${channel.id}`));
    expect(named.versions).toEqual(list);

    // Another member is not the author nor a moderator.
    expectError(await bob.get(versions), 403, "forbidden");
    expectError(await alice.get("/v1/messages/Mnosuchmessage/versions"), 404, "not_found");
  });

  // ---- scheduled messages ---------------------------------------------------------------

  it("schedules, lists and cancels messages; a past time posts at once", async () => {
    const alice = await login("sched-alice");
    const bob = await login("sched-bob");
    const channel = await createChannel(alice, "scheduled");
    await join(bob, channel.id);
    const base = `/v1/channels/${channel.id}/scheduled`;
    const hour = Date.now() + 3_600_000;

    const later = ok(
      await alice.post<ScheduledReply>(base, { text: "later", sendAt: hour + 1000, clientMsgId: "s-1" }),
      201,
    ).scheduled;
    expect(later).toMatchObject({
      channelId: channel.id,
      authorId: alice.id,
      text: "later",
      clientMsgId: "s-1",
      sendAt: hour + 1000,
      status: "pending",
      messageId: null,
      threadRootId: null,
    });
    // Idempotent per clientMsgId, from the body or the Idempotency-Key header.
    const repeat = await alice.post<ScheduledReply>(base, {
      text: "later",
      sendAt: hour + 1000,
      clientMsgId: "s-1",
    });
    expect(ok(repeat, 201).scheduled.id).toBe(later.id);
    const sooner = ok(
      await alice.post<ScheduledReply>(base, { text: "sooner", sendAt: hour }, { "Idempotency-Key": "s-2" }),
      201,
    ).scheduled;
    expect(sooner.clientMsgId).toBe("s-2");
    const sooner2 = await alice.post<ScheduledReply>(
      base,
      { text: "sooner", sendAt: hour },
      { "Idempotency-Key": "s-2" },
    );
    expect(ok(sooner2, 201).scheduled.id).toBe(sooner.id);

    // The caller's own, soonest first.
    const mine = ok(await alice.get<{ scheduled: Scheduled[] }>(base)).scheduled;
    expect(mine.map((s) => s.id)).toEqual([sooner.id, later.id]);
    expect(ok(await bob.get<{ scheduled: Scheduled[] }>(base)).scheduled).toEqual([]);
    // Not in the channel yet.
    expect(ok(await alice.get<HistoryReply>(`/v1/channels/${channel.id}/messages`)).messages).toEqual([]);

    expectError(await bob.del(`${base}/${later.id}`), 404, "not_found");
    const cancelled = ok(await alice.del<ScheduledReply>(`${base}/${later.id}`)).scheduled;
    expect(cancelled).toMatchObject({ id: later.id, status: "cancelled" });
    expectError(await alice.del(`${base}/${later.id}`), 404, "not_found");
    expect(ok(await alice.get<{ scheduled: Scheduled[] }>(base)).scheduled.map((s) => s.id)).toEqual([
      sooner.id,
    ]);

    const now = ok(await alice.post<ScheduledReply>(base, { text: "right away", sendAt: 0 }), 201).scheduled;
    expect(now).toMatchObject({ status: "sent", messageId: expect.any(String) });
    const history = ok(await bob.get<HistoryReply>(`/v1/channels/${channel.id}/messages`)).messages;
    expect(history.map((m) => [m.id, m.text, m.authorId])).toEqual([[now.messageId, "right away", alice.id]]);

    expectError(await alice.post(base, { text: "x" }), 400, "bad_request");
    expectError(await alice.post(base, { text: "x", sendAt: -1 }), 400, "bad_request");
    expectError(await alice.post(base, { text: "", sendAt: hour }), 400, "bad_request");
  });

  // ---- profiles, search, settings -----------------------------------------------------------

  it("updates the caller's profile, shows it to others and finds it by prefix", async () => {
    const zed = await login("zed");
    const other = await login("profile-other");
    const patched = ok(
      await zed.patch<{ user: User }>("/v1/users/me", {
        displayName: `Quux ${run}`,
        title: "CTO",
        timeZone: "Europe/Paris",
      }),
    ).user;
    expect(patched).toMatchObject({
      id: zed.id,
      username: zed.name,
      displayName: `Quux ${run}`,
      title: "CTO",
      timeZone: "Europe/Paris",
    });
    expect(ok(await zed.get<{ user: User }>("/v1/users/me")).user).toEqual(patched);
    expect(ok(await other.get<{ user: User }>(`/v1/users/${zed.id}`)).user).toEqual(patched);
    // Only the given fields change.
    const titled = ok(await zed.patch<{ user: User }>("/v1/users/me", { title: "" })).user;
    expect(titled).toEqual({ ...patched, title: "" });

    const search = async (q: string) =>
      ok(await other.get<{ users: User[] }>(`/v1/search/users?q=${encodeURIComponent(q)}`)).users.map(
        (u) => u.id,
      );
    expect(await search(`zed-${run}`)).toEqual([zed.id]);
    expect(await search(`quux ${run}`)).toEqual([zed.id]);
    expect(await search(`ZED-${run.toUpperCase()}`)).toEqual([zed.id]);
    expect(await search(`nobody-${run}`)).toEqual([]);
    const limited = await other.get<{ users: User[] }>(`/v1/search/users?q=${run.slice(0, 1)}&limit=1`);
    expect(ok(limited).users.length).toBeLessThanOrEqual(1);

    expectError(await other.get("/v1/users/Unosuchuser"), 404, "not_found");
    expectError(await other.get("/v1/search/users"), 400, "bad_request");
    expectError(await other.get("/v1/search/users?q=a&limit=51"), 400, "bad_request");
    expectError(await zed.patch("/v1/users/me", { displayName: "" }), 400, "bad_request");
    expectError(await zed.patch("/v1/users/me", { timeZone: "not a zone!" }), 400, "bad_request");
    expectError(await zed.patch("/v1/users/me", { role: "admin" }), 400, "bad_request");
    expect(ok(await zed.get<{ user: User }>("/v1/users/me")).user).toEqual(titled);
  });

  it("reads and merges the caller's settings", async () => {
    const a = await login("settings");
    const initial = ok(await a.get<{ settings: UserSettings }>("/v1/users/me/settings")).settings;
    expect(initial).toMatchObject({ theme: "system", notify: {} });
    const dark = ok(
      await a.patch<{ settings: UserSettings }>("/v1/users/me/settings", {
        theme: "dark",
        notify: { C1: "mentions" },
      }),
    ).settings;
    expect(dark).toEqual({ ...initial, theme: "dark", notify: { C1: "mentions" } });
    const merged = ok(
      await a.patch<{ settings: UserSettings }>("/v1/users/me/settings", {
        language: "fr",
        notify: { C2: "none" },
      }),
    ).settings;
    expect(merged).toEqual({ theme: "dark", language: "fr", notify: { C1: "mentions", C2: "none" } });
    // `all` is the default: it removes the override.
    const reset = ok(
      await a.patch<{ settings: UserSettings }>("/v1/users/me/settings", { notify: { C1: "all" } }),
    ).settings;
    expect(reset.notify).toEqual({ C2: "none" });
    expect(ok(await a.get<{ settings: UserSettings }>("/v1/users/me/settings")).settings).toEqual(reset);

    expectError(await a.patch("/v1/users/me/settings", { theme: "neon" }), 400, "bad_request");
    expectError(await a.patch("/v1/users/me/settings", { notify: { C1: "sometimes" } }), 400, "bad_request");
    expectError(await a.patch("/v1/users/me/settings", { extra: 1 }), 400, "bad_request");
  });

  // ---- read markers and unread ----------------------------------------------------------

  it("moves read markers forward and counts unread messages and mentions", async () => {
    const alice = await login("unread-alice");
    const bob = await login("unread-bob");
    const outsider = await login("unread-outsider");
    const channel = await createChannel(alice, "unread");
    await join(bob, channel.id);
    const m1 = await post(alice, channel.id, "one");
    const m2 = await post(alice, channel.id, "two");
    const m3 = await post(alice, channel.id, `three @${bob.name}`);
    await post(bob, channel.id, "my own");
    const unreadOf = async (a: Actor) =>
      ok(await a.get<{ channels: Unread[] }>("/v1/users/me/unread")).channels.find(
        (c) => c.channelId === channel.id,
      );

    expect(await unreadOf(bob)).toMatchObject({ unread: 3, mentions: 1, threads: 0 });
    const marked = ok(await bob.post("/v1/users/me/read", { channelId: channel.id, seq: m2.seq }));
    expect(marked).toEqual({ channelId: channel.id, lastReadSeq: m2.seq });
    expect(await unreadOf(bob)).toMatchObject({ lastReadSeq: m2.seq, unread: 1, mentions: 1 });
    // Never backwards.
    const back = ok(
      await bob.post<{ lastReadSeq: number }>("/v1/users/me/read", { channelId: channel.id, seq: m1.seq }),
    );
    expect(back.lastReadSeq).toBe(m2.seq);
    const last = await lastSeqOf(bob, channel.id);
    ok(await bob.post("/v1/users/me/read", { channelId: channel.id, seq: last }));
    expect(await unreadOf(bob)).toMatchObject({ lastReadSeq: last, unread: 0, mentions: 0 });
    expect(m3.mentions).toEqual([bob.id]);

    expectError(
      await outsider.post("/v1/users/me/read", { channelId: channel.id, seq: 1 }),
      404,
      "not_found",
    );
    expect(await unreadOf(outsider)).toBeUndefined();
    expectError(await bob.post("/v1/users/me/read", { channelId: channel.id }), 400, "bad_request");
    expectError(await bob.post("/v1/users/me/read", { channelId: channel.id, seq: -1 }), 400, "bad_request");
  });

  // ---- presence and typing ---------------------------------------------------------------

  it("sets presence over a live session and shows it only to people who share a channel", async () => {
    const alice = await login("presence-alice");
    const bob = await login("presence-bob");
    const carol = await login("presence-carol");
    const channel = await createChannel(alice, "presence");
    await join(bob, channel.id);
    await live(alice);
    const query = async (a: Actor, userIds: string[]) =>
      ok(await a.post<{ presence: Presence[] }>("/v1/presence/query", { userIds })).presence;
    let seen: Presence[] = [];
    for (let i = 0; i < 100; i++) {
      seen = await query(bob, [alice.id]);
      if (seen[0]?.status === "online") break;
      await pause(50);
    }
    expect(seen).toEqual([{ userId: alice.id, status: "online", since: expect.any(Number) }]);

    const dnd = ok(await alice.put<{ presence: Presence }>("/v1/presence", { status: "dnd" })).presence;
    expect(dnd).toEqual({ userId: alice.id, status: "dnd", since: expect.any(Number) });
    expect(await query(bob, [alice.id, carol.id])).toEqual([dnd]);
    // Carol shares nothing with alice: left out.
    expect(await query(carol, [alice.id])).toEqual([]);
    const back = ok(await alice.put<{ presence: Presence }>("/v1/presence", { status: "online" })).presence;
    expect(back.status).toBe("online");

    // Without a session a user is offline, whatever they choose.
    const away = ok(await carol.put<{ presence: Presence }>("/v1/presence", { status: "away" })).presence;
    expect(away).toMatchObject({ userId: carol.id, status: "offline" });
    expect(await query(bob, [bob.id])).toEqual([
      { userId: bob.id, status: "offline", since: expect.any(Number) },
    ]);

    expectError(await alice.put("/v1/presence", { status: "offline" }), 400, "bad_request");
    expectError(await alice.put("/v1/presence", {}), 400, "bad_request");
    expectError(await alice.post("/v1/presence/query", { userIds: [] }), 400, "bad_request");
  });

  it("sends typing to the channel's subscribers, never into the log", async () => {
    const alice = await login("typing-alice");
    const bob = await login("typing-bob");
    const outsider = await login("typing-outsider");
    const channel = await createChannel(alice, "typing", "private");
    ok(await alice.post(`/v1/channels/${channel.id}/members`, { userId: bob.id }));
    const { client } = await live(bob);
    const typing: Json[] = [];
    await client.subscribe(channel.id, (type, data) => {
      if (type === "typing") typing.push(data);
    });
    const seq = await lastSeqOf(alice, channel.id);

    expect(ok(await alice.post(`/v1/channels/${channel.id}/typing`, {}))).toEqual({});
    await until(() => typing.length > 0, 10_000, "typing event");
    expect(typing[0]).toMatchObject({ userId: alice.id, expiresAt: expect.any(Number) });
    // An empty body is fine too.
    expect(ok(await alice.post(`/v1/channels/${channel.id}/typing`))).toEqual({});
    expect(await lastSeqOf(alice, channel.id)).toBe(seq);

    expectError(await outsider.post(`/v1/channels/${channel.id}/typing`, {}), 404, "not_found");
    expectError(
      await alice.post(`/v1/channels/${channel.id}/typing`, { threadRootId: 5 }),
      400,
      "bad_request",
    );
  });
});
