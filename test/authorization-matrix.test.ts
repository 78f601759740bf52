/**
 * The authorization matrix, end to end: every cell of test/authorization-table.ts (every op
 * × every kind of channel × every kind of caller) is run against a real server over the
 * WebSocket, and again over every HTTP route of the op, and must answer what the cell says.
 * A new op or route without a row fails the coverage tests here.
 *
 * Each case gets a world (test/support/authorization-worlds.ts): a channel of the row's
 * kind with the caller in it or not. Cases whose op cannot change what other cases see
 * share one world per kind; an op that changes who is in the channel or whether it is
 * archived, and a case that must first write as a caller who then leaves, get a world of
 * their own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ErrorCode, httpStatusOf } from "../core/errors.js";
import { type OpName, ops } from "../core/ops.js";
import { FrameKind } from "../core/protocol.js";
import type { Principal } from "../core/types.js";
import { callOf, connectionOps, httpRoutes, type RouteSpec } from "../transport/http-routes.js";
import {
  type AuthorizationRow,
  authorizationRows,
  type CallerColumn,
  callers,
  type Outcome,
} from "./authorization-table.js";
import { startServer, type TestServer } from "./harness.js";
import { RawSocket, type Reply } from "./raw-socket.js";
import {
  type Need,
  type Person,
  type World,
  type WorldKind,
  Worlds,
} from "./support/authorization-worlds.js";
import { allLimitsOff } from "./support/limits.js";

type Json = Record<string, unknown>;

/** What a case knows: its world, its caller, and what its preparation wrote. */
interface Ctx {
  world: World;
  caller: Person;
  worlds: Worlds;
  /** A message, schedule or upload made for this case. */
  made: string;
}

/** How to run one row name. */
interface Spec {
  /** What the world must hold. */
  needs?: Need[];
  /** Writes what the case needs before the op runs (before the channel is archived). */
  prepare?: (c: Ctx) => Promise<string>;
  /** `prepare` writes as the caller: a caller who is not a member joins for it, then leaves. */
  asCaller?: boolean;
  /** Waits until the world is ready for the op (search: indexed). */
  ready?: (c: Ctx) => Promise<void>;
  /** The op changes who is in the channel (or whether it is archived): a world per case. */
  fresh?: boolean;
  args: (c: Ctx) => Json | Promise<Json>;
  /** For ops that list things: whether the world's channel (user) is in the result. */
  shows?: (result: Json, c: Ctx) => boolean;
}

const ch = (c: Ctx) => ({ channelId: c.world.channelId });
const unique = () => `k${Math.random().toString(36).slice(2, 12)}`;
const tomorrow = () => Date.now() + 86_400_000;
const ownMessage = (c: Ctx) => c.worlds.send(c.caller, c.world.channelId, "mine");
const ownSchedule = (c: Ctx) => c.worlds.schedule(c.caller, c.world.channelId);
const has = (list: unknown, pick: (x: Json) => unknown, value: string) =>
  (list as Json[]).some((x) => pick(x) === value);

