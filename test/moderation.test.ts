/**
 * Moderation end to end (issue 23), on both stores, over the WebSocket and HTTP: a member
 * flags a message, a site moderator who is not in the channel lists the flags (with the
 * message's text) and resolves one by removing the message, which members see deleted
 * live (`message.deleted` with `removedBy` and `reason`) and in history; removals in
 * private channels and DMs the moderator is not in; who may not (403); bad input.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameKind } from "../core/protocol.js";
import type { Flag, Message } from "../core/types.js";
import { startServer, storeKinds, type TestServer, testDatabaseUrl } from "./harness.js";
import { RawSocket, type Reply } from "./raw-socket.js";
import { type Person, Worlds } from "./support/authorization-worlds.js";
import { allLimitsOff } from "./support/limits.js";

type Json = Record<string, unknown>;

/** The result of an ok reply; throws with the error otherwise. */
function ok(reply: Reply): Json {
  if (reply[0] !== FrameKind.ok) throw new Error(`expected ok, got ${JSON.stringify(reply[2])}`);
  return reply[2];
}

/** The error code of an error reply (or "ok"). */
function codeOf(reply: Reply): string {
  return reply[0] === FrameKind.error ? (reply[2].code as string) : "ok";
}

describe.each(storeKinds)("moderation (%s)", (store) => {
  let server: TestServer;
  let worlds: Worlds;
  let mod: Person;
  let admin: Person;
  let member: Person;
  let guest: Person;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    server = await startServer(store, { ...allLimitsOff });
    worlds = new Worlds(server);
    mod = await worlds.person("moderator", "mod");
    admin = await worlds.person("admin", "adm");
    member = await worlds.person("member", "mem");
    guest = await worlds.person("guest", "gst");
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await server?.cleanup();
  });

  async function socketOf(who: Person): Promise<RawSocket> {
    const s = await RawSocket.open(server.wsUrl, { token: who.token });
    sockets.push(s);
    return s;
  }

  /** A channel of `kind` made by a fresh owner, with `people` in it. */
  async function channel(
    kind: "public" | "private",
    people: Person[],
  ): Promise<{ id: string; owner: Person }> {
    const owner = await worlds.person("member", "owner");
    const made = await worlds.must(owner, "POST", "/v1/channels", { name: `mod-${Date.now()}`, kind });
    const id = (made.channel as { id: string }).id;
    for (const p of people) await worlds.invite(owner, id, p);
    return { id, owner };
  }

  /** The `message.deleted` event of `messageId` that `s` heard. */
  function deletedEvent(s: RawSocket, messageId: string): Promise<Json> {
    return s.waitFor(
      () => {
        const f = s.frames.find(
          (x) => x[0] === FrameKind.event && x[2] === "message.deleted" && x[3].messageId === messageId,
        );
        return f ? (f[3] as Json) : undefined;
      },
      10_000,
      `message.deleted of ${messageId}`,
    );
  }

  it("a member flags, a moderator lists and resolves it removed: members see it deleted live and in history", async () => {
    const { id: channelId, owner } = await channel("public", [member]);
    const messageId = await worlds.send(owner, channelId, "buy cheap watches");
    const listener = await socketOf(member);
    ok(await listener.call("sub", { channelId }));

    // The member flags over the WebSocket without naming the channel; flagging again answers the same flag.
    const flagged = ok(await listener.call("msg.flag", { messageId, reason: "spam" })).flag as Flag;
    expect(flagged).toMatchObject({
      messageId,
      channelId,
      reporterId: member.id,
      reason: "spam",
      status: "open",
    });
    expect(flagged.message).toBeUndefined();
    const again = ok(await listener.call("msg.flag", { messageId, reason: "still spam" })).flag as Flag;
    expect(again.id).toBe(flagged.id);
    // The owner flags it too, over HTTP.
    const byOwner = await worlds.http(owner, "POST", `/v1/messages/${messageId}/flag`, {
      reason: "off topic",
    });
    expect(byOwner.status).toBe(201);
    const ownerFlag = byOwner.body.flag as Flag;
    expect(ownerFlag.id).not.toBe(flagged.id);

    // The moderator (not a member) sees both, newest first, with the message's text.
    const queue = await worlds.must(mod, "GET", "/v1/admin/flags?status=open&limit=100");
    const mine = (queue.flags as Flag[]).filter((f) => f.messageId === messageId);
    expect(mine.map((f) => f.id)).toEqual([ownerFlag.id, flagged.id]);
    expect(mine[0]!.message).toMatchObject({ id: messageId, text: "buy cheap watches", deletedAt: null });
    // Paging: one at a time.
    const first = await worlds.must(mod, "GET", "/v1/admin/flags?status=open&limit=1");
    expect(first.nextCursor).toBe((first.flags as Flag[])[0]!.id);

    const resolved = await worlds.http(mod, "POST", `/v1/admin/flags/${flagged.id}/resolve`, {
      resolution: "removed",
    });
    expect(resolved.status).toBe(200);
    const flag = resolved.body.flag as Flag;
    expect(flag).toMatchObject({
      id: flagged.id,
      status: "resolved",
      resolution: "removed",
      resolvedBy: mod.id,
      message: { id: messageId, text: "buy cheap watches" },
    });
    expect(flag.message!.deletedAt).not.toBeNull();

    // Members hear the removal live, with who removed it and why (the flag's reason).
    const event = await deletedEvent(listener, messageId);
    expect(event).toMatchObject({ messageId, removedBy: mod.id, by: mod.id, reason: "spam" });
    // History shows it deleted, its text gone.
    const history = await worlds.must(owner, "GET", `/v1/channels/${channelId}/messages`);
    const inHistory = (history.messages as Message[]).find((m) => m.id === messageId)!;
    expect(inHistory.text).toBe("");
    expect(inHistory.deletedAt).not.toBeNull();
    // The moderator did not join.
    const members = await worlds.must(owner, "GET", `/v1/channels/${channelId}/members`);
    expect((members.members as Array<{ userId: string }>).map((m) => m.userId)).not.toContain(mod.id);

    // Resolving twice is a conflict. The owner's flag went with the message: resolved
    // `removed` by the same moderator with the reason as its note, out of the open queue.
    const twice = await worlds.http(mod, "POST", `/v1/admin/flags/${flagged.id}/resolve`, {
      resolution: "dismissed",
    });
    expect(twice.status).toBe(409);
    expect((twice.body.error as Json).code).toBe("conflict");
    const modSocket = await socketOf(mod);
    const openIds = async () =>
      (ok(await modSocket.call("flags.list", { status: "open", limit: 100 })).flags as Flag[]).map(
        (f) => f.id,
      );
    expect(await openIds()).not.toContain(ownerFlag.id);
    const resolvedList = ok(await modSocket.call("flags.list", { status: "resolved", limit: 100 }))
      .flags as Flag[];
    const withIt = resolvedList.find((f) => f.id === ownerFlag.id)!;
    expect(withIt).toMatchObject({
      status: "resolved",
      resolution: "removed",
      resolvedBy: mod.id,
      note: "spam",
      message: { id: messageId, text: "buy cheap watches" },
    });
    expect(withIt.message!.deletedAt).not.toBeNull();
    expect(resolvedList.map((f) => f.id)).toContain(flagged.id);
    expect(
      codeOf(await modSocket.call("flag.resolve", { flagId: ownerFlag.id, resolution: "removed" })),
    ).toBe("conflict");
    // The removal's audit entry names the flags it resolved besides its own.
    const audit = await worlds.must(admin, "GET", `/v1/admin/audit?action=msg.remove&target=${messageId}`);
    expect((audit.entries as Json[])[0]!.details).toMatchObject({
      flagId: flagged.id,
      alsoResolved: [ownerFlag.id],
    });

    // Dismissing leaves the message, and its other flags, as they are.
    const kept = await worlds.send(owner, channelId, "fine words");
    const byMember = ok(await listener.call("msg.flag", { messageId: kept, reason: "meh" })).flag as Flag;
    const byOwnerToo = (await worlds.must(owner, "POST", `/v1/messages/${kept}/flag`, { reason: "hmm" }))
      .flag as Flag;
    const dismissed = ok(
      await modSocket.call("flag.resolve", { flagId: byMember.id, resolution: "dismissed", note: "done" }),
    ).flag as Flag;
    expect(dismissed).toMatchObject({ status: "resolved", resolution: "dismissed", note: "done" });
    expect(dismissed.message).toMatchObject({ id: kept, text: "fine words", deletedAt: null });
    expect(await openIds()).toContain(byOwnerToo.id);
  });

  it("a moderator removes messages in a private channel and a DM they are not in; nothing else opens to them", async () => {
    const { id: channelId, owner } = await channel("private", [member]);
    const messageId = await worlds.send(owner, channelId, "private words");
    const listener = await socketOf(member);
    ok(await listener.call("sub", { channelId }));
    const modSocket = await socketOf(mod);
    const removed = ok(await modSocket.call("msg.remove", { messageId, reason: "harassment" }))
      .message as Message;
    expect(removed).toMatchObject({ id: messageId, text: "" });
    expect(removed.deletedAt).not.toBeNull();
    expect(await deletedEvent(listener, messageId)).toMatchObject({
      removedBy: mod.id,
      reason: "harassment",
    });
    // Still outside: no history, no members, no subscription.
    expect(codeOf(await modSocket.call("msg.history", { channelId }))).toBe("not_found");
    expect(codeOf(await modSocket.call("sub", { channelId }))).toBe("not_found");
    const members = await worlds.must(owner, "GET", `/v1/channels/${channelId}/members`);
    expect((members.members as Array<{ userId: string }>).map((m) => m.userId)).not.toContain(mod.id);
    // Removing it again is a conflict.
    expect(codeOf(await modSocket.call("msg.remove", { messageId, reason: "again" }))).toBe("conflict");

    // A DM, over HTTP, by an admin.
    const opened = await worlds.must(owner, "POST", "/v1/dms", { userIds: [member.id] });
    const dmId = (opened.channel as { id: string }).id;
    const dmMessage = await worlds.send(member, dmId, "dm words");
    const res = await worlds.http(admin, "POST", `/v1/admin/messages/${dmMessage}/remove`, {
      reason: "abuse",
    });
    expect(res.status).toBe(200);
    expect((res.body.message as Message).deletedAt).not.toBeNull();
    const dmHistory = await worlds.must(owner, "GET", `/v1/channels/${dmId}/messages`);
    expect((dmHistory.messages as Message[]).find((m) => m.id === dmMessage)?.text).toBe("");
    expect((await worlds.http(admin, "GET", `/v1/channels/${dmId}/messages`)).status).toBe(404);
  });

  it("members and guests cannot list, resolve or remove (403); who cannot read a message cannot flag it", async () => {
    const { id: channelId, owner } = await channel("private", [member, guest]);
    const messageId = await worlds.send(owner, channelId, "to report");
    const flag = (await worlds.must(guest, "POST", `/v1/messages/${messageId}/flag`, { reason: "rude" }))
      .flag as Flag;
    expect(flag.reporterId).toBe(guest.id);
    for (const who of [member, guest, owner]) {
      expect((await worlds.http(who, "GET", "/v1/admin/flags")).status).toBe(403);
      const resolve = await worlds.http(who, "POST", `/v1/admin/flags/${flag.id}/resolve`, {
        resolution: "removed",
      });
      expect(resolve.status).toBe(403);
      const remove = await worlds.http(who, "POST", `/v1/admin/messages/${messageId}/remove`, {
        reason: "x",
      });
      expect(remove.status).toBe(403);
      const s = await socketOf(who);
      expect(codeOf(await s.call("flags.list", {}))).toBe("forbidden");
      expect(codeOf(await s.call("msg.remove", { messageId, reason: "x" }))).toBe("forbidden");
      expect(codeOf(await s.call("flag.resolve", { flagId: flag.id, resolution: "dismissed" }))).toBe(
        "forbidden",
      );
    }
    // Untouched: still there, the flag still open.
    const history = await worlds.must(owner, "GET", `/v1/channels/${channelId}/messages`);
    expect((history.messages as Message[]).find((m) => m.id === messageId)?.text).toBe("to report");
    // Someone outside a private channel cannot flag its message: as if it did not exist.
    const outsider = await worlds.person("member", "out");
    const res = await worlds.http(outsider, "POST", `/v1/messages/${messageId}/flag`, { reason: "x" });
    expect(res.status).toBe(404);
    expect((res.body.error as Json).message).toBe("message not found");
    const s = await socketOf(outsider);
    const reply = await s.call("msg.flag", { messageId, reason: "x" });
    expect(reply[2]).toMatchObject({ code: "not_found", message: "message not found" });
  });

  // The audit log's own ops are another branch's; on Postgres the rows are read directly.
  it.runIf(store === "postgres")(
    "audits a removal (with the original text) and a resolution, chained, in the change's commit",
    async () => {
      const { id: channelId, owner } = await channel("public", [member]);
      const removedId = await worlds.send(owner, channelId, "the original words");
      await worlds.must(mod, "POST", `/v1/admin/messages/${removedId}/remove`, { reason: "rude" });
      const flaggedId = await worlds.send(owner, channelId, "flag this");
      const flag = (await worlds.must(member, "POST", `/v1/messages/${flaggedId}/flag`, { reason: "spam" }))
        .flag as Flag;
      await worlds.must(admin, "POST", `/v1/admin/flags/${flag.id}/resolve`, {
        resolution: "removed",
        note: "advertising",
      });
      const sql = postgres(testDatabaseUrl, { onnotice: () => {} });
      try {
        const rows = await sql.unsafe(
          `SELECT id::text, actor_id, action, target, details, prev_hash, hash FROM ${server.schema}.audit_log
           WHERE target IN ($1, $2, $3) ORDER BY id`,
          [removedId, flaggedId, flag.id],
        );
        expect(rows.map((r) => [r.action, r.target, r.actor_id])).toEqual([
          ["msg.remove", removedId, mod.id],
          ["msg.remove", flaggedId, admin.id],
          ["flag.resolve", flag.id, admin.id],
        ]);
        expect(rows[0]!.details).toMatchObject({
          channelId,
          authorId: owner.id,
          reason: "rude",
          original: { text: "the original words" },
        });
        expect(rows[1]!.details).toMatchObject({ reason: "advertising", flagId: flag.id });
        expect(rows[2]!.details).toMatchObject({
          messageId: flaggedId,
          reporterId: member.id,
          resolution: "removed",
          note: "advertising",
        });
        for (const r of rows) expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
        // Who asked from where: the client's address and the request's id reach the channel actor.
        const origins = await sql.unsafe(
          `SELECT ip, request_id FROM ${server.schema}.audit_log WHERE target IN ($1, $2, $3)`,
          [removedId, flaggedId, flag.id],
        );
        for (const o of origins) {
          expect(o.ip).not.toBe("");
          expect(o.request_id).not.toBe("");
        }
        // The removal and its resolution were one commit: their entries are adjacent in the chain.
        expect(rows[2]!.prev_hash).toBe(rows[1]!.hash);
      } finally {
        await sql.end();
      }
    },
  );

  it("refuses bad input with coded errors", async () => {
    const { id: channelId, owner } = await channel("public", [member]);
    const { id: otherChannel } = await channel("public", []);
    const messageId = await worlds.send(owner, channelId, "hello");
    const flag = (await worlds.must(member, "POST", `/v1/messages/${messageId}/flag`, { reason: "meh" }))
      .flag as Flag;
    const s = await socketOf(mod);
    const code = async (op: string, args: Json) => codeOf(await s.call(op, args));
    expect(await code("msg.remove", { messageId })).toBe("bad_request");
    expect(await code("msg.remove", { messageId, reason: "" })).toBe("bad_request");
    expect(await code("msg.remove", { messageId, reason: "   " })).toBe("bad_request");
    expect(await code("msg.remove", { messageId, reason: "x".repeat(501) })).toBe("bad_request");
    expect(await code("msg.remove", { messageId, reason: "ok", extra: 1 })).toBe("bad_request");
    expect(await code("msg.remove", { messageId: "M00000000000000000000", reason: "ok" })).toBe("not_found");
    // Another channel's id with this message: not there.
    expect(await code("msg.remove", { messageId, channelId: otherChannel, reason: "ok" })).toBe("not_found");
    expect(await code("msg.flag", { messageId, channelId: otherChannel, reason: "ok" })).toBe("not_found");
    expect(await code("msg.flag", { messageId })).toBe("bad_request");
    expect(await code("flag.resolve", { flagId: flag.id })).toBe("bad_request");
    expect(await code("flag.resolve", { flagId: flag.id, resolution: "deleted" })).toBe("bad_request");
    expect(await code("flag.resolve", { flagId: "nope", resolution: "dismissed" })).toBe("bad_request");
    expect(
      await code("flag.resolve", { flagId: flag.id, resolution: "dismissed", note: "n".repeat(501) }),
    ).toBe("bad_request");
    // A flag id naming another channel, or no flag at all.
    const elsewhere = flag.id.replace(channelId, otherChannel);
    expect(await code("flag.resolve", { flagId: elsewhere, resolution: "dismissed" })).toBe("not_found");
    const unknown = `G${"0".repeat(20)}_${channelId}`;
    expect(await code("flag.resolve", { flagId: unknown, resolution: "dismissed" })).toBe("not_found");
    const noChannel = `G${"0".repeat(20)}_Cnochannel`;
    expect(await code("flag.resolve", { flagId: noChannel, resolution: "dismissed" })).toBe("not_found");
    expect(await code("flags.list", { status: "closed" })).toBe("bad_request");
    expect(await code("flags.list", { limit: 0 })).toBe("bad_request");
    expect(await code("flags.list", { cursor: "x" })).toBe("bad_request");
    // Over HTTP: the same codes as statuses.
    expect((await worlds.http(mod, "POST", `/v1/admin/messages/${messageId}/remove`, {})).status).toBe(400);
    expect((await worlds.http(mod, "GET", "/v1/admin/flags?status=closed")).status).toBe(400);
    expect(
      (await worlds.http(mod, "POST", `/v1/admin/messages/M00000000000000000000/remove`, { reason: "x" }))
        .status,
    ).toBe(404);
    // The flag is still open after all that.
    const open = ok(await s.call("flags.list", { status: "open", limit: 100 })).flags as Flag[];
    expect(open.map((f) => f.id)).toContain(flag.id);
  });
});
