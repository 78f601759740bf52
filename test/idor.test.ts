/**
 * IDOR: every op and HTTP route that takes an id, tried by an outsider with the id of
 * something they cannot see, against the same request with an id that names nothing.
 * Both answers must be the same (status, code, message, details), so that no id tells
 * whether what it names exists, and each must be the kind's one documented answer
 * (docs/protocol.md, "Ids of what you cannot see"). No error may carry anything of the
 * hidden thing (its name, text, file name, owner, or the channel a message is in).
 *
 * The table below is the whole suite: one row per (op or route, kind of id).
 */
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../core/errors.js";
import { FrameKind } from "../core/protocol.js";
import { devToken, type TestServer } from "./harness.js";
import { RawSocket } from "./raw-socket.js";
import { allLimitsOff } from "./support/limits.js";
import { serverForBlock } from "./support/server-fixture.js";

/** The kinds of id tried, each with its one answer when the caller cannot see it. */
type Kind = "private channel" | "dm" | "message" | "thread root" | "file" | "scheduled message" | "setting";

/** The ids a request is built from: either the hidden things' or ids that name nothing. */
interface Ids {
  channel: string;
  dm: string;
  /** A message of the private channel. */
  message: string;
  /** A message of the DM. */
  dmMessage: string;
  /** A thread root of the private channel. */
  root: string;
  /** A file shared in the private channel. */
  file: string;
  /** The owner's avatar, uploaded but not linked. */
  avatar: string;
  /** A scheduled message of the owner's in the private channel. */
  schedule: string;
}

/** What the outsider has of their own: a public channel they own (to reference hidden ids from). */
interface Own {
  channel: string;
  userId: string;
  ownerId: string;
}

type WsCall = [op: string, args: Record<string, unknown>];
type HttpCall = [method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown];

/** One row: a request over the WebSocket or HTTP, the kind of id it takes, and the answer. */
interface Row {
  kind: Kind;
  /** `not_found` for everything hidden; `ok` where the request reveals nothing either way. */
  answer: ErrorCode | "ok";
  ws?: (ids: Ids, own: Own) => WsCall;
  http?: (ids: Ids, own: Own) => HttpCall;
}

const enc = encodeURIComponent;
const later = () => Date.now() + 3_600_000;