/** Every row name of the table, and how it is run. */
const specs: Record<string, Spec> = {
  auth: { args: (c) => ({ token: c.caller.token }) },
  ping: { args: () => ({}) },
  "ch.create": { args: () => ({ name: "made", kind: "public" }) },
  "dm.open:self": { args: (c) => ({ userIds: [c.caller.id] }) },
  "user.me": { args: () => ({}) },
  "user.get": { args: (c) => ({ userId: c.world.owner.id }) },
  "user.update": { args: () => ({ title: "tester" }) },
  "user.settings.get": { args: () => ({}) },
  "user.settings.set": { args: () => ({ theme: "dark" }) },
  "presence.set": { args: () => ({ status: "away" }) },
  "search.users": {
    args: (c) => ({ q: c.world.owner.username }),
    shows: (r, c) => has(r.users, (u) => u.id, c.world.owner.id),
  },
  "user.avatar.begin": { args: () => ({ name: "me.png", size: 100, contentType: "image/png" }) },
  "file.complete:avatar": { needs: ["avatar"], args: (c) => ({ fileId: c.world.avatar }) },
  "file.get:avatar": { needs: ["avatar"], args: (c) => ({ fileId: c.world.avatar }) },

  // Administration: each case changes a new user of its own.
  "user.deactivate": { args: async (c) => ({ userId: (await c.worlds.person("member", "deact")).id }) },
  "user.reactivate": { args: async (c) => ({ userId: (await c.worlds.person("member", "react")).id }) },
  "role.set": {
    args: async (c) => ({ userId: (await c.worlds.person("member", "role")).id, role: "moderator" }),
  },
  "users.list": {
    args: (c) => ({ q: c.world.owner.username }),
    shows: (r, c) => has(r.users, (u) => u.id, c.world.owner.id),
  },
  "audit.list": { args: () => ({ limit: 5 }) },
  "audit.verify": { args: () => ({}) },

  "ch.list": {
    args: () => ({ includePublic: true, includeArchived: true }),
    shows: (r, c) => has(r.channels, (x) => x.id, c.world.channelId),
  },
  search: {
    needs: ["thread"],
    ready: (c) => c.worlds.searchable(c.world),
    args: (c) => ({ q: c.world.word, ...ch(c) }),
    shows: (r) => (r.hits as unknown[]).length > 0,
  },
  "unread.summary": {
    args: () => ({}),
    shows: (r, c) => has(r.channels, (x) => x.channelId, c.world.channelId),
  },
  "presence.query": {
    args: (c) => ({ userIds: [c.world.owner.id] }),
    shows: (r, c) => has(r.presence, (x) => x.userId, c.world.owner.id),
  },
  // The people of the world's DM other than the caller: for a member that DM, else a new one.
  "dm.open": {
    fresh: true,
    args: (c) => ({ userIds: c.world.members.filter((p) => p.id !== c.caller.id).map((p) => p.id) }),
  },

  "ch.get": { args: ch },
  "ch.members": { args: ch },
  "ch.update": { args: (c) => ({ ...ch(c), topic: unique() }) },
  "ch.archive": { fresh: true, args: ch },
  "ch.join": { fresh: true, args: ch },
  "ch.invite": { args: async (c) => ({ ...ch(c), userId: (await c.worlds.invitee()).id }) },
  "ch.leave": { fresh: true, args: ch },
  "ch.kick": { fresh: true, args: (c) => ({ ...ch(c), userId: c.world.target.id }) },
  "ch.kick:owner": { fresh: true, args: (c) => ({ ...ch(c), userId: c.world.owner.id }) },
  sub: { args: ch },
  unsub: { args: ch },
  "read.mark": { args: (c) => ({ ...ch(c), seq: 1 }) },
  typing: { args: ch },

  "msg.send": { args: (c) => ({ ...ch(c), text: "hello", clientMsgId: unique() }) },
  "msg.history": { args: ch },
  "msg.edit": { needs: ["thread"], args: (c) => ({ ...ch(c), messageId: c.world.root, text: unique() }) },
  "msg.edit:own": {
    prepare: ownMessage,
    asCaller: true,
    args: (c) => ({ ...ch(c), messageId: c.made, text: unique() }),
  },
  "msg.delete": {
    prepare: (c) => c.worlds.send(c.world.owner, c.world.channelId, "to delete"),
    args: (c) => ({ ...ch(c), messageId: c.made }),
  },
  "msg.delete:own": { prepare: ownMessage, asCaller: true, args: (c) => ({ ...ch(c), messageId: c.made }) },
  "msg.versions": { needs: ["thread"], args: (c) => ({ ...ch(c), messageId: c.world.root }) },
  "msg.versions:own": { prepare: ownMessage, asCaller: true, args: (c) => ({ ...ch(c), messageId: c.made }) },
  "thread.history": { needs: ["thread"], args: (c) => ({ ...ch(c), rootId: c.world.root }) },
  "thread.follow": { needs: ["thread"], args: (c) => ({ ...ch(c), rootId: c.world.root }) },
  "thread.unfollow": { needs: ["thread"], args: (c) => ({ ...ch(c), rootId: c.world.root }) },
  "react.add": { needs: ["thread"], args: (c) => ({ ...ch(c), messageId: c.world.root, emoji: "thumbsup" }) },
  "react.remove": {
    needs: ["thread"],
    args: (c) => ({ ...ch(c), messageId: c.world.root, emoji: "thumbsup" }),
  },
  "pin.add": { needs: ["thread"], args: (c) => ({ ...ch(c), messageId: c.world.root }) },
  "pin.remove": { needs: ["thread"], args: (c) => ({ ...ch(c), messageId: c.world.root }) },
  "pin.list": { args: ch },

  "msg.schedule": {
    args: (c) => ({ ...ch(c), text: "later", clientMsgId: unique(), sendAt: tomorrow() }),
  },
  "msg.scheduled.list": { args: ch },
  "msg.scheduled.cancel": {
    prepare: (c) => c.worlds.schedule(c.world.owner, c.world.channelId),
    args: (c) => ({ ...ch(c), scheduleId: c.made }),
  },
  "msg.scheduled.cancel:own": {
    prepare: ownSchedule,
    asCaller: true,
    args: (c) => ({ ...ch(c), scheduleId: c.made }),
  },

  "file.begin": { args: (c) => ({ ...ch(c), name: "a.txt", size: 3, contentType: "text/plain" }) },
  "file.complete": { needs: ["files"], args: (c) => ({ fileId: c.world.unsharedFile }) },
  "file.complete:own": {
    prepare: (c) => c.worlds.upload(c.caller, c.world.channelId, false),
    asCaller: true,
    args: (c) => ({ fileId: c.made }),
  },
  "file.get": { needs: ["files"], args: (c) => ({ fileId: c.world.sharedFile }) },
  "file.get:unshared": { needs: ["files"], args: (c) => ({ fileId: c.world.unsharedFile }) },
  "file.get:own": {
    prepare: (c) => c.worlds.upload(c.caller, c.world.channelId, true),
    asCaller: true,
    args: (c) => ({ fileId: c.made }),
  },

  // ---- moderation (issue 23) ----
  "msg.flag": { needs: ["thread"], args: (c) => ({ ...ch(c), messageId: c.world.root, reason: "spam" }) },
  "msg.remove": {
    prepare: (c) => c.worlds.send(c.world.owner, c.world.channelId, "to remove"),
    args: (c) => ({ ...ch(c), messageId: c.made, reason: "spam" }),
  },
  "flags.list": {
    args: () => ({ status: "open" }),
    shows: (r) => Array.isArray(r.flags),
  },
  "flag.resolve": {
    prepare: async (c) => {
      const messageId = await c.worlds.send(c.world.owner, c.world.channelId, "to flag");
      const made = await c.worlds.must(c.world.owner, "POST", `/v1/messages/${messageId}/flag`, {
        channelId: c.world.channelId,
        reason: "spam",
      });
      return (made.flag as { id: string }).id;
    },
    args: (c) => ({ flagId: c.made, resolution: "dismissed" }),
  },
};

