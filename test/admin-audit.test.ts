/**
 * Administration end to end over real sockets and HTTP (issue 23), on PGlite and on
 * Postgres: deactivation closes every socket of the user (4006) and refuses their tokens
 * over WebSocket and HTTP until reactivation; role.set wins over the token's claim and
 * makes the user's sockets reconnect; every admin action lands in the audit log with who,
 * what, target, time, IP and request id; audit.verify is ok, and fails at a row edited or
 * deleted in the database.
 */
import { describe, expect, it } from "vitest";
import { api, type StoreKind, storeKinds, type TestServer } from "./harness.js";
import { RawSocket } from "./raw-socket.js";
import { serverForBlock } from "./support/server-fixture.js";

/** A dev sign-in with a role claim. */
async function signIn(server: TestServer, username: string, role = "member") {
  const res = await fetch(`${server.baseUrl}/auth/dev/token`, {
    method: "POST",
    body: JSON.stringify({ username, role }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { accessToken: string; user: { id: string; role: string } };
  // The session cookie, for a refresh.
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  return { token: body.accessToken, userId: body.user.id, user: body.user, cookie };
}

/** The ok result of a raw WebSocket call, or the error. */
async function call(socket: RawSocket, op: string, args: Record<string, unknown>) {
  const [kind, , body] = await socket.call(op, args);
  return kind === 1
    ? { ok: body as Record<string, unknown> }
    : { error: body as { code: string; message: string } };
}

describe.each(storeKinds)("administration and the audit log on %s", (store: StoreKind) => {
  const fixture = serverForBlock(store);

  it("deactivates: every socket closes with 4006, tokens are refused, the user is hidden; reactivation restores", async () => {
    const { server } = fixture;
    const admin = await signIn(server, "dadmin", "admin");
    const bob = await signIn(server, "dbob");
    const other = await signIn(server, "dother");
    const tabs = [
      await RawSocket.open(server.wsUrl, { token: bob.token }),
      await RawSocket.open(server.wsUrl, { bearer: bob.token }),
    ];
    for (const tab of tabs) expect((await call(tab, "user.me", {})).ok).toBeDefined();
    expect((await api(server, other.token, "GET", "/v1/search/users?q=dbob")).body.users).toHaveLength(1);

    const adminWs = await RawSocket.open(server.wsUrl, { token: admin.token });
    // Only admins; never oneself.
    const memberTry = await RawSocket.open(server.wsUrl, { token: other.token });
    expect((await call(memberTry, "user.deactivate", { userId: bob.userId })).error?.code).toBe("forbidden");
    expect((await call(adminWs, "user.deactivate", { userId: admin.userId })).error?.code).toBe(
      "bad_request",
    );
    expect((await call(adminWs, "user.deactivate", { userId: "Unobody" })).error?.code).toBe("not_found");

    const started = Date.now();
    const done = await call(adminWs, "user.deactivate", { userId: bob.userId });
    expect(done.ok).toMatchObject({ user: { id: bob.userId, deactivated: true } });
    for (const tab of tabs) expect(await tab.closed(1000)).toEqual({ code: 4006, reason: "deactivated" });
    expect(Date.now() - started).toBeLessThan(1000);

    // Refused over HTTP and WebSocket, by upgrade and by the auth frame.
    const refused = await api(server, bob.token, "GET", "/v1/users/me");
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: "unauthenticated", message: "account deactivated" });
    const upgrade = await RawSocket.open(server.wsUrl, { token: bob.token });
    expect((await upgrade.closed(2000)).code).toBe(4006);
    const late = await RawSocket.open(server.wsUrl);
    expect((await call(late, "auth", { token: bob.token })).error?.code).toBe("unauthenticated");
    expect((await late.closed(2000)).code).toBe(4006);
    // No new token either: a sign-in and a refresh of the session are refused alike.
    const deactivated = { code: "unauthenticated", details: { reason: "deactivated" } };
    const signInAgain = await fetch(`${server.baseUrl}/auth/dev/token`, {
      method: "POST",
      body: JSON.stringify({ username: "dbob" }),
    });
    expect(signInAgain.status).toBe(401);
    expect(((await signInAgain.json()) as { error: unknown }).error).toMatchObject(deactivated);
    const refresh = () =>
      fetch(`${server.baseUrl}/auth/dev/refresh`, { method: "POST", headers: { cookie: bob.cookie } });
    const refreshed = await refresh();
    expect(refreshed.status).toBe(401);
    expect(((await refreshed.json()) as { error: unknown }).error).toMatchObject(deactivated);
    // Hidden from the directory; the admin page still lists them.
    expect((await api(server, other.token, "GET", "/v1/search/users?q=dbob")).body.users).toEqual([]);
    const listed = await api(server, admin.token, "GET", "/v1/admin/users?q=dbob");
    expect(listed.body.users).toMatchObject([{ id: bob.userId, deactivated: true }]);

    const back = await api(server, admin.token, "POST", `/v1/admin/users/${bob.userId}/reactivate`);
    expect(back.status).toBe(200);
    expect(back.body.user).toMatchObject({ deactivated: false });
    expect((await api(server, bob.token, "GET", "/v1/users/me")).status).toBe(200);
    expect((await refresh()).status).toBe(200);
    const again = await RawSocket.open(server.wsUrl, { token: bob.token });
    expect((await call(again, "user.me", {})).ok).toBeDefined();
    expect((await api(server, other.token, "GET", "/v1/search/users?q=dbob")).body.users).toHaveLength(1);
    for (const s of [adminWs, memberTry, again]) await s.close();
  });

  it("sets a role that wins over the token's claim, and the user's sockets reconnect for it", async () => {
    const { server } = fixture;
    const admin = await signIn(server, "radmin", "admin");
    const carol = await signIn(server, "rcarol");
    const tab = await RawSocket.open(server.wsUrl, { token: carol.token });
    expect((await call(tab, "user.me", {})).ok).toBeDefined();
    const set = await api(server, admin.token, "PUT", `/v1/admin/users/${carol.userId}/role`, {
      role: "moderator",
    });
    expect(set.status).toBe(200);
    expect(set.body.user).toMatchObject({ role: "moderator" });
    expect(await tab.closed(1000)).toEqual({ code: 4506, reason: "role changed" });
    // The old token (claim: member) and a new sign-in both act as moderator now.
    expect((await api(server, carol.token, "GET", "/v1/users/me")).body.user).toMatchObject({
      role: "moderator",
    });
    const resigned = await signIn(server, "rcarol", "member");
    expect(resigned.user.role).toBe("moderator");
    // An admin cannot change their own role (the stored role would outlive every token).
    const own = await api(server, admin.token, "PUT", `/v1/admin/users/${admin.userId}/role`, {
      role: "member",
    });
    expect(own.status).toBe(400);
    // Not for members.
    const byMember = await api(server, carol.token, "PUT", `/v1/admin/users/${admin.userId}/role`, {
      role: "guest",
    });
    expect(byMember.status).toBe(403);
  });

  it("archives anyone's channel as admin (a member cannot), audited with who, where and the request id", async () => {
    const { server } = fixture;
    const admin = await signIn(server, "xadmin", "admin");
    const owner = await signIn(server, "xowner");
    const other = await signIn(server, "xother");
    const created = await api(server, owner.token, "POST", "/v1/channels", {
      name: "x-secret",
      kind: "private",
    });
    expect(created.status).toBe(201);
    const channelId = (created.body.channel as { id: string }).id;
    const path = `/v1/admin/channels/${channelId}/archive`;
    // To anyone else the private channel does not exist.
    expect((await api(server, other.token, "POST", path)).status).toBe(404);
    const res = await fetch(`${server.baseUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin.token}`, "x-request-id": "req-archive-1" },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { channel: { archived: boolean } }).channel.archived).toBe(true);
    // Again: a no-op, and not audited twice.
    expect((await api(server, admin.token, "POST", path)).status).toBe(200);
    const listed = await api(
      server,
      admin.token,
      "GET",
      `/v1/admin/audit?action=ch.archive&target=${channelId}`,
    );
    expect(listed.body.entries).toEqual([
      expect.objectContaining({
        actorId: admin.userId,
        action: "ch.archive",
        target: channelId,
        ip: "127.0.0.1",
        requestId: "req-archive-1",
        details: { name: "x-secret", kind: "private", as: "admin" },
      }),
    ]);
    const sent = await api(server, owner.token, "POST", `/v1/channels/${channelId}/messages`, {
      text: "too late",
    });
    expect(sent.status).toBe(403);
  });

  it("audits sign-ins (auth.login) and refused tokens (auth.token_refused), a flood from one address as one entry", async () => {
    const { server } = fixture;
    const admin = await signIn(server, "sadmin", "admin");
    const erin = await signIn(server, "serin");
    const ws = await RawSocket.open(server.wsUrl, { token: admin.token });
    const logins = await call(ws, "audit.list", { action: "auth.login", target: erin.userId });
    expect((logins.ok as { entries: unknown[] }).entries).toMatchObject([
      {
        actorId: erin.userId,
        target: erin.userId,
        ip: "127.0.0.1",
        details: { method: "dev", username: "serin" },
      },
    ]);
    // Five bad tokens from one address within the minute: one entry.
    for (let i = 0; i < 5; i++) {
      const bad = await RawSocket.open(server.wsUrl, { token: `${erin.token}x`, localAddress: "127.0.0.9" });
      expect((await bad.closed(2000)).code).toBe(4001);
    }
    let refused: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 50 && refused.length === 0; i++) {
      const listed = await call(ws, "audit.list", { action: "auth.token_refused", limit: 200 });
      refused = (listed.ok as { entries: Array<Record<string, unknown>> }).entries.filter(
        (e) => e.ip === "127.0.0.9",
      );
      if (refused.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      actorId: "anonymous",
      details: { at: "upgrade", earlierRefusals: 0 },
    });
    await ws.close();
  });

  it("records every admin action with who, what, target, time, IP and request id; verify fails at an edited or deleted row", async () => {
    const { server } = fixture;
    const admin = await signIn(server, "aadmin", "admin");
    const dave = await signIn(server, "adave");
    const before = Date.now();
    const res = await fetch(`${server.baseUrl}/v1/admin/users/${dave.userId}/deactivate`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin.token}`, "x-request-id": "req-audit-1" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("req-audit-1");
    await api(server, admin.token, "POST", `/v1/admin/users/${dave.userId}/reactivate`);
    const ws = await RawSocket.open(server.wsUrl, { token: admin.token });
    expect((await call(ws, "role.set", { userId: dave.userId, role: "guest" })).ok).toBeDefined();

    const listed = await call(ws, "audit.list", { target: dave.userId, from: before });
    const entries = (listed.ok as { entries: Array<Record<string, unknown>> }).entries;
    expect(entries.map((e) => e.action)).toEqual(["role.set", "user.reactivate", "user.deactivate"]);
    for (const e of entries) {
      expect(e).toMatchObject({ actorId: admin.userId, target: dave.userId, ip: "127.0.0.1" });
      expect(e.at as number).toBeGreaterThanOrEqual(before);
      expect(e.requestId).toMatch(/.{8,}/);
    }
    expect(entries[2]!.requestId).toBe("req-audit-1");
    expect(entries[0]!.prevHash).toBe(entries[1]!.hash);
    // Filters and pages.
    const page = await call(ws, "audit.list", { actor: admin.userId, action: "user.deactivate", limit: 1 });
    expect((page.ok as { entries: unknown[] }).entries).toHaveLength(1);
    expect((await call(ws, "audit.verify", {})).ok).toMatchObject({ ok: true });
    const member = await RawSocket.open(server.wsUrl, { token: dave.token });
    expect((await call(member, "audit.list", {})).error?.code).toBe("forbidden");
    expect((await api(server, dave.token, "GET", "/v1/admin/audit/verify")).status).toBe(403);
    await Promise.all([ws.close(), member.close()]);

    const reactivated = entries[1]!;
    await fixture.sqlWhileStopped(
      "UPDATE audit_log SET details = '{\"changed\": false}'::jsonb WHERE id = $1",
      [reactivated.id],
    );
    const edited = await api(server, admin.token, "GET", "/v1/admin/audit/verify");
    expect(edited.body).toMatchObject({ ok: false, brokenAt: reactivated.id });
    await fixture.sqlWhileStopped("UPDATE audit_log SET details = $2::text::jsonb WHERE id = $1", [
      reactivated.id,
      JSON.stringify(reactivated.details),
    ]);
    expect((await api(server, admin.token, "GET", "/v1/admin/audit/verify")).body).toMatchObject({
      ok: true,
    });
    await fixture.sqlWhileStopped("DELETE FROM audit_log WHERE id = $1", [reactivated.id]);
    const deleted = await api(server, admin.token, "GET", "/v1/admin/audit/verify");
    expect(deleted.body).toMatchObject({ ok: false, brokenAt: entries[0]!.id });
  });
});