/** Channel ops and routes, for a channel id (`c`) and a message of it (`m`). */
function channelRows(kind: "private channel" | "dm", pick: (ids: Ids) => { c: string; m: string }): Row[] {
  const w = (f: (c: string, m: string, own: Own) => WsCall) => (ids: Ids, own: Own) => {
    const { c, m } = pick(ids);
    return f(c, m, own);
  };
  const h = (f: (c: string, m: string, own: Own) => HttpCall) => (ids: Ids, own: Own) => {
    const { c, m } = pick(ids);
    return f(c, m, own);
  };
  const nf = "not_found" as const;
  return [
    {
      kind,
      answer: nf,
      ws: w((c) => ["ch.get", { channelId: c }]),
      http: h((c) => ["GET", `/v1/channels/${c}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["ch.update", { channelId: c, topic: "mine" }]),
      http: h((c) => ["PATCH", `/v1/channels/${c}`, { topic: "mine" }]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["ch.archive", { channelId: c }]),
      http: h((c) => ["DELETE", `/v1/channels/${c}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["ch.join", { channelId: c }]),
      http: h((c) => ["POST", `/v1/channels/${c}/members`, {}]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, _m, own) => ["ch.invite", { channelId: c, userId: own.userId }]),
      http: h((c, _m, own) => ["POST", `/v1/channels/${c}/members`, { userId: own.ownerId }]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["ch.leave", { channelId: c }]),
      http: h((c, _m, own) => ["DELETE", `/v1/channels/${c}/members/${enc(own.userId)}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, _m, own) => ["ch.kick", { channelId: c, userId: own.ownerId }]),
      http: h((c, _m, own) => ["DELETE", `/v1/channels/${c}/members/${enc(own.ownerId)}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["ch.members", { channelId: c }]),
      http: h((c) => ["GET", `/v1/channels/${c}/members`]),
    },
    { kind, answer: nf, ws: w((c) => ["sub", { channelId: c, sinceSeq: 0 }]) },
    {
      kind,
      answer: nf,
      ws: w((c) => ["msg.send", { channelId: c, text: "let me in", clientMsgId: "idor-send" }]),
      http: h((c) => ["POST", `/v1/channels/${c}/messages`, { text: "let me in" }]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["msg.history", { channelId: c }]),
      http: h((c) => ["GET", `/v1/channels/${c}/messages?limit=5`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["msg.edit", { channelId: c, messageId: m, text: "defaced" }]),
      http: h((c, m) => ["PATCH", `/v1/messages/${m}`, { channelId: c, text: "defaced" }]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["msg.delete", { channelId: c, messageId: m }]),
      http: h((c, m) => ["DELETE", `/v1/messages/${m}?channelId=${c}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["msg.versions", { channelId: c, messageId: m }]),
      http: h((c, m) => ["GET", `/v1/messages/${m}/versions?channelId=${c}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["thread.history", { channelId: c, rootId: m }]),
      http: h((c, m) => ["GET", `/v1/threads/${m}?channelId=${c}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["thread.follow", { channelId: c, rootId: m }]),
      http: h((c, m) => ["PUT", `/v1/threads/${m}/follow?channelId=${c}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["thread.unfollow", { channelId: c, rootId: m }]),
      http: h((c, m) => ["DELETE", `/v1/threads/${m}/follow?channelId=${c}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["react.add", { channelId: c, messageId: m, emoji: "+1" }]),
      http: h((c, m) => ["POST", `/v1/messages/${m}/reactions`, { channelId: c, emoji: "+1" }]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["react.remove", { channelId: c, messageId: m, emoji: "+1" }]),
      http: h((c, m) => ["DELETE", `/v1/messages/${m}/reactions/%2B1?channelId=${c}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["pin.add", { channelId: c, messageId: m }]),
      http: h((c, m) => ["PUT", `/v1/messages/${m}/pin?channelId=${c}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["pin.remove", { channelId: c, messageId: m }]),
      http: h((c, m) => ["DELETE", `/v1/messages/${m}/pin?channelId=${c}`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["pin.list", { channelId: c }]),
      http: h((c) => ["GET", `/v1/channels/${c}/pins`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => [
        "msg.schedule",
        { channelId: c, text: "later", clientMsgId: "idor-sched", sendAt: later() },
      ]),
      http: h((c) => ["POST", `/v1/channels/${c}/scheduled`, { text: "later", sendAt: later() }]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["msg.scheduled.list", { channelId: c }]),
      http: h((c) => ["GET", `/v1/channels/${c}/scheduled`]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["typing", { channelId: c }]),
      http: h((c) => ["POST", `/v1/channels/${c}/typing`, {}]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["read.mark", { channelId: c, seq: 1 }]),
      http: h((c) => ["POST", "/v1/users/me/read", { channelId: c, seq: 1 }]),
    },
    {
      kind,
      answer: nf,
      ws: w((c) => ["file.begin", { channelId: c, name: "x.txt", size: 1, contentType: "text/plain" }]),
      http: h((c) => [
        "POST",
        "/v1/files",
        { channelId: c, name: "x.txt", size: 1, contentType: "text/plain" },
      ]),
    },
    {
      kind,
      answer: nf,
      ws: w((c, m) => ["msg.flag", { channelId: c, messageId: m, reason: "spam" }]),
      http: h((c, m) => ["POST", `/v1/messages/${m}/flag`, { channelId: c, reason: "spam" }]),
    },
    // Search in one channel: no hits from a channel the caller cannot read, as from none.
    {
      kind,
      answer: "ok",
      ws: w((c) => ["search", { q: "classified", channelId: c }]),
      http: h((c) => ["GET", `/v1/search?q=classified&channelId=${c}`]),
    },
  ];
}

/** Every request the outsider tries, by kind of id. */
const table: Row[] = [
  ...channelRows("private channel", (ids) => ({ c: ids.channel, m: ids.message })),
  ...channelRows("dm", (ids) => ({ c: ids.dm, m: ids.dmMessage })),

  // A message of the private channel, named from the outsider's own channel or by id alone.
  ...(
    [
      ["msg.edit", { text: "defaced" }, "PATCH", "", { text: "defaced" }],
      ["msg.delete", {}, "DELETE", "", undefined],
      ["msg.versions", {}, "GET", "/versions", undefined],
      ["react.add", { emoji: "+1" }, "POST", "/reactions", { emoji: "+1" }],
      ["react.remove", { emoji: "+1" }, "DELETE", "/reactions/%2B1", undefined],
      ["pin.add", {}, "PUT", "/pin", undefined],
      ["pin.remove", {}, "DELETE", "/pin", undefined],
    ] as const
  ).flatMap(([op, extra, method, suffix, body]): Row[] => [
    {
      kind: "message",
      answer: "not_found",
      ws: (ids, own) => [op, { channelId: own.channel, messageId: ids.message, ...extra }],
      http: (ids, own) => [method, `/v1/messages/${ids.message}${suffix}?channelId=${own.channel}`, body],
    },
    {
      kind: "message",
      answer: "not_found",
      http: (ids) => [method, `/v1/messages/${ids.message}${suffix}`, body],
    },
    {
      kind: "message",
      answer: "not_found",
      http: (ids) => [method, `/v1/messages/${ids.dmMessage}${suffix}`, body],
    },
  ]),

  // Flagging a message of the private channel or the DM: from the outsider's own channel, or by
  // id alone (the server finds the channel, over the WebSocket too).
  ...(["message", "dmMessage"] as const).flatMap((which): Row[] => [
    {
      kind: "message",
      answer: "not_found",
      ws: (ids, own) => ["msg.flag", { channelId: own.channel, messageId: ids[which], reason: "spam" }],
      http: (ids, own) => [
        "POST",
        `/v1/messages/${ids[which]}/flag`,
        { channelId: own.channel, reason: "x" },
      ],
    },
    {
      kind: "message",
      answer: "not_found",
      ws: (ids) => ["msg.flag", { messageId: ids[which], reason: "spam" }],
      http: (ids) => ["POST", `/v1/messages/${ids[which]}/flag`, { reason: "spam" }],
    },
  ]),

  // A thread root of the private channel, named from the outsider's own channel or by id alone.
  ...(
    [
      ["thread.history", "GET", ""],
      ["thread.follow", "PUT", "/follow"],
      ["thread.unfollow", "DELETE", "/follow"],
    ] as const
  ).flatMap(([op, method, suffix]): Row[] => [
    {
      kind: "thread root",
      answer: "not_found",
      ws: (ids, own) => [op, { channelId: own.channel, rootId: ids.root }],
      http: (ids, own) => [method, `/v1/threads/${ids.root}${suffix}?channelId=${own.channel}`],
    },
    { kind: "thread root", answer: "not_found", http: (ids) => [method, `/v1/threads/${ids.root}${suffix}`] },
  ]),
  {
    kind: "thread root",
    answer: "not_found",
    ws: (ids, own) => [
      "msg.send",
      { channelId: own.channel, text: "hi", clientMsgId: "idor-r", threadRootId: ids.root },
    ],
    http: (ids, own) => [
      "POST",
      `/v1/channels/${own.channel}/messages`,
      { text: "hi", threadRootId: ids.root },
    ],
  },
  {
    kind: "thread root",
    answer: "not_found",
    ws: (ids, own) => [
      "msg.schedule",
      { channelId: own.channel, text: "hi", clientMsgId: "idor-sr", sendAt: later(), threadRootId: ids.root },
    ],
  },
  // A read marker is the caller's own: one for a thread that is not in the channel is kept
  // (and never read), for a hidden root as for none, so it tells nothing.
  {
    kind: "thread root",
    answer: "ok",
    ws: (ids, own) => ["read.mark", { channelId: own.channel, seq: 1, threadRootId: ids.root }],
  },

  // A file shared in the private channel, and the owner's avatar.
  {
    kind: "file",
    answer: "not_found",
    ws: (ids) => ["file.get", { fileId: ids.file }],
    http: (ids) => ["GET", `/v1/files/${ids.file}`],
  },
  {
    kind: "file",
    answer: "not_found",
    ws: (ids) => ["file.complete", { fileId: ids.file }],
    http: (ids) => ["POST", `/v1/files/${ids.file}/complete`],
  },
  {
    kind: "file",
    answer: "not_found",
    ws: (ids, own) => [
      "msg.send",
      { channelId: own.channel, text: "mine now", clientMsgId: "idor-f", fileIds: [ids.file] },
    ],
    http: (ids, own) => [
      "POST",
      `/v1/channels/${own.channel}/messages`,
      { text: "mine now", fileIds: [ids.file] },
    ],
  },
  {
    kind: "file",
    answer: "not_found",
    ws: (ids) => ["file.complete", { fileId: ids.avatar }],
    http: (ids) => ["POST", `/v1/files/${ids.avatar}/complete`],
  },

  // Another user's scheduled message, in a channel the outsider cannot read.
  {
    kind: "scheduled message",
    answer: "not_found",
    ws: (ids) => ["msg.scheduled.cancel", { channelId: ids.channel, scheduleId: ids.schedule }],
    http: (ids) => ["DELETE", `/v1/channels/${ids.channel}/scheduled/${ids.schedule}`],
  },
  {
    kind: "scheduled message",
    answer: "not_found",
    ws: (ids, own) => ["msg.scheduled.cancel", { channelId: own.channel, scheduleId: ids.schedule }],
    http: (ids, own) => ["DELETE", `/v1/channels/${own.channel}/scheduled/${ids.schedule}`],
  },

  // The caller's own settings, naming what they cannot see.
  {
    kind: "setting",
    answer: "not_found",
    ws: (ids) => ["user.update", { avatarFileId: ids.avatar }],
    http: (ids) => ["PATCH", "/v1/users/me", { avatarFileId: ids.avatar }],
  },
  // A notification level for a channel is the caller's own preference: taken for any id,
  // so it tells nothing (and has no effect on a channel they cannot read).
  {
    kind: "setting",
    answer: "ok",
    ws: (ids) => ["user.settings.set", { notify: { [ids.channel]: "none" } }],
    http: (ids) => ["PATCH", "/v1/users/me/settings", { notify: { [ids.dm]: "none" } }],
  },
];

// ---------------------------------------------------------------------------------------

/** An answer reduced to what may not differ: HTTP status (or "ws"), and the error or "ok". */
interface Answer {
  status: number | "ws";
  error: { code: string; message: string; retryable: boolean; details?: unknown } | "ok";
}

/** Ids of the same shape that name nothing. */
const absent: Ids = {
  channel: "C00000000000000000000",
  dm: "D000000000000000000000000",
  message: "M00000000000000000000",
  dmMessage: "M00000000000000000001",
  root: "M00000000000000000002",
  file: "F00000000000000000000_C00000000000000000000",
  avatar: "A00000000000000000000",
  schedule: "S00000000000000000000",
};

async function overWs(s: RawSocket, [op, args]: WsCall): Promise<Answer> {
  const reply = await s.call(op, args);
  if (reply[0] === FrameKind.ok) return { status: "ws", error: "ok" };
  return { status: "ws", error: reply[2] };
}

async function overHttp(server: TestServer, token: string, [method, path, body]: HttpCall): Promise<Answer> {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { error?: Answer["error"] };
  return { status: res.status, error: res.ok ? "ok" : json.error! };
}

describe.each([
  { store: "postgres" as const, workers: 2 },
  { store: "pglite" as const, workers: 0 },
])("IDOR on $store with $workers worker(s)", ({ store, workers }) => {
  // Hundreds of attempts from one user in seconds: the rate limits would answer them instead.
  const fixture = serverForBlock(store, { COLINK_WORKERS: String(workers), ...allLimitsOff });

  it("answers every id the caller cannot see exactly as an id that names nothing", async () => {
    const server = fixture.server;
    // The owner's private channel, with a friend; their DM; a thread; a file; a scheduled
    // message; an avatar. Every text and name below is a secret the answers must not hold.
    const owner = await fixture.connect("idor-owner");
    const friend = await fixture.connect("idor-friend");
    const secrets = [
      "idor-vault",
      "classified plans",
      "in the thread",
      "between us",
      "plans.txt",
      "scheduled secret",
    ];
    const { channel } = await owner.client.request("ch.create", { name: "idor-vault", kind: "private" });
    await owner.client.request("ch.invite", { channelId: channel.id, userId: friend.userId });
    const root = (await owner.client.send(channel.id, "classified plans")).message;
    await owner.client.request("msg.send", {
      channelId: channel.id,
      text: "in the thread",
      clientMsgId: "idor-reply",
      threadRootId: root.id,
    });
    await owner.client.request("react.add", { channelId: channel.id, messageId: root.id, emoji: "+1" });
    const { channel: dm } = await owner.client.request("dm.open", { userIds: [friend.userId] });
    const dmMessage = (await owner.client.send(dm.id, "between us")).message;
    const bytes = Buffer.from("the plans");
    const begun = await owner.client.request("file.begin", {
      channelId: channel.id,
      name: "plans.txt",
      size: bytes.length,
      contentType: "text/plain",
    });
    const put = await fetch(new URL(begun.uploadUrl, server.baseUrl), {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: bytes,
    });
    expect(put.status).toBeLessThan(300);
    await owner.client.request("file.complete", { fileId: begun.fileId });
    await owner.client.request("msg.send", {
      channelId: channel.id,
      text: "see file",
      clientMsgId: "idor-file",
      fileIds: [begun.fileId],
    });
    const { scheduled } = await owner.client.request("msg.schedule", {
      channelId: channel.id,
      text: "scheduled secret",
      clientMsgId: "idor-scheduled",
      sendAt: later(),
    });
    const png = Buffer.from(
      "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
        "1f15c4890000000d49444154789c6360f80f00000101000518d84e0000000049454e44ae426082",
      "hex",
    );
    const avatar = await owner.client.request("user.avatar.begin", {
      name: "me.png",
      size: png.length,
      contentType: "image/png",
    });
    const avatarPut = await fetch(new URL(avatar.uploadUrl, server.baseUrl), {
      method: "PUT",
      headers: { "content-type": "image/png" },
      body: png,
    });
    expect(avatarPut.status).toBeLessThan(300);
    await owner.client.request("file.complete", { fileId: avatar.fileId });
    const hidden: Ids = {
      channel: channel.id,
      dm: dm.id,
      message: root.id,
      dmMessage: dmMessage.id,
      root: root.id,
      file: begun.fileId,
      avatar: avatar.fileId,
      schedule: scheduled.id,
    };
    const revealing = [...secrets, owner.userId, friend.userId, channel.id, dm.id];

    // The outsider, with a public channel of their own to name hidden ids from.
    const outsider = await devToken(server, "idor-outsider");
    const ws = await RawSocket.open(server.wsUrl, { token: outsider.token });
    const mine = await ws.call("ch.create", { name: "idor-mine", kind: "public" });
    expect(mine[0]).toBe(FrameKind.ok);
    const own: Own = {
      channel: (mine[2] as { channel: { id: string } }).channel.id,
      userId: outsider.userId,
      ownerId: owner.userId,
    };
    const seqBefore = (await owner.client.request("ch.get", { channelId: channel.id })).channel.lastSeq;

    /** `path` with each id written as the name of what it is, for the report. */
    const named = (path: string) =>
      Object.entries({ ...hidden, own: own.channel, me: own.userId, owner: own.ownerId })
        .sort(([, a], [, b]) => b.length - a.length) // a file id holds its channel's
        .reduce((p, [name, id]) => p.replaceAll(id, `:${name}`), path);
    const failures: string[] = [];
    let tried = 0;
    for (const row of table) {
      const attempts: Array<[string, (ids: Ids) => Promise<Answer>]> = [];
      if (row.ws) {
        const ws1 = row.ws;
        attempts.push([`ws ${ws1(hidden, own)[0]}`, (ids) => overWs(ws, ws1(ids, own))]);
      }
      if (row.http) {
        const h = row.http;
        const [method, path] = h(hidden, own);
        attempts.push([`${method} ${named(path)}`, (ids) => overHttp(server, outsider.token, h(ids, own))]);
      }
      for (const [label, attempt] of attempts) {
        tried++;
        const what = `${row.kind}: ${label}`;
        const seen = await attempt(hidden);
        const none = await attempt(absent);
        const shown = JSON.stringify(seen);
        if (JSON.stringify(none) !== shown)
          failures.push(`${what}: hidden ${shown} but absent ${JSON.stringify(none)}`);
        const code = seen.error === "ok" ? "ok" : seen.error.code;
        if (code !== row.answer) failures.push(`${what}: answered ${shown}, the rule is ${row.answer}`);
        for (const secret of revealing)
          if (shown.includes(secret)) failures.push(`${what}: ${shown} holds ${secret}`);
      }
    }
    expect(failures, failures.join("\n")).toEqual([]);
    expect(tried).toBeGreaterThan(100);

    // Nothing of the owner's changed, and the socket stayed open.
    expect(ws.isOpen).toBe(true);
    const after = await owner.client.request("ch.get", { channelId: channel.id });
    expect(after.channel).toMatchObject({ lastSeq: seqBefore, topic: "", archived: false, memberCount: 2 });
    const thread = await friend.client.request("thread.history", { channelId: channel.id, rootId: root.id });
    expect(thread.root).toMatchObject({ text: "classified plans", reactions: [{ emoji: "+1", count: 1 }] });
    const list = await owner.client.request("msg.scheduled.list", { channelId: channel.id });
    expect(list.scheduled.map((s) => s.status)).toEqual(["pending"]);
    await ws.close();
  });
});