const rows = authorizationRows();
const rowOps = new Set(rows.map((r) => r.op));
const allNeeds: Need[] = ["thread", "schedule", "files", "avatar"];

/** The table's short form of an answer. */
function outcomeOf(error: string | null, result: Json | null, spec: Spec, c: Ctx): string {
  if (error !== null) {
    const short: Partial<Record<string, Outcome>> = {
      not_found: "nf",
      forbidden: "fb",
      bad_request: "br",
      conflict: "cf",
    };
    return short[error] ?? error;
  }
  return spec.shows && !spec.shows(result!, c) ? "0" : "ok";
}

/** The routes that call `op` (as their main op or their alternative). */
function routesOf(op: string): RouteSpec[] {
  return httpRoutes.filter((r) => r.op === op || r.alternative?.op === op);
}

/** How a case reaches the server: the WebSocket, or one HTTP route (with or without `channelId`). */
interface Transport {
  label: string;
  route?: RouteSpec;
  /** A route that names a message: leave `channelId` out, so the server finds it. */
  located?: boolean;
}

function transportsOf(op: string): Transport[] {
  const out: Transport[] = [{ label: "ws" }];
  for (const route of routesOf(op)) {
    const label = `${route.method.toUpperCase()} ${route.path}`;
    out.push({ label, route });
    if (route.locateBy) out.push({ label: `${label} (located)`, route, located: true });
  }
  return out;
}

