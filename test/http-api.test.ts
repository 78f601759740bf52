/**
 * End to end over HTTP (REST/JSON), on PGlite and on Postgres: every route of
 * transport/http-api.ts with its success status and body, the one HTTP status of each
 * error code and the `{error: {code, message, retryable}}` body, private channels hidden
 * from outsiders (404, never 403), idempotent POSTs (invariant 4), history paging, the
 * body size limit, and the same changes seen over the WebSocket by an SDK client.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { importJWK, type JWK, SignJWT } from "jose";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import { type ErrorCode, httpStatusOf } from "../core/errors.js";
import { newMessage } from "../core/message-rules.js";
import type { Channel, Member, Message, User } from "../core/types.js";
import { devToken, type StoreKind, storeKinds, type TestServer, testDatabaseUrl, until } from "./harness.js";
import { RawSocket } from "./raw-socket.js";
import { serverForBlock } from "./support/server-fixture.js";

type Json = Record<string, unknown>;

interface Reply<T = Json> {
  status: number;
  contentType: string | null;
  body: T;
}

interface CallOptions {
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (wins over `body`). */
  raw?: string;
  headers?: Record<string, string>;
}

/** One HTTP request; the answer's body is parsed as JSON when it is JSON. */
async function call<T = Json>(
  server: TestServer,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (payload !== undefined) headers["content-type"] = "application/json";
  Object.assign(headers, opts.headers);
  const res = await fetch(`${server.baseUrl}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text, the assertions will show it
  }
  return { status: res.status, contentType: res.headers.get("content-type"), body: body as T };
}

/** Asserts an error reply: its status, the code's one status, and the exact body shape. */
function expectError(r: Reply<unknown>, status: number, code: ErrorCode): void {
  const shown = JSON.stringify(r.body);
  expect(r.status, shown).toBe(status);
  expect(httpStatusOf[code]).toBe(status);
  expect(r.contentType).toBe("application/json");
  const body = r.body as Json;
  expect(Object.keys(body), shown).toEqual(["error"]);
  const error = body.error as Json;
  expect(error, shown).toMatchObject({ code, message: expect.any(String), retryable: false });
  expect(error.message as string, shown).not.toBe("");
  for (const k of Object.keys(error)) expect(["code", "message", "retryable", "details"]).toContain(k);
}

/** A signed-in user with shorthands for requests carrying their token. */
interface Actor {
  id: string;
  token: string;
  get<T = Json>(path: string): Promise<Reply<T>>;
  post<T = Json>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  patch<T = Json>(path: string, body?: unknown): Promise<Reply<T>>;
  del<T = Json>(path: string): Promise<Reply<T>>;
}

interface Seen {
  type: string;
  seq: number;
  data: Record<string, unknown>;
}

/** Subscribes and records every channel event the SDK delivers. */
async function record(client: ColinkClient, channelId: string): Promise<Seen[]> {
  const seen: Seen[] = [];
  await client.subscribe(channelId, (type, data) => seen.push({ type, seq: data.seq as number, data }));
  return seen;
}

type ChannelReply = { channel: Channel };
type ListReply = { channels: Array<Channel & { myRole: string | null }> };
type MembersReply = { members: Member[] };
type MessageReply = { message: Message };
type HistoryReply = { messages: Message[]; hasMore: boolean };

const jsonHeaders = { "content-type": "application/json" };

describe.each(storeKinds)("HTTP API on %s", (store: StoreKind) => {
  // "pages through 250 messages" posts 250 from one user in a few seconds: not a test of
  // the send budgets (test/limits.test.ts).
  const fixture = serverForBlock(store, { COLINK_RATE_SEND: "0", COLINK_RATE_SEND_PER_IP: "0" });

  const login = async (name: string): Promise<Actor> => {
    const { token, userId } = await devToken(fixture.server, name);
    return {
      id: userId,
      token,
      get: (path) => call(fixture.server, "GET", path, { token }),
      post: (path, body, headers) =>
        call(fixture.server, "POST", path, { token, body, headers: headers ?? {} }),
      patch: (path, body) => call(fixture.server, "PATCH", path, { token, body }),
      del: (path) => call(fixture.server, "DELETE", path, { token }),
    };
  };

  const createChannel = async (
    owner: Actor,
    name: string,
    kind: "public" | "private" = "public",
  ): Promise<Channel> => {
    const r = await owner.post<ChannelReply>("/v1/channels", { name, kind });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.channel;
  };

  const post = async (a: Actor, channelId: string, text: string): Promise<Message> => {
    const r = await a.post<MessageReply>(`/v1/channels/${channelId}/messages`, { text });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.message;
  };

  const lastSeqOf = async (a: Actor, channelId: string): Promise<number> => {
    const r = await a.get<ChannelReply>(`/v1/channels/${channelId}`);
    expect(r.status).toBe(200);
    return r.body.channel.lastSeq;
  };

  // ---- service routes -------------------------------------------------------------

  it("answers /health and /ready with 200 and unknown routes with 404 not_found", async () => {
    const health = await call(fixture.server, "GET", "/health");
    expect(health).toMatchObject({ status: 200, contentType: "application/json", body: { status: "ok" } });
    const ready = await call(fixture.server, "GET", "/ready");
    expect(ready).toMatchObject({
      status: 200,
      body: {
        status: "ready",
        checks: { store: "up", search: { index: "postgres", status: "ok", lagEvents: expect.any(Number) } },
      },
    });
    // No Kafka configured: no relay to report on.
    expect(ready.body).not.toHaveProperty("checks.stream");

    const token = (await devToken(fixture.server, "routes")).token;
    // Any other GET is the web client's (test/web-serving.test.ts); other methods are not.
    expectError(await call(fixture.server, "POST", "/nope", { body: {} }), 404, "not_found");
    expectError(await call(fixture.server, "DELETE", "/"), 404, "not_found");
    expectError(await call(fixture.server, "GET", "/v1/nope", { token }), 404, "not_found");
    expectError(await call(fixture.server, "POST", "/v1/nope", { token, body: { a: 1 } }), 404, "not_found");
    // A known path with a method it does not have.
    expectError(await call(fixture.server, "PUT", "/v1/channels", { token, body: {} }), 404, "not_found");
    expectError(await call(fixture.server, "POST", "/v1/users/me", { token, body: {} }), 404, "not_found");
    // Still serving afterwards.
    expect((await call(fixture.server, "GET", "/health")).status).toBe(200);
  });

  it("issues dev tokens: {accessToken, expiresAt, user}, the same user for the same username", async () => {
    const first = await call<{ accessToken: string; user: User }>(fixture.server, "POST", "/auth/dev/token", {
      body: { username: "alice" },
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      accessToken: expect.any(String),
      expiresAt: expect.any(Number),
      user: {
        id: expect.any(String),
        username: "alice",
        displayName: "alice",
        role: "member",
        title: "",
        timeZone: "",
        avatarFileId: null,
        deactivated: false,
        createdAt: expect.any(Number),
      },
    });
    expect(first.body.accessToken.split(".")).toHaveLength(3);

    const again = await call<{ accessToken: string; user: User }>(fixture.server, "POST", "/auth/dev/token", {
      body: { username: "alice" },
    });
    expect(again.status).toBe(200);
    expect(again.body.user).toEqual(first.body.user);
    // Usernames are case-insensitive.
    const upper = await call<{ user: User }>(fixture.server, "POST", "/auth/dev/token", {
      body: { username: "ALICE" },
    });
    expect(upper.body.user.id).toBe(first.body.user.id);
    const bob = await call<{ user: User }>(fixture.server, "POST", "/auth/dev/token", {
      body: { username: "bob" },
    });
    expect(bob.body.user.id).not.toBe(first.body.user.id);

    // Both of alice's tokens are alice.
    for (const token of [first.body.accessToken, again.body.accessToken]) {
      const me = await call<{ user: User }>(fixture.server, "GET", "/v1/users/me", { token });
      expect(me.status).toBe(200);
      expect(me.body.user).toEqual(first.body.user);
    }

    for (const body of [
      {},
      { username: "" },
      { username: 5 },
      { username: "a b" },
      { username: "x".repeat(33) },
    ]) {
      expectError(await call(fixture.server, "POST", "/auth/dev/token", { body }), 400, "bad_request");
    }
    expectError(await call(fixture.server, "POST", "/auth/dev/token"), 400, "bad_request");
    expectError(
      await call(fixture.server, "POST", "/auth/dev/token", { raw: "{username" }),
      400,
      "bad_request",
    );

    const jwks = await call<{ keys: Json[] }>(fixture.server, "GET", "/auth/dev/jwks");
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.length).toBeGreaterThan(0);
    expect(jwks.body.keys[0]).not.toHaveProperty("d");
  });

  // ---- channels -------------------------------------------------------------------

  it("creates, lists, reads, updates and archives channels", async () => {
    const owner = await login("ch-owner");
    const other = await login("ch-other");

    const created = await owner.post<ChannelReply>("/v1/channels", {
      name: "http-general",
      kind: "public",
      topic: "hello",
    });
    expect(created.status).toBe(201);
    expect(created.contentType).toBe("application/json");
    expect(Object.keys(created.body)).toEqual(["channel"]);
    const general = created.body.channel;
    expect(general).toEqual({
      id: expect.any(String),
      name: "http-general",
      kind: "public",
      topic: "hello",
      createdBy: owner.id,
      createdAt: expect.any(Number),
      archived: false,
      lastSeq: 2,
      memberCount: 1,
    });
    const secret = await createChannel(owner, "http-secret", "private");
    expect(secret).toMatchObject({ kind: "private", topic: "", memberCount: 1 });
    const otherPublic = await createChannel(other, "other-public");
    const otherPrivate = await createChannel(other, "other-private", "private");

    // Member channels only by default.
    const mine = await owner.get<ListReply>("/v1/channels");
    expect(mine.status).toBe(200);
    const mineById = new Map(mine.body.channels.map((c) => [c.id, c]));
    expect(mineById.get(general.id)).toMatchObject({ name: "http-general", myRole: "owner", memberCount: 1 });
    expect(mineById.get(secret.id)).toMatchObject({ name: "http-secret", myRole: "owner" });
    expect(mineById.has(otherPublic.id)).toBe(false);
    expect(mineById.has(otherPrivate.id)).toBe(false);
    expect(mine.body.channels.every((c) => c.myRole !== null)).toBe(true);

    // includePublic adds public channels the caller is not in, with myRole null.
    for (const flag of ["true", "1"]) {
      const all = await owner.get<ListReply>(`/v1/channels?includePublic=${flag}`);
      expect(all.status).toBe(200);
      const byId = new Map(all.body.channels.map((c) => [c.id, c]));
      expect(byId.get(otherPublic.id)).toMatchObject({ name: "other-public", myRole: null, memberCount: 1 });
      expect(byId.get(general.id)).toMatchObject({ myRole: "owner" });
      expect(byId.get(secret.id)).toMatchObject({ myRole: "owner" });
      expect(byId.has(otherPrivate.id)).toBe(false);
    }
    const notPublic = await owner.get<ListReply>("/v1/channels?includePublic=false");
    expect(notPublic.body.channels.map((c) => c.id)).not.toContain(otherPublic.id);

    // Read one.
    const got = await owner.get<ChannelReply>(`/v1/channels/${general.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ channel: general });
    // A public channel is readable by a non-member.
    expect((await other.get<ChannelReply>(`/v1/channels/${general.id}`)).body).toEqual({ channel: general });
    expectError(await owner.get("/v1/channels/Cdoesnotexist"), 404, "not_found");

    // Rename and change the topic: one channel.updated event.
    const renamed = await owner.patch<ChannelReply>(`/v1/channels/${general.id}`, {
      name: "http-renamed",
      topic: "new topic",
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.channel).toEqual({
      ...general,
      name: "http-renamed",
      topic: "new topic",
      lastSeq: 3,
    });
    const topicOnly = await owner.patch<ChannelReply>(`/v1/channels/${general.id}`, { topic: "" });
    expect(topicOnly.body.channel).toMatchObject({ name: "http-renamed", topic: "", lastSeq: 4 });
    // No change, no event.
    const same = await owner.patch<ChannelReply>(`/v1/channels/${general.id}`, {});
    expect(same.status).toBe(200);
    expect(same.body.channel.lastSeq).toBe(4);
    expect((await owner.get<ChannelReply>(`/v1/channels/${general.id}`)).body.channel).toMatchObject({
      name: "http-renamed",
      topic: "",
      lastSeq: 4,
    });
    // Only channel staff may change it.
    expectError(await other.patch(`/v1/channels/${general.id}`, { topic: "mine now" }), 403, "forbidden");
    await other.post(`/v1/channels/${general.id}/members`);
    expectError(await other.patch(`/v1/channels/${general.id}`, { topic: "mine now" }), 403, "forbidden");

    // Archive: owner only, read-only afterwards, idempotent.
    expectError(await other.del(`/v1/channels/${general.id}`), 403, "forbidden");
    const archived = await owner.del<ChannelReply>(`/v1/channels/${general.id}`);
    expect(archived.status).toBe(200);
    expect(archived.body.channel).toMatchObject({ id: general.id, archived: true, lastSeq: 6 });
    const archivedAgain = await owner.del<ChannelReply>(`/v1/channels/${general.id}`);
    expect(archivedAgain.status).toBe(200);
    expect(archivedAgain.body.channel).toMatchObject({ archived: true, lastSeq: 6 });
    expect((await owner.get<ChannelReply>(`/v1/channels/${general.id}`)).body.channel.archived).toBe(true);

    expectError(
      await owner.post(`/v1/channels/${general.id}/messages`, { text: "anyone?" }),
      403,
      "forbidden",
    );
    expectError(
      await other.post(`/v1/channels/${general.id}/messages`, { text: "anyone?" }),
      403,
      "forbidden",
    );
    expectError(await owner.patch(`/v1/channels/${general.id}`, { topic: "late" }), 403, "forbidden");
    const newcomer = await login("ch-newcomer");
    expectError(await newcomer.post(`/v1/channels/${general.id}/members`), 403, "forbidden");
    expectError(
      await owner.post(`/v1/channels/${general.id}/members`, { userId: newcomer.id }),
      403,
      "forbidden",
    );
    expect(await lastSeqOf(owner, general.id)).toBe(6);

    // Archived channels leave the list unless asked for.
    const listed = await owner.get<ListReply>("/v1/channels");
    expect(listed.body.channels.map((c) => c.id)).not.toContain(general.id);
    const withArchived = await owner.get<ListReply>("/v1/channels?includeArchived=true");
    expect(withArchived.body.channels.find((c) => c.id === general.id)).toMatchObject({
      archived: true,
      myRole: "owner",
    });
  });

  // ---- members --------------------------------------------------------------------

  it("joins, invites, lists members, leaves and kicks", async () => {
    const owner = await login("mem-owner");
    const bob = await login("mem-bob");
    const carol = await login("mem-carol");
    const dave = await login("mem-dave");
    const channel = await createChannel(owner, "members-room");
    const path = `/v1/channels/${channel.id}/members`;

    // No body: join.
    const joined = await bob.post<ChannelReply>(path);
    expect(joined.status).toBe(200);
    expect(joined.body.channel).toMatchObject({ id: channel.id, memberCount: 2, lastSeq: 3 });
    // Joining again, or "inviting" oneself, is a join that changes nothing.
    expect((await bob.post<ChannelReply>(path)).body.channel).toMatchObject({ memberCount: 2, lastSeq: 3 });
    const self = await bob.post<ChannelReply>(path, { userId: bob.id });
    expect(self.status).toBe(200);
    expect(self.body.channel).toMatchObject({ memberCount: 2, lastSeq: 3 });

    // With a userId: invite (any member may).
    const invited = await bob.post<{ member: Member }>(path, { userId: carol.id });
    expect(invited.status).toBe(200);
    expect(invited.body).toEqual({
      member: { userId: carol.id, role: "member", joinedAt: expect.any(Number) },
    });
    const reinvited = await owner.post<{ member: Member }>(path, { userId: carol.id });
    expect(reinvited.body.member).toEqual(invited.body.member);
    expectError(await owner.post(path, { userId: "Unobodyatall" }), 404, "not_found");
    expectError(await owner.post(path, { userId: 42 }), 400, "bad_request");
    expectError(await owner.post(path, { userId: "bad id!" }), 400, "bad_request");

    const listed = await owner.get<MembersReply>(path);
    expect(listed.status).toBe(200);
    const roles = Object.fromEntries(listed.body.members.map((m) => [m.userId, m.role]));
    expect(roles).toEqual({ [owner.id]: "owner", [bob.id]: "member", [carol.id]: "member" });
    // A public channel's members are visible to a non-member.
    expect((await dave.get<MembersReply>(path)).body.members).toHaveLength(3);

    // Kick: forbidden for a plain member, allowed for the owner.
    expectError(await carol.del(`${path}/${bob.id}`), 403, "forbidden");
    expectError(await carol.del(`${path}/${owner.id}`), 403, "forbidden");
    expectError(await bob.del(`${path}/${owner.id}`), 403, "forbidden");
    const kicked = await owner.del(`${path}/${bob.id}`);
    expect(kicked).toMatchObject({ status: 200, body: {} });
    expectError(await owner.del(`${path}/${bob.id}`), 404, "not_found");
    expectError(await owner.del(`${path}/${dave.id}`), 404, "not_found");
    expect((await owner.get<MembersReply>(path)).body.members.map((m) => m.userId).sort()).toEqual(
      [owner.id, carol.id].sort(),
    );
    // A kicked member may not post any more.
    expectError(
      await bob.post(`/v1/channels/${channel.id}/messages`, { text: "still here?" }),
      403,
      "forbidden",
    );

    // Leave: DELETE of one's own membership. Idempotent.
    const left = await carol.del(`${path}/${carol.id}`);
    expect(left).toMatchObject({ status: 200, body: {} });
    expect((await carol.del(`${path}/${carol.id}`)).status).toBe(200);
    const after = await owner.get<MembersReply>(path);
    expect(after.body.members.map((m) => m.userId)).toEqual([owner.id]);
    // Created, owner joined, bob joined, carol invited, bob kicked, carol left.
    expect(await lastSeqOf(owner, channel.id)).toBe(6);
  });

  // ---- messages -------------------------------------------------------------------

  it("posts, edits and soft-deletes messages", async () => {
    const owner = await login("msg-owner");
    const bob = await login("msg-bob");
    const outsider = await login("msg-outsider");
    const channel = await createChannel(owner, "messages");
    await bob.post(`/v1/channels/${channel.id}/members`);

    const created = await owner.post<MessageReply>(`/v1/channels/${channel.id}/messages`, { text: "hello" });
    expect(created.status).toBe(201);
    expect(created.contentType).toBe("application/json");
    expect(created.body).toEqual({
      message: newMessage({
        id: expect.any(String),
        channelId: channel.id,
        seq: 4,
        authorId: owner.id,
        text: "hello",
        clientMsgId: expect.any(String),
        createdAt: expect.any(Number),
      }),
    });
    const hello = created.body.message;
    // Without an Idempotency-Key, the same text twice is two messages.
    const twice = [await post(owner, channel.id, "same"), await post(owner, channel.id, "same")];
    expect(twice[0]!.id).not.toBe(twice[1]!.id);
    expect(twice.map((m) => m.seq)).toEqual([5, 6]);
    const bobs = await post(bob, channel.id, "bob's");
    // A non-member of a public channel may read but not post.
    expectError(await outsider.post(`/v1/channels/${channel.id}/messages`, { text: "hi" }), 403, "forbidden");

    // Edit: author only.
    const edited = await owner.patch<MessageReply>(`/v1/messages/${hello.id}`, { text: "hello, edited" });
    expect(edited.status).toBe(200);
    expect(edited.body.message).toEqual({ ...hello, text: "hello, edited", editedAt: expect.any(Number) });
    expectError(await bob.patch(`/v1/messages/${hello.id}`, { text: "hijack" }), 403, "forbidden");
    expectError(await outsider.patch(`/v1/messages/${hello.id}`, { text: "hijack" }), 403, "forbidden");
    expectError(await owner.patch(`/v1/messages/${bobs.id}`, { text: "not mine" }), 403, "forbidden");
    expectError(await owner.patch(`/v1/messages/${hello.id}`, { text: "" }), 400, "bad_request");
    expectError(await owner.patch(`/v1/messages/${hello.id}`, { text: "   " }), 400, "bad_request");
    expectError(await owner.patch(`/v1/messages/${hello.id}`, {}), 400, "bad_request");
    expectError(await owner.patch("/v1/messages/Mnosuchmessage", { text: "x" }), 404, "not_found");
    const seqBefore = await lastSeqOf(owner, channel.id);
    const unchanged = await owner.patch<MessageReply>(`/v1/messages/${hello.id}`, { text: "hello, edited" });
    expect(unchanged.status).toBe(200);
    expect(await lastSeqOf(owner, channel.id)).toBe(seqBefore);
    // The channel may also be named in the body.
    const named = await owner.patch<MessageReply>(`/v1/messages/${twice[0]!.id}`, {
      text: "named",
      channelId: channel.id,
    });
    expect(named.body.message).toMatchObject({ id: twice[0]!.id, text: "named" });

    // Delete: author, or channel staff; never another plain member.
    expectError(await bob.del(`/v1/messages/${hello.id}`), 403, "forbidden");
    expectError(await outsider.del(`/v1/messages/${bobs.id}`), 403, "forbidden");
    const removed = await bob.del(`/v1/messages/${bobs.id}`);
    expect(removed).toMatchObject({ status: 200, body: {} });
    expect(await owner.del(`/v1/messages/${hello.id}`)).toMatchObject({ status: 200, body: {} });
    expect(await owner.del(`/v1/messages/${twice[1]!.id}?channelId=${channel.id}`)).toMatchObject({
      status: 200,
      body: {},
    });
    const seqAfterDeletes = await lastSeqOf(owner, channel.id);
    // Deleting again changes nothing; a deleted message cannot be edited.
    expect((await owner.del(`/v1/messages/${hello.id}`)).status).toBe(200);
    expect(await lastSeqOf(owner, channel.id)).toBe(seqAfterDeletes);
    expectError(await owner.patch(`/v1/messages/${hello.id}`, { text: "back" }), 404, "not_found");
    expectError(await owner.del("/v1/messages/Mnosuchmessage"), 404, "not_found");

    // History: soft-deleted messages keep their place with the text redacted.
    const history = await outsider.get<HistoryReply>(`/v1/channels/${channel.id}/messages`);
    expect(history.status).toBe(200);
    expect(history.body.hasMore).toBe(false);
    const byId = new Map(history.body.messages.map((m) => [m.id, m]));
    expect(history.body.messages.map((m) => m.id)).toEqual([hello.id, twice[0]!.id, twice[1]!.id, bobs.id]);
    expect(byId.get(hello.id)).toMatchObject({
      text: "",
      deletedAt: expect.any(Number),
      editedAt: expect.any(Number),
    });
    expect(byId.get(bobs.id)).toMatchObject({ text: "", deletedAt: expect.any(Number), authorId: bob.id });
    expect(byId.get(twice[1]!.id)).toMatchObject({ text: "", deletedAt: expect.any(Number) });
    expect(byId.get(twice[0]!.id)).toMatchObject({
      text: "named",
      deletedAt: null,
      editedAt: expect.any(Number),
    });
  });

  it("replays a retried POST with the same Idempotency-Key (invariant 4)", async () => {
    const owner = await login("idem-owner");
    const bob = await login("idem-bob");
    const channel = await createChannel(owner, "idempotent");
    await bob.post(`/v1/channels/${channel.id}/members`);
    const path = `/v1/channels/${channel.id}/messages`;

    const first = await owner.post<MessageReply>(path, { text: "once" }, { "Idempotency-Key": "key-1" });
    expect(first.status).toBe(201);
    expect(first.body.message.clientMsgId).toBe("key-1");
    const seqAfterFirst = await lastSeqOf(owner, channel.id);
    expect(seqAfterFirst).toBe(first.body.message.seq);

    const retry = await owner.post<MessageReply>(path, { text: "once" }, { "Idempotency-Key": "key-1" });
    expect([200, 201]).toContain(retry.status);
    expect(retry.body).toEqual(first.body);
    // Even with other text, the key decides: the original comes back.
    const changed = await owner.post<MessageReply>(path, { text: "twice?" }, { "idempotency-key": "key-1" });
    expect(changed.body).toEqual(first.body);
    // clientMsgId in the body is the same key.
    const inBody = await owner.post<MessageReply>(path, { text: "once", clientMsgId: "key-1" });
    expect(inBody.body).toEqual(first.body);
    expect(await lastSeqOf(owner, channel.id)).toBe(seqAfterFirst);

    // The key is per author: bob's key-1 is another message.
    const bobs = await bob.post<MessageReply>(path, { text: "bob once" }, { "Idempotency-Key": "key-1" });
    expect(bobs.status).toBe(201);
    expect(bobs.body.message.id).not.toBe(first.body.message.id);
    expect(bobs.body.message.seq).toBe(seqAfterFirst + 1);

    // Concurrent retries make one message.
    const racing = await Promise.all(
      Array.from({ length: 8 }, () =>
        owner.post<MessageReply>(path, { text: "race" }, { "Idempotency-Key": "key-2" }),
      ),
    );
    for (const r of racing) expect([200, 201]).toContain(r.status);
    expect(new Set(racing.map((r) => r.body.message.id)).size).toBe(1);

    // And a key is kept across a restart (durable).
    await fixture.server.stop();
    await fixture.server.restart();
    const afterRestart = await owner.post<MessageReply>(
      path,
      { text: "once" },
      { "Idempotency-Key": "key-1" },
    );
    expect(afterRestart.body).toEqual(first.body);

    const history = await owner.get<HistoryReply>(path);
    expect(history.body.messages.map((m) => m.clientMsgId)).toEqual(["key-1", "key-1", "key-2"]);
    expect(history.body.messages.map((m) => m.authorId)).toEqual([owner.id, bob.id, owner.id]);
    expect(await lastSeqOf(owner, channel.id)).toBe(seqAfterFirst + 2);

    expectError(
      await owner.post(path, { text: "long key" }, { "Idempotency-Key": "k".repeat(65) }),
      400,
      "bad_request",
    );
  });

  it("pages history with limit, before, after and hasMore", async () => {
    const owner = await login("page-owner");
    const channel = await createChannel(owner, "paging");
    const path = `/v1/channels/${channel.id}/messages`;
    const sent: Message[] = [];
    for (let i = 0; i < 12; i++) sent.push(await post(owner, channel.id, `m${i}`));
    const texts = (r: Reply<HistoryReply>) => r.body.messages.map((m) => m.text);
    const range = (from: number, to: number) => sent.slice(from, to).map((m) => m.text);

    const all = await owner.get<HistoryReply>(path);
    expect(all.status).toBe(200);
    expect(Object.keys(all.body).sort()).toEqual(["hasMore", "messages"]);
    expect(texts(all)).toEqual(range(0, 12));
    expect(all.body.hasMore).toBe(false);
    expect(all.body.messages).toEqual(sent);

    // Newest first pages: the newest `limit`, ascending; `before` goes back.
    const newest = await owner.get<HistoryReply>(`${path}?limit=5`);
    expect(texts(newest)).toEqual(range(7, 12));
    expect(newest.body.hasMore).toBe(true);
    const older = await owner.get<HistoryReply>(`${path}?limit=5&before=${sent[7]!.seq}`);
    expect(texts(older)).toEqual(range(2, 7));
    expect(older.body.hasMore).toBe(true);
    const oldest = await owner.get<HistoryReply>(`${path}?limit=5&before=${sent[2]!.seq}`);
    expect(texts(oldest)).toEqual(range(0, 2));
    expect(oldest.body.hasMore).toBe(false);

    // `after` pages forward from a seq, oldest first.
    const fwd = await owner.get<HistoryReply>(`${path}?after=${sent[3]!.seq}&limit=4`);
    expect(texts(fwd)).toEqual(range(4, 8));
    expect(fwd.body.hasMore).toBe(true);
    const fwdEnd = await owner.get<HistoryReply>(`${path}?after=${sent[7]!.seq}&limit=4`);
    expect(texts(fwdEnd)).toEqual(range(8, 12));
    expect(fwdEnd.body.hasMore).toBe(false);
    const fromStart = await owner.get<HistoryReply>(`${path}?after=0&limit=3`);
    expect(texts(fromStart)).toEqual(range(0, 3));
    expect(fromStart.body.hasMore).toBe(true);
    const pastEnd = await owner.get<HistoryReply>(`${path}?after=${sent[11]!.seq}`);
    expect(pastEnd.body).toEqual({ messages: [], hasMore: false });

    // Both: the window between two seqs (the newest `limit` of it).
    const between = await owner.get<HistoryReply>(`${path}?after=${sent[2]!.seq}&before=${sent[6]!.seq}`);
    expect(texts(between)).toEqual(range(3, 6));
    expect(between.body.hasMore).toBe(false);
    const betweenCut = await owner.get<HistoryReply>(
      `${path}?after=${sent[0]!.seq}&before=${sent[11]!.seq}&limit=3`,
    );
    expect(texts(betweenCut)).toEqual(range(8, 11));
    expect(betweenCut.body.hasMore).toBe(true);

    // Limits of `limit`.
    expect(texts(await owner.get<HistoryReply>(`${path}?limit=1`))).toEqual(range(11, 12));
    expect((await owner.get<HistoryReply>(`${path}?limit=200`)).status).toBe(200);
  });

  it("pages through 250 messages both ways, across the in-memory window", async () => {
    const owner = await login("deep-owner");
    const channel = await createChannel(owner, "deep-history");
    const path = `/v1/channels/${channel.id}/messages`;
    const sent: Message[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const out = await Promise.all(
        Array.from({ length: 25 }, (_, i) => post(owner, channel.id, `d${batch * 25 + i}`)),
      );
      sent.push(...out);
    }
    sent.sort((a, b) => a.seq - b.seq);
    const allSeqs = sent.map((m) => m.seq);
    expect(new Set(allSeqs).size).toBe(250);

    // Forward from the start, 30 at a time (not a divisor of 250 on purpose).
    const forward: number[] = [];
    let after = 0;
    for (let pages = 0; pages < 20; pages++) {
      const r = await owner.get<HistoryReply>(`${path}?after=${after}&limit=30`);
      expect(r.status).toBe(200);
      forward.push(...r.body.messages.map((m) => m.seq));
      if (!r.body.hasMore) break;
      after = r.body.messages.at(-1)!.seq;
    }
    expect(forward).toEqual(allSeqs);

    // The page just below the window's floor (the oldest 200 are in memory, the rest in the store).
    const justBelow = await owner.get<HistoryReply>(`${path}?before=${sent[50]!.seq}&limit=10`);
    expect
      .soft(
        justBelow.body.messages.map((m) => m.seq),
        "before = floor + 1",
      )
      .toEqual(allSeqs.slice(40, 50));
    expect.soft(justBelow.body.hasMore).toBe(true);
    const straddling = await owner.get<HistoryReply>(`${path}?before=${sent[55]!.seq}&limit=10`);
    expect
      .soft(
        straddling.body.messages.map((m) => m.seq),
        "straddling the floor",
      )
      .toEqual(allSeqs.slice(45, 55));

    // Backward from the newest, 30 at a time.
    const backward: number[] = [];
    let before: number | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const q: string = before === null ? "limit=30" : `limit=30&before=${before}`;
      const r: Reply<HistoryReply> = await owner.get<HistoryReply>(`${path}?${q}`);
      expect(r.status).toBe(200);
      backward.unshift(...r.body.messages.map((m) => m.seq));
      if (!r.body.hasMore) break;
      before = r.body.messages[0]!.seq;
    }
    expect.soft(backward, "paging backward").toEqual(allSeqs);

    // A window between two old seqs answers as it does for recent ones (the newest of it).
    const between = await owner.get<HistoryReply>(
      `${path}?after=${sent[0]!.seq}&before=${sent[40]!.seq}&limit=10`,
    );
    expect
      .soft(
        between.body.messages.map((m) => m.seq),
        "after + before, old",
      )
      .toEqual(allSeqs.slice(30, 40));
    expect.soft(between.body.hasMore).toBe(true);
  });

  // ---- WebSocket and HTTP together ------------------------------------------------

  it("shows HTTP writes on the WebSocket and WebSocket writes over HTTP", async () => {
    const owner = await login("bridge-owner");
    const channel = await createChannel(owner, "bridge");
    const watcher = await fixture.connect("bridge-watcher");
    await watcher.client.request("ch.join", { channelId: channel.id });
    const seen = await record(watcher.client, channel.id);
    const third = await login("bridge-third");

    const sent = await owner.post<MessageReply>(`/v1/channels/${channel.id}/messages`, { text: "over http" });
    expect(sent.status).toBe(201);
    const message = sent.body.message;
    await until(() => seen.length >= 1, 5000, "message.created");
    expect(seen[0]).toMatchObject({ type: "message.created", seq: message.seq });
    expect(seen[0]!.data.message).toEqual(message);

    const edited = await owner.patch<MessageReply>(`/v1/messages/${message.id}`, {
      text: "edited over http",
    });
    expect(edited.status).toBe(200);
    expect((await owner.del(`/v1/messages/${message.id}`)).status).toBe(200);
    expect((await owner.patch(`/v1/channels/${channel.id}`, { topic: "bridged" })).status).toBe(200);
    expect((await third.post(`/v1/channels/${channel.id}/members`)).status).toBe(200);
    await until(() => seen.length >= 5, 5000, "five events");
    expect(seen.map((e) => e.type)).toEqual([
      "message.created",
      "message.updated",
      "message.deleted",
      "channel.updated",
      "member.joined",
    ]);
    expect(seen.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4].map((i) => message.seq + i));
    expect(seen[1]!.data.message).toEqual(edited.body.message);
    expect(seen[2]!.data).toMatchObject({ messageId: message.id, by: owner.id });
    expect(seen[3]!.data.channel).toMatchObject({ topic: "bridged" });
    expect(seen[4]!.data).toMatchObject({ userId: third.id, role: "member" });
    expect(await lastSeqOf(owner, channel.id)).toBe(message.seq + 4);

    // A WebSocket send appears in HTTP history, with the same id and seq.
    const { message: viaWs } = await watcher.client.send(channel.id, "over ws");
    const history = await owner.get<HistoryReply>(`/v1/channels/${channel.id}/messages`);
    expect(history.body.messages.at(-1)).toEqual(viaWs);
    expect(viaWs.seq).toBe(message.seq + 5);

    // The idempotency key is the same across transports.
    const { message: keyed } = await watcher.client.send(channel.id, "keyed", { clientMsgId: "bridge-key" });
    const viaHttp = await call<MessageReply>(fixture.server, "POST", `/v1/channels/${channel.id}/messages`, {
      token: watcher.token,
      body: { text: "keyed" },
      headers: { "Idempotency-Key": "bridge-key" },
    });
    expect(viaHttp.body.message).toEqual(keyed);
    await until(() => seen.length >= 7, 5000, "ws-sent events");
    expect(seen.slice(5).map((e) => [e.type, e.seq])).toEqual([
      ["message.created", viaWs.seq],
      ["message.created", keyed.seq],
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(7);
  });

  // ---- errors ---------------------------------------------------------------------

  it("maps every error code to one HTTP status", () => {
    expect(httpStatusOf).toEqual({
      bad_request: 400,
      unauthenticated: 401,
      forbidden: 403,
      not_found: 404,
      conflict: 409,
      rate_limited: 429,
      too_large: 413,
      unavailable: 503,
      internal: 500,
    });
  });

  it("answers bad input with 400 bad_request", async () => {
    const a = await login("bad-input");
    const channel = await createChannel(a, "bad-input");
    const msgs = `/v1/channels/${channel.id}/messages`;
    const raw = (method: string, path: string, body: string) =>
      call(fixture.server, method, path, { token: a.token, raw: body });

    // Not JSON, or JSON that is not an object.
    for (const body of ["{not json", '{"text":', "[1,2]", "null", '"text"', "42", "true"]) {
      expectError(await raw("POST", msgs, body), 400, "bad_request");
      expectError(await raw("POST", "/v1/channels", body), 400, "bad_request");
      expectError(await raw("PATCH", `/v1/channels/${channel.id}`, body), 400, "bad_request");
    }
    // Wrong types, missing or unknown fields, bad names.
    const badCreates = [
      undefined,
      {},
      { name: 5, kind: "public" },
      { name: "Bad Name", kind: "public" },
      { name: "-dash", kind: "public" },
      { name: "x".repeat(81), kind: "public" },
      { name: "ok", kind: "dm" },
      { name: "ok" },
      { name: "ok", kind: "public", topic: 7 },
      { name: "ok", kind: "public", topic: "t".repeat(251) },
      { name: "ok", kind: "public", extra: true },
    ];
    for (const body of badCreates) {
      expectError(await a.post("/v1/channels", body), 400, "bad_request");
    }
    const schemaError = await a.post<{ error: { details?: Json } }>("/v1/channels", {
      name: 5,
      kind: "public",
    });
    expect(schemaError.body.error.details).toMatchObject({ path: "/name" });

    const badSends = [
      undefined,
      {},
      { text: 5 },
      { text: null },
      { text: ["a"] },
      { text: "" },
      { text: "   \n\t" },
      { text: "nul \u0000 inside" },
      { text: "lone \ud800 surrogate" },
      { text: "ok", extra: 1 },
      { text: "ok", clientMsgId: "" },
      { text: "ok", clientMsgId: 5 },
    ];
    for (const body of badSends) expectError(await a.post(msgs, body), 400, "bad_request");
    expectError(await a.patch(`/v1/channels/${channel.id}`, { name: "UPPER" }), 400, "bad_request");
    expectError(await a.patch(`/v1/channels/${channel.id}`, { kind: "private" }), 400, "bad_request");

    // Query parameters.
    for (const q of [
      "limit=500",
      "limit=201",
      "limit=0",
      "limit=-1",
      "limit=abc",
      "limit=10abc",
      "limit=1.5",
      "before=abc",
      "before=-5",
      "after=abc",
      "after=1e3",
      "after=99999999999999999",
    ]) {
      expectError(await a.get(`${msgs}?${q}`), 400, "bad_request");
    }
    expectError(await a.get("/v1/channels?includePublic=maybe"), 400, "bad_request");
    expectError(await a.get("/v1/channels?includeArchived=2"), 400, "bad_request");

    // Ids that cannot be ids.
    expectError(await a.get("/v1/channels/bad.id"), 400, "bad_request");
    expectError(await a.get(`/v1/channels/${"C".repeat(65)}`), 400, "bad_request");
    expectError(await a.del("/v1/messages/Mwhatever?channelId=bad.id"), 400, "bad_request");

    // None of it wrote anything.
    const history = await a.get<HistoryReply>(msgs);
    expect(history.body.messages).toEqual([]);
    expect(await lastSeqOf(a, channel.id)).toBe(2);
    expect((await call(fixture.server, "GET", "/health")).status).toBe(200);
  });

  it("validates a message id (400) before looking the message up", async () => {
    const a = await login("bad-message-id");
    const channel = await createChannel(a, "bad-message-id");
    const m = await post(a, channel.id, "fine");
    // `/v1/channels/bad.id` is a 400; the message routes look an unvalidated id up first.
    expectError(await a.patch("/v1/messages/bad.id", { text: "x" }), 400, "bad_request");
    expectError(await a.del("/v1/messages/bad.id"), 400, "bad_request");
    expectError(await a.del(`/v1/messages/${"M".repeat(65)}`), 400, "bad_request");
    // A bad body is a 400 whether or not the message exists.
    expectError(await a.patch(`/v1/messages/${m.id}`, { text: 5 }), 400, "bad_request");
    expectError(await a.patch("/v1/messages/Mnosuchmessage", { text: 5 }), 400, "bad_request");
  });

  it("answers a missing or bad token with 401 unauthenticated on every route", async () => {
    const a = await login("auth-check");
    const channel = await createChannel(a, "auth-check");
    const message = await post(a, channel.id, "guarded");
    const routes: Array<[string, string, unknown]> = [
      ["POST", "/v1/channels", { name: "x", kind: "public" }],
      ["GET", "/v1/channels", undefined],
      ["GET", `/v1/channels/${channel.id}`, undefined],
      ["PATCH", `/v1/channels/${channel.id}`, { topic: "x" }],
      ["DELETE", `/v1/channels/${channel.id}`, undefined],
      ["GET", `/v1/channels/${channel.id}/members`, undefined],
      ["POST", `/v1/channels/${channel.id}/members`, undefined],
      ["DELETE", `/v1/channels/${channel.id}/members/${a.id}`, undefined],
      ["POST", `/v1/channels/${channel.id}/messages`, { text: "x" }],
      ["GET", `/v1/channels/${channel.id}/messages`, undefined],
      ["PATCH", `/v1/messages/${message.id}`, { text: "x" }],
      ["DELETE", `/v1/messages/${message.id}`, undefined],
      ["GET", "/v1/users/me", undefined],
    ];
    const [header, payload, signature] = a.token.split(".") as [string, string, string];
    const flipped = signature.startsWith("A") ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64({
      iss: "colink-dev",
      aud: "colink",
      sub: a.id,
      preferred_username: "auth-check",
      iat: now,
      exp: now + 3600,
    })}.`;
    const authorizations: Array<string | null> = [
      null,
      "",
      "Bearer",
      "Bearer ",
      "Bearer garbage",
      "Bearer a.b.c",
      `Basic ${Buffer.from("auth-check:pw").toString("base64")}`,
      a.token,
      `Bearer ${header}.${payload}.${flipped}`,
      `Bearer ${unsigned}`,
    ];
    for (const authorization of authorizations) {
      for (const [method, path, body] of routes) {
        const r = await call(fixture.server, method, path, {
          body,
          headers: authorization === null ? {} : { authorization },
        });
        expect(`${method} ${path} with ${authorization?.slice(0, 20)}: ${r.status}`).toBe(
          `${method} ${path} with ${authorization?.slice(0, 20)}: 401`,
        );
        expectError(r, 401, "unauthenticated");
      }
    }
    // The scheme is case-insensitive.
    const lower = await call(fixture.server, "GET", "/v1/users/me", {
      headers: { authorization: `bearer ${a.token}` },
    });
    expect(lower.status).toBe(200);
    // Nothing was changed by the refused requests.
    const history = await a.get<HistoryReply>(`/v1/channels/${channel.id}/messages`);
    expect(history.body.messages).toEqual([message]);
    expect((await a.get<ChannelReply>(`/v1/channels/${channel.id}`)).body.channel).toMatchObject({
      archived: false,
      topic: "",
      lastSeq: message.seq,
    });
  });

  it("answers text over COLINK_MAX_MESSAGE_CHARS (4000) with 413 too_large, counting characters", async () => {
    const a = await login("long-text");
    const channel = await createChannel(a, "long-text");
    const msgs = `/v1/channels/${channel.id}/messages`;
    expect((await a.post(msgs, { text: "x".repeat(4000) })).status).toBe(201);
    expectError(await a.post(msgs, { text: "x".repeat(4001) }), 413, "too_large");
    // Characters, not UTF-16 units: 4000 emoji are 8000 units.
    expect((await a.post(msgs, { text: "😀".repeat(4000) })).status).toBe(201);
    expectError(await a.post(msgs, { text: "😀".repeat(4001) }), 413, "too_large");
    const m = await post(a, channel.id, "short");
    expectError(await a.patch(`/v1/messages/${m.id}`, { text: "y".repeat(4001) }), 413, "too_large");
    const history = await a.get<HistoryReply>(msgs);
    expect(history.body.messages).toHaveLength(3);
    expect(history.body.messages.at(-1)!.text).toBe("short");
  });

  // ---- private channels -------------------------------------------------------------

  it("hides a private channel from outsiders: 404, exactly as if it did not exist", async () => {
    const owner = await login("hush-owner");
    const member = await login("hush-member");
    const outsider = await login("hush-outsider");
    const friend = await login("hush-friend");
    const channel = await createChannel(owner, "hush", "private");
    const invited = await owner.post(`/v1/channels/${channel.id}/members`, { userId: member.id });
    expect(invited.status).toBe(200);
    const secret = await post(owner, channel.id, "classified");
    const memberMsg = await post(member, channel.id, "member's");
    const missing = "Cnosuchchannel";

    // What an outsider can try, on the private channel and on one that does not exist.
    const attempts = (id: string): Array<() => Promise<Reply>> => [
      () => outsider.get(`/v1/channels/${id}`),
      () => outsider.patch(`/v1/channels/${id}`, { topic: "mine" }),
      () => outsider.del(`/v1/channels/${id}`),
      () => outsider.get(`/v1/channels/${id}/members`),
      () => outsider.post(`/v1/channels/${id}/members`),
      () => outsider.post(`/v1/channels/${id}/members`, { userId: friend.id }),
      () => outsider.del(`/v1/channels/${id}/members/${member.id}`),
      () => outsider.get(`/v1/channels/${id}/messages`),
      () => outsider.get(`/v1/channels/${id}/messages?limit=5&before=100`),
      () => outsider.post(`/v1/channels/${id}/messages`, { text: "let me in" }),
      () => outsider.post(`/v1/channels/${id}/messages`, { text: "let me in" }, { "Idempotency-Key": "k" }),
      () => outsider.patch(`/v1/messages/${secret.id}`, { text: "defaced", channelId: id }),
      () => outsider.del(`/v1/messages/${secret.id}?channelId=${id}`),
    ];
    const onPrivate = attempts(channel.id);
    const onMissing = attempts(missing);
    for (let i = 0; i < onPrivate.length; i++) {
      const hidden = await onPrivate[i]!();
      expectError(hidden, 404, "not_found");
      const absent = await onMissing[i]!();
      expectError(absent, 404, "not_found");
      expect(hidden.body).toEqual(absent.body);
    }
    // Messages of it, located by id alone.
    for (const m of [secret, memberMsg]) {
      expectError(await outsider.patch(`/v1/messages/${m.id}`, { text: "defaced" }), 404, "not_found");
      expectError(await outsider.del(`/v1/messages/${m.id}`), 404, "not_found");
    }
    // Naming a readable channel does not reach the private message either.
    const open = await createChannel(outsider, "hush-open");
    expectError(await outsider.del(`/v1/messages/${secret.id}?channelId=${open.id}`), 404, "not_found");
    expectError(
      await outsider.patch(`/v1/messages/${secret.id}`, { text: "x", channelId: open.id }),
      404,
      "not_found",
    );
    // Not listed either.
    const listed = await outsider.get<ListReply>("/v1/channels?includePublic=true");
    expect(listed.body.channels.map((c) => c.id)).not.toContain(channel.id);

    // Nothing changed; the members still read it.
    const history = await member.get<HistoryReply>(`/v1/channels/${channel.id}/messages`);
    expect(history.status).toBe(200);
    expect(history.body.messages).toEqual([secret, memberMsg]);
    const members = await member.get<MembersReply>(`/v1/channels/${channel.id}/members`);
    expect(members.body.members.map((m) => m.userId).sort()).toEqual([owner.id, member.id].sort());
    expect((await member.get<ChannelReply>(`/v1/channels/${channel.id}`)).body.channel).toMatchObject({
      name: "hush",
      topic: "",
      archived: false,
      memberCount: 2,
    });

    // A kicked member becomes an outsider.
    expect((await owner.del(`/v1/channels/${channel.id}/members/${member.id}`)).status).toBe(200);
    expectError(await member.get(`/v1/channels/${channel.id}/messages`), 404, "not_found");
    expectError(await member.get(`/v1/channels/${channel.id}`), 404, "not_found");
    expectError(await member.del(`/v1/messages/${memberMsg.id}`), 404, "not_found");
    expectError(await member.post(`/v1/channels/${channel.id}/members`), 404, "not_found");
  });

  it("answers every route that names only a message alike for one the caller cannot see and one that does not exist", async () => {
    const owner = await login("leak-owner");
    const friend = await login("leak-friend");
    const outsider = await login("leak-outsider");
    const hidden = await createChannel(owner, "leak-hidden", "private");
    const secret = await post(owner, hidden.id, "classified");
    const reply = await owner.post<MessageReply>(`/v1/channels/${hidden.id}/messages`, {
      text: "in the thread",
      threadRootId: secret.id,
    });
    expect(reply.status).toBe(201);
    const gone = await post(owner, hidden.id, "deleted later");
    expect((await owner.del(`/v1/messages/${gone.id}`)).status).toBe(200);
    const dm = await owner.post<ChannelReply>("/v1/dms", { userIds: [friend.id] });
    expect(dm.status).toBe(200);
    const whisper = await post(owner, dm.body.channel.id, "between us");
    const missing = "M00000000000000000000";

    // Each route that takes only a message (or thread root) id, as the security review tried them.
    const routes: Array<[string, (id: string) => Promise<Reply>]> = [
      ["GET versions", (id) => outsider.get(`/v1/messages/${id}/versions`)],
      ["PATCH message", (id) => outsider.patch(`/v1/messages/${id}`, { text: "defaced" })],
      ["DELETE message", (id) => outsider.del(`/v1/messages/${id}`)],
      ["PUT pin", (id) => call(fixture.server, "PUT", `/v1/messages/${id}/pin`, { token: outsider.token })],
      ["DELETE pin", (id) => outsider.del(`/v1/messages/${id}/pin`)],
      ["POST reaction", (id) => outsider.post(`/v1/messages/${id}/reactions`, { emoji: "thumbsup" })],
      ["DELETE reaction", (id) => outsider.del(`/v1/messages/${id}/reactions/thumbsup`)],
      ["GET thread", (id) => outsider.get(`/v1/threads/${id}`)],
      [
        "PUT follow",
        (id) => call(fixture.server, "PUT", `/v1/threads/${id}/follow`, { token: outsider.token }),
      ],
      ["DELETE follow", (id) => outsider.del(`/v1/threads/${id}/follow`)],
    ];
    const invisible = { secret: secret.id, reply: reply.body.message.id, deleted: gone.id, dm: whisper.id };
    for (const [route, request] of routes) {
      const absent = await request(missing);
      expectError(absent, 404, "not_found");
      const thread = route.includes("thread") || route.includes("follow");
      expect(absent.body, route).toEqual({
        error: {
          code: "not_found",
          message: thread ? "thread not found" : "message not found",
          retryable: false,
        },
      });
      for (const [what, id] of Object.entries(invisible)) {
        const got = await request(id);
        expect({ status: got.status, body: got.body }, `${route} of the ${what} message`).toEqual({
          status: absent.status,
          body: absent.body,
        });
      }
    }

    // Nothing was changed; the owner still sees it all as it was.
    const versions = await owner.get(`/v1/messages/${secret.id}/versions`);
    expect(versions.status).toBe(200);
    const thread = await owner.get<{ root: Message; messages: Message[] }>(`/v1/threads/${secret.id}`);
    expect(thread.status).toBe(200);
    expect(thread.body.root).toMatchObject({ text: "classified", reactions: [], pinnedAt: null });
    expect(thread.body.messages.map((m) => m.text)).toEqual(["in the thread"]);
  });

  it("answers an outsider's leave of a private channel as if the channel did not exist", async () => {
    const owner = await login("oracle-owner");
    const outsider = await login("oracle-outsider");
    const channel = await createChannel(owner, "oracle", "private");
    const seq = await lastSeqOf(owner, channel.id);
    const hidden = await outsider.del(`/v1/channels/${channel.id}/members/${outsider.id}`);
    const absent = await outsider.del(`/v1/channels/Cnosuchchannel/members/${outsider.id}`);
    expectError(absent, 404, "not_found");
    // Otherwise the answer tells an outsider which private channel ids exist.
    expect({ status: hidden.status, body: hidden.body }).toEqual({
      status: absent.status,
      body: absent.body,
    });
    expect(await lastSeqOf(owner, channel.id)).toBe(seq);
  });

  it("creates a user seen only over HTTP, so others can invite them", async () => {
    // A token for a user the server has never seen, as an OIDC issuer would mint it.
    const jwk = await devIssuerKey(fixture.server);
    const key = await importJWK(jwk, "EdDSA");
    const token = await new SignJWT({ preferred_username: "http-only", name: "HTTP Only" })
      .setProtectedHeader({ alg: "EdDSA", kid: jwk.kid })
      .setSubject("Uhttponlyuser")
      .setIssuer("colink-dev")
      .setAudience("colink")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(key);
    const first = await call(fixture.server, "GET", "/v1/channels", { token });
    expect(first.status).toBe(200);
    const owner = await login("http-inviter");
    const ch = await createChannel(owner, "http-only-invite", "private");
    const r = await owner.post(`/v1/channels/${ch.id}/members`, { userId: "Uhttponlyuser" });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  it("refuses a token whose sub a user id cannot be (a NUL gave 500) with 401, over HTTP and WebSocket", async () => {
    const jwk = await devIssuerKey(fixture.server);
    const key = await importJWK(jwk, "EdDSA");
    const tokenFor = (sub: string) =>
      new SignJWT({ preferred_username: "oddsub" })
        .setProtectedHeader({ alg: "EdDSA", kid: jwk.kid })
        .setSubject(sub)
        .setIssuer("colink-dev")
        .setAudience("colink")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(key);
    // A NUL, and the `,` that DM ids are derived with: "a" + "b,c" must not be "a,b" + "c".
    for (const sub of ["Unul\u0000user", "Ucomma,user"]) {
      const token = await tokenFor(sub);
      const me = await call(fixture.server, "GET", "/v1/users/me", { token });
      expectError(me, 401, "unauthenticated");
      expect((me.body as { error: Json }).error.message).toBe(
        "token subject has characters a user id cannot have",
      );
      const dm = await call(fixture.server, "POST", "/v1/dms", { token, body: { userIds: ["Ua"] } });
      expectError(dm, 401, "unauthenticated");
      const ws = await RawSocket.open(fixture.server.wsUrl, { token });
      expect((await ws.closed()).code).toBe(4001);
    }
    expect(fixture.server.output()).not.toMatch(/internal error/);
    // A subject of the alphabet is fine.
    const fine = await call(fixture.server, "GET", "/v1/users/me", {
      token: await tokenFor("auth0|odd.sub@x"),
    });
    expect(fine.status, JSON.stringify(fine.body)).toBe(200);
  });

  it("keeps usernames unique regardless of case: P1ALICE after p1alice is P1ALICE-2, and @p1alice is one person", async () => {
    const jwk = await devIssuerKey(fixture.server);
    const key = await importJWK(jwk, "EdDSA");
    const tokenFor = (sub: string, username: string) =>
      new SignJWT({ preferred_username: username })
        .setProtectedHeader({ alg: "EdDSA", kid: jwk.kid })
        .setSubject(sub)
        .setIssuer("colink-dev")
        .setAudience("colink")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(key);
    const lower = await tokenFor("Ucase-lower", "p1alice");
    const upper = await tokenFor("Ucase-upper", "P1ALICE");
    const me = async (token: string) =>
      (await call<{ user: User }>(fixture.server, "GET", "/v1/users/me", { token })).body.user.username;
    expect(await me(lower)).toBe("p1alice");
    expect(await me(upper)).toBe("P1ALICE-2");
    // Signing in again keeps it.
    expect(await me(await tokenFor("Ucase-upper", "P1ALICE"))).toBe("P1ALICE-2");
    // Search and mentions, which ignore case, find one person by the name.
    const found = await call<{ users: User[] }>(fixture.server, "GET", "/v1/search/users?q=P1ALICE", {
      token: lower,
    });
    expect(found.body.users.map((u) => [u.id, u.username])).toEqual([
      ["Ucase-lower", "p1alice"],
      ["Ucase-upper", "P1ALICE-2"],
    ]);
    const channel = await call<ChannelReply>(fixture.server, "POST", "/v1/channels", {
      token: lower,
      body: { name: "case-check", kind: "public" },
    });
    await call(fixture.server, "POST", `/v1/channels/${channel.body.channel.id}/members`, { token: upper });
    const sent = await call<MessageReply>(
      fixture.server,
      "POST",
      `/v1/channels/${channel.body.channel.id}/messages`,
      {
        token: upper,
        body: { text: "hi @P1ALICE and @p1alice-2" },
      },
    );
    expect(sent.status).toBe(201);
    expect([...sent.body.message.mentions].sort()).toEqual(["Ucase-lower", "Ucase-upper"]);
  });

  it("keeps an archived channel read-only: no edits or deletes of its messages", async () => {
    const owner = await login("ro-owner");
    const channel = await createChannel(owner, "read-only");
    const m = await post(owner, channel.id, "frozen");
    expect((await owner.del(`/v1/channels/${channel.id}`)).status).toBe(200);
    const seq = await lastSeqOf(owner, channel.id);

    expectError(await owner.patch(`/v1/messages/${m.id}`, { text: "thawed" }), 403, "forbidden");
    expectError(await owner.del(`/v1/messages/${m.id}`), 403, "forbidden");
    expect(await lastSeqOf(owner, channel.id)).toBe(seq);
    const history = await owner.get<HistoryReply>(`/v1/channels/${channel.id}/messages`);
    expect(history.body.messages).toEqual([m]);
  });
});

describe.each(storeKinds)("HTTP body limit (COLINK_MAX_PAYLOAD_BYTES=4096) on %s", (store: StoreKind) => {
  const limit = 4096;
  const fixture = serverForBlock(store, {
    COLINK_MAX_PAYLOAD_BYTES: String(limit),
    COLINK_MAX_MESSAGE_CHARS: "100000",
  });

  it("accepts a body of exactly the limit and refuses one byte more with 413 too_large", async () => {
    const { token } = await devToken(fixture.server, "big-body");
    const created = await call<ChannelReply>(fixture.server, "POST", "/v1/channels", {
      token,
      body: { name: "big", kind: "public" },
    });
    expect(created.status).toBe(201);
    const path = `/v1/channels/${created.body.channel.id}/messages`;
    const bodyOf = (text: string) => JSON.stringify({ text });
    const exact = bodyOf("x".repeat(limit - bodyOf("").length));
    expect(Buffer.byteLength(exact)).toBe(limit);

    const ok = await call<MessageReply>(fixture.server, "POST", path, { token, raw: exact });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const over = `${exact.slice(0, -2)}x"}`;
    expect(Buffer.byteLength(over)).toBe(limit + 1);
    expectError(await call(fixture.server, "POST", path, { token, raw: over }), 413, "too_large");
    // Bytes, not characters: 2100 two-byte characters are over 4096 bytes.
    expectError(
      await call(fixture.server, "POST", path, { token, body: { text: "é".repeat(2100) } }),
      413,
      "too_large",
    );
    // Much larger bodies, on other routes too.
    const huge = bodyOf("z".repeat(1024 * 1024));
    expectError(await call(fixture.server, "POST", path, { token, raw: huge }), 413, "too_large");
    expectError(
      await call(fixture.server, "PATCH", `/v1/messages/${ok.body.message.id}`, { token, raw: huge }),
      413,
      "too_large",
    );
    expectError(
      await call(fixture.server, "POST", "/v1/channels", {
        token,
        body: { name: "big2", kind: "public", topic: "t".repeat(limit) },
      }),
      413,
      "too_large",
    );
    expectError(
      await call(fixture.server, "POST", "/auth/dev/token", {
        raw: JSON.stringify({ username: "u".repeat(limit) }),
      }),
      413,
      "too_large",
    );
    // No token and too large: still a coded answer, not a hang.
    const anonymous = await call(fixture.server, "POST", path, { raw: huge, headers: jsonHeaders });
    expect([401, 413]).toContain(anonymous.status);

    // Still serving, and only the accepted message was stored.
    expect((await call(fixture.server, "GET", "/health")).status).toBe(200);
    const history = await call<HistoryReply>(fixture.server, "GET", path, { token });
    expect(history.body.messages.map((m) => m.id)).toEqual([ok.body.message.id]);
  });

  it("drains a refused body of declared size, so the client reads its 413 and the connection serves on", async () => {
    const { port } = new URL(fixture.server.baseUrl);
    const body = Buffer.alloc(1024 * 1024, "x");
    const head = `POST /v1/channels HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const answers = await exchangeOnOneSocket(Number(port), [
      Buffer.from(head),
      body,
      Buffer.from("GET /health HTTP/1.1\r\nhost: t\r\n\r\n"),
    ]);
    expect(answers.text).toMatch(/^HTTP\/1\.1 413 [\s\S]*"too_large"[\s\S]*HTTP\/1\.1 200 /);
    expect(answers.error).toBeUndefined();
  });
});

/** Writes `parts` in order on one connection; what came back (two answers, or until an error), and the error. */
async function exchangeOnOneSocket(port: number, parts: Buffer[]): Promise<{ text: string; error?: string }> {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  let error: string | undefined;
  socket.on("data", (d: Buffer) => {
    text += d.toString("latin1");
  });
  socket.on("error", (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  await once(socket, "connect");
  for (const part of parts) await new Promise<void>((done) => socket.write(part, () => done()));
  await until(() => (text.match(/HTTP\/1\.1 /g) ?? []).length >= 2 || error !== undefined, 5000);
  socket.destroy();
  return error === undefined ? { text } : { text, error };
}

/** The dev issuer's private key: in the data dir (PGlite) or in the database (Postgres). */
async function devIssuerKey(server: TestServer): Promise<JWK> {
  if (server.schema === null) {
    return JSON.parse(readFileSync(join(server.dataDir, "dev-issuer-key.json"), "utf8")) as JWK;
  }
  const sql = postgres(testDatabaseUrl, { onnotice: () => {} });
  try {
    const rows = await sql.unsafe(
      `SELECT private_jwk AS jwk FROM ${server.schema}.dev_issuer_keys WHERE id = 'dev'`,
    );
    return rows[0]!.jwk as JWK;
  } finally {
    await sql.end();
  }
}