/** An HTTP request of `route` carrying `args` for `op`: path parameters, query and body. */
function routeRequest(
  route: RouteSpec,
  op: string,
  args: Json,
  caller: Person,
  located: boolean,
): { method: string; path: string; query: URLSearchParams; params: string[]; body: Json | undefined } {
  const a: Json = { ...args };
  // The alternative op is chosen by naming the caller where the main op names someone else.
  if (route.alternative?.op === op) for (const k of route.alternative.drop) a[k] = caller.id;
  if (located) delete a.channelId;
  const params: string[] = [];
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const arg = route.params?.[name] ?? name;
    const value = a[arg];
    if (value === undefined) throw new Error(`${route.path}: ${op} has no ${arg} for {${name}}`);
    delete a[arg];
    const encoded = encodeURIComponent(String(value));
    params.push(encoded);
    return encoded;
  });
  const query = new URLSearchParams();
  for (const [name, arg] of Object.entries(route.query ?? {})) {
    if (a[arg] === undefined) continue;
    query.set(name, String(a[arg]));
    delete a[arg];
  }
  if (!route.body && Object.keys(a).length > 0)
    throw new Error(`${route.method} ${route.path} has no place for ${Object.keys(a).join(", ")} of ${op}`);
  return { method: route.method.toUpperCase(), path, query, params, body: route.body ? a : undefined };
}

describe("the authorization table", () => {
  it("has rows for every op, a way to run every row, and no row twice", () => {
    expect([...Object.keys(ops)].filter((op) => !rowOps.has(op))).toEqual([]);
    expect([...rowOps].filter((op) => !Object.hasOwn(ops, op))).toEqual([]);
    const names = new Set(rows.map((r) => r.name));
    expect([...names].filter((n) => !specs[n])).toEqual([]);
    expect(Object.keys(specs).filter((n) => !names.has(n))).toEqual([]);
    const keys = rows.map((r) => `${r.name} ${r.kind}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it("has rows for the op of every HTTP route, and every op but the connection's has a route", () => {
    for (const route of httpRoutes) {
      expect(rowOps, `${route.method} ${route.path}`).toContain(route.op);
      if (route.alternative) expect(rowOps, `${route.method} ${route.path}`).toContain(route.alternative.op);
    }
    const routed = new Set(httpRoutes.flatMap((r) => [r.op, ...(r.alternative ? [r.alternative.op] : [])]));
    const unrouted = (Object.keys(ops) as OpName[]).filter((op) => !routed.has(op));
    expect(unrouted.sort()).toEqual([...connectionOps].sort());
  });
});

describe("authorization matrix, end to end", () => {
  let server: TestServer;
  let worlds: Worlds;
  /** The callers of the columns, by site role. */
  const byRole = new Map<string, Person>();
  const sockets: RawSocket[] = [];
  /** Each role user's current socket and how many calls it carried (replaced now and then: it keeps every frame). */
  const current = new Map<string, { socket: RawSocket; calls: number }>();
  const shared = new Map<string, Promise<World>>();

  beforeAll(async () => {
    server = await startServer("postgres", { ...allLimitsOff });
    worlds = new Worlds(server);
    for (const [col, role] of [
      ["adm", "admin"],
      ["mod", "moderator"],
      ["mem", "member"],
      ["gst", "guest"],
    ] as const) {
      byRole.set(col, await worlds.person(role, col));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await server?.cleanup();
  });

  /** A socket of `who`: a role user's current one, or a new one for anybody else (closed after). */
  async function socketOf(who: Person): Promise<{ socket: RawSocket; own: boolean }> {
    if (![...byRole.values()].includes(who)) {
      return { socket: await RawSocket.open(server.wsUrl, { token: who.token }), own: true };
    }
    let entry = current.get(who.id);
    if (!entry || entry.calls >= 300 || !entry.socket.isOpen) {
      entry = { socket: await RawSocket.open(server.wsUrl, { token: who.token }), calls: 0 };
      sockets.push(entry.socket);
      current.set(who.id, entry);
    }
    entry.calls++;
    return { socket: entry.socket, own: false };
  }

  /** The world a case runs in, and what its preparation made. */
  async function worldFor(row: AuthorizationRow, column: CallerColumn, spec: Spec): Promise<Ctx> {
    const kind: WorldKind = row.kind === "-" ? "pub" : row.kind;
    const inside = column.endsWith("+");
    const role = column.slice(0, 3);
    const archived = kind === "apub" || kind === "apriv";
    const writesAsOutsider = spec.asCaller === true && column !== "own" && !inside;
    const fresh = spec.fresh || (spec.prepare !== undefined && (archived || writesAsOutsider));
    const needs = new Set(spec.needs ?? []);
    const caller = (w: World) => (column === "own" ? w.owner : byRole.get(role)!);
    const ctx = (w: World): Ctx => ({ world: w, caller: caller(w), worlds, made: "" });
    const prepare = async (c: Ctx) => {
      if (!spec.prepare) return;
      if (!writesAsOutsider) {
        c.made = await spec.prepare(c);
        return;
      }
      await worlds.invite(c.world.owner, c.world.channelId, c.caller);
      c.made = await spec.prepare(c);
      await worlds.leave(c.caller, c.world.channelId);
    };
    if (fresh) {
      let made: Ctx | null = null;
      const world = await worlds.build(kind, inside ? [byRole.get(role)!] : [], needs, async (w) => {
        made = ctx(w);
        await prepare(made);
      });
      return made ?? ctx(world);
    }
    // One world per kind with every role user in it, one with none; a DM holds one caller.
    const members = !inside ? [] : kind === "dm" ? [byRole.get(role)!] : [...byRole.values()];
    const key = `${kind} ${inside ? (kind === "dm" ? role : "in") : "out"}`;
    let world = shared.get(key);
    if (!world) {
      world = worlds.build(kind, members, new Set(allNeeds));
      shared.set(key, world);
    }
    const c = ctx(await world);
    await prepare(c);
    return c;
  }

  /** Runs one case; its outcome, and a note when HTTP's status disagrees with the code. */
  async function runCase(row: AuthorizationRow, column: CallerColumn, t: Transport): Promise<string> {
    const spec = specs[row.name]!;
    const c = await worldFor(row, column, spec);
    await spec.ready?.(c);
    const args = await spec.args(c);
    if (!t.route) {
      const isAuth = row.op === "auth";
      const { socket, own } = isAuth
        ? { socket: await RawSocket.open(server.wsUrl, { token: c.caller.token }), own: true }
        : await socketOf(c.caller);
      try {
        const reply: Reply = await socket.call(row.op, args, 20_000);
        return reply[0] === FrameKind.ok
          ? outcomeOf(null, reply[2], spec, c)
          : outcomeOf(reply[2].code, null, spec, c);
      } finally {
        if (own) await socket.close();
      }
    }
    const req = routeRequest(t.route, row.op, args, c.caller, t.located === true);
    const principal: Principal = {
      userId: c.caller.id,
      username: c.caller.username,
      displayName: c.caller.username,
      role: c.caller.role,
    };
    // The route's own mapping must reach this op. Only its alternative may take over: a
    // kick of oneself is a leave over HTTP, so that case has no HTTP form.
    const call = callOf(t.route, { ...req, idempotencyKey: "" }, principal);
    if (call.op !== row.op) {
      if (call.op === t.route.alternative?.op) return "unreachable";
      throw new Error(`${t.label} called ${call.op}, not ${row.op}`);
    }
    const q = req.query.size > 0 ? `?${req.query}` : "";
    const res = await worlds.http(c.caller, req.method, `${req.path}${q}`, req.body);
    const error = res.status < 300 ? null : ((res.body.error as { code?: string } | undefined)?.code ?? "?");
    const outcome = outcomeOf(error, error === null ? res.body : null, spec, c);
    const status = error === null ? t.route.status : httpStatusOf[error as ErrorCode];
    return res.status === status ? outcome : `${outcome} (HTTP ${res.status})`;
  }

  /** Runs `jobs` with at most `width` at a time. */
  async function pool<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
    const results: T[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < jobs.length) {
          const i = next++;
          results[i] = await jobs[i]!();
        }
      }),
    );
    return results;
  }

  // The table's rule for what reaches a personal topic, which no op's answer shows: a
  // follower who left a public thread hears its replies only while able to read it.
  it("thread.reply reaches a follower who left a public channel, but not a guest who left it", async () => {
    const owner = await worlds.person("member", "owner");
    const made = await worlds.must(owner, "POST", "/v1/channels", { name: "threads", kind: "public" });
    const channelId = (made.channel as { id: string }).id;
    const root = await worlds.send(owner, channelId, "root");
    const left = [byRole.get("mem")!, byRole.get("gst")!];
    for (const p of left) {
      await worlds.invite(owner, channelId, p);
      await worlds.send(p, channelId, "a reply makes me follow", { threadRootId: root });
      await worlds.leave(p, channelId);
    }
    const listening = await Promise.all(left.map((p) => RawSocket.open(server.wsUrl, { token: p.token })));
    sockets.push(...listening);
    const reply = await worlds.send(owner, channelId, "after they left", { threadRootId: root });
    const heard = (s: RawSocket) =>
      s.frames.some(
        (f) => f[0] === FrameKind.event && f[2] === "thread.reply" && (f[3].message as Json).id === reply,
      );
    await listening[0]!.waitFor(
      () => (heard(listening[0]!) ? true : undefined),
      10_000,
      "the member's thread.reply",
    );
    // The guest's thread.reply would have been published in the same batch as the member's.
    await listening[1]!.call("ping", {});
    expect(heard(listening[1]!)).toBe(false);
    const thread = `/v1/threads/${root}?channelId=${channelId}`;
    expect((await worlds.http(left[0]!, "GET", thread)).status).toBe(200);
    expect((await worlds.http(left[1]!, "GET", thread)).status).toBe(404);
  });

  const names = [...new Set(rows.map((r) => r.name))];
  for (const name of names) {
    it(`${name}: every kind of channel × every caller, over the WebSocket and HTTP`, async () => {
      const mine = rows.filter((r) => r.name === name);
      const transports = transportsOf(mine[0]!.op);
      const jobs = mine.flatMap((row) =>
        callers.flatMap((column) =>
          row.cells[column] === "na"
            ? []
            : transports.map((t) => async () => {
                let got: string;
                try {
                  got = await runCase(row, column, t);
                } catch (err) {
                  got = `threw: ${(err as Error).message}`;
                }
                // A route that cannot express the case (a kick of oneself is a leave) is skipped.
                if (got === "unreachable") return null;
                const want = row.cells[column];
                return got === want
                  ? null
                  : `line ${row.line}: ${name} ${row.kind} ${column} over ${t.label}: want ${want}, got ${got}`;
              }),
        ),
      );
      const wrong = (await pool(jobs, 6)).filter((w) => w !== null);
      expect(wrong).toEqual([]);
    }, 300_000);
  }
});
