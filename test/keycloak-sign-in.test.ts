/**
 * Single sign-on through a real Keycloak (issue 22), run by Colink's server: `GET
 * /auth/login` → Keycloak's login form → `GET /auth/callback` → the sealed session cookie,
 * then `POST /auth/refresh`, `POST /auth/logout` (revoked at Keycloak, the session's sockets
 * closed with 4005, on every node of a cluster) and `POST /auth/introspect`. The browser is
 * played by HTTP requests with a cookie jar per site; test/web/keycloak.test.ts does it with
 * chromium. Also: guests' limits with a Keycloak token.
 */
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ColinkClient, ColinkRequestError } from "../client/index.js";
import { startServer, type TestServer } from "./harness.js";
import { type Cluster, clusterSettled, startCluster } from "./support/cluster.js";
import {
  adminApi,
  clientCredentialsGrant,
  colinkRealm,
  passwordGrant,
  realmClients,
  realmUsers,
  startKeycloak,
  type TestKeycloak,
} from "./support/keycloak.js";

let keycloak: TestKeycloak;
let server: TestServer;
const clients: ColinkClient[] = [];

/** What Colink is started with here: Keycloak only, with single sign-on through web-app. */
const signOnEnv = (kc: TestKeycloak) => ({
  COLINK_DEV_AUTH: "off",
  COLINK_OIDC_ISSUER: kc.issuer,
  COLINK_OIDC_WEB_CLIENT_ID: "web-app",
});

/** The cookies one site set, as a browser keeps them (name → value; attributes are checked apart). */
class Jar {
  readonly cookies = new Map<string, string>();
  take(res: Response): string[] {
    const lines = res.headers.getSetCookie();
    for (const line of lines) {
      const pair = line.split(";")[0]!;
      const eq = pair.indexOf("=");
      const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
      if (value === "" || /max-age=0\b/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return lines;
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/** A browser of one person: Colink's cookies and Keycloak's. */
interface Browser {
  colink: Jar;
  keycloak: Jar;
}

const newBrowser = (): Browser => ({ colink: new Jar(), keycloak: new Jar() });

/** A sign-in up to Keycloak's redirect back to the callback (not followed yet). */
interface SignInUnderWay {
  /** Where `/auth/login` sent the browser. */
  authorize: URL;
  /** The `Set-Cookie` lines of `/auth/login`. */
  loginCookies: string[];
  /** Where Keycloak sends the browser back: `/auth/callback?state&code&iss`. */
  callback: URL;
}

/** `GET /auth/login`, Keycloak's form with the user's password, up to the redirect to the callback. */
async function startSignIn(
  base: string,
  browser: Browser,
  user: { username: string; password: string },
  returnTo?: string,
): Promise<SignInUnderWay> {
  const login = await fetch(
    `${base}/auth/login${returnTo === undefined ? "" : `?${new URLSearchParams({ returnTo })}`}`,
    { redirect: "manual" },
  );
  expect(login.status).toBe(302);
  const loginCookies = browser.colink.take(login);
  const authorize = new URL(login.headers.get("location")!);
  const page = await fetch(authorize, { redirect: "manual", headers: { cookie: browser.keycloak.header() } });
  browser.keycloak.take(page);
  const html = await page.text();
  expect(page.status, html.slice(0, 300)).toBe(200);
  const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html)?.[1];
  expect(action, "Keycloak's login form").toBeDefined();
  const form = await fetch(action!.replaceAll("&amp;", "&"), {
    method: "POST",
    redirect: "manual",
    headers: { cookie: browser.keycloak.header() },
    body: new URLSearchParams({ username: user.username, password: user.password, credentialId: "" }),
  });
  browser.keycloak.take(form);
  await form.body?.cancel();
  expect(form.status).toBe(302);
  return { authorize, loginCookies, callback: new URL(form.headers.get("location")!) };
}

/** Follows Keycloak's redirect to `/auth/callback` with the browser's cookies: where Colink sends it next, and its cookies. */
async function followCallback(
  browser: Browser,
  callback: URL,
): Promise<{ location: string; setCookies: string[] }> {
  const res = await fetch(callback, { redirect: "manual", headers: { cookie: browser.colink.header() } });
  await res.body?.cancel();
  expect(res.status).toBe(302);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return { location: res.headers.get("location")!, setCookies: browser.colink.take(res) };
}

/** A whole sign-in: a browser holding Colink's session cookie. */
async function signedInBrowser(base: string, user: { username: string; password: string }): Promise<Browser> {
  const browser = newBrowser();
  const { callback } = await startSignIn(base, browser, user);
  const { location } = await followCallback(browser, callback);
  expect(location).toBe("/");
  expect(browser.colink.cookies.has("colink_session")).toBe(true);
  return browser;
}

/** `POST /auth/<what>` with the browser's Colink cookies. */
async function post(
  base: string,
  browser: Browser,
  what: "refresh" | "logout",
): Promise<{ status: number; body: Record<string, unknown>; setCookies: string[] }> {
  const res = await fetch(`${base}/auth/${what}`, {
    method: "POST",
    headers: { cookie: browser.colink.header() },
  });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body, setCookies: browser.colink.take(res) };
}

/** A fresh access token of the browser's session. */
async function accessTokenOf(base: string, browser: Browser): Promise<string> {
  const { status, body } = await post(base, browser, "refresh");
  expect(status, JSON.stringify(body)).toBe(200);
  return body.accessToken as string;
}

/** A connected SDK client with `token`, and how it closed (once it has). */
async function connect(
  wsUrl: string,
  token: string,
): Promise<{ client: ColinkClient; closed: Promise<{ code: number; reason: string }> }> {
  const client = new ColinkClient({ url: wsUrl, token, autoReconnect: false });
  clients.push(client);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    client.once("close", (code, reason) => resolve({ code, reason })),
  );
  await client.connect();
  return { client, closed };
}

/** How a connection with `token` ends: the user (`user.me`), or the server's close. */
async function wsMe(wsUrl: string, token: string): Promise<Record<string, unknown>> {
  const client = new ColinkClient({ url: wsUrl, token, autoReconnect: false });
  clients.push(client);
  const closed = new Promise<Record<string, unknown>>((resolve) =>
    client.once("close", (code, reason) => resolve({ closed: code, reason })),
  );
  try {
    await client.connect();
    return (await client.request("user.me", {})) as Record<string, unknown>;
  } catch {
    return closed;
  }
}

/** `POST /auth/introspect {token}` as `caller`. */
async function introspect(
  base: string,
  caller: string | null,
  token: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/auth/introspect`, {
    method: "POST",
    headers: caller === null ? {} : { authorization: `Bearer ${caller}` },
    body: JSON.stringify({ token }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Whether Keycloak still holds the session of `accessToken` (its own introspection, as api-gateway). */
async function activeAtKeycloak(accessToken: string): Promise<boolean> {
  const res = await fetch(`${keycloak.issuer}/protocol/openid-connect/token/introspect`, {
    method: "POST",
    body: new URLSearchParams({
      token: accessToken,
      client_id: realmClients.apiGateway.clientId,
      client_secret: realmClients.apiGateway.secret,
    }),
  });
  return ((await res.json()) as { active: boolean }).active;
}

/** An attribute list of a `Set-Cookie` line, lowercased, without the value. */
function attributesOf(line: string): string[] {
  return line
    .split(";")
    .slice(1)
    .map((a) => a.trim().toLowerCase())
    .sort();
}

const cookieLine = (lines: string[], name: string) => lines.find((l) => l.startsWith(`${name}=`))!;

beforeAll(async () => {
  keycloak = await startKeycloak();
  server = await startServer("postgres", signOnEnv(keycloak));
}, 360_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.cleanup();
  await keycloak?.cleanup();
});

describe("single sign-on through /auth/login and /auth/callback", () => {
  it("/auth/config offers it, and /auth/login sends the browser to Keycloak with PKCE (S256), state and nonce", async () => {
    const config = await (await fetch(`${server.baseUrl}/auth/config`)).json();
    expect(config).toEqual({ devAuth: false, oidc: { issuer: keycloak.issuer, loginUrl: "/auth/login" } });

    const res = await fetch(`${server.baseUrl}/auth/login?returnTo=/c/C1`, { redirect: "manual" });
    await res.body?.cancel();
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get("location")!);
    expect(`${to.origin}${to.pathname}`).toBe(`${keycloak.issuer}/protocol/openid-connect/auth`);
    const params = Object.fromEntries(to.searchParams);
    expect(params).toMatchObject({
      response_type: "code",
      client_id: "web-app",
      redirect_uri: `${server.baseUrl}/auth/callback`,
      code_challenge_method: "S256",
    });
    expect(params.scope!.split(" ")).toContain("openid");
    for (const random of [params.state, params.nonce, params.code_challenge])
      expect(random).toMatch(/^[\w-]{43}$/);
    const [login] = res.headers.getSetCookie();
    expect(login).toMatch(/^colink_login=[\w-]+;/);
    expect(attributesOf(login!)).toEqual(["httponly", "max-age=600", "path=/auth/callback", "samesite=lax"]);
    // Sealed: neither the state nor the verifier can be read from it.
    expect(login).not.toContain(params.state);
  });

  it.each(["member", "guest"] as const)(
    "%s: signs in with the password on Keycloak's page; the session cookie is sealed and HttpOnly; /auth/refresh gives a token the WebSocket takes",
    async (role) => {
      const user = realmUsers[role];
      const browser = newBrowser();
      const { callback } = await startSignIn(server.baseUrl, browser, user, "/c/C42?x=1");
      expect(`${callback.origin}${callback.pathname}`).toBe(`${server.baseUrl}/auth/callback`);
      expect(callback.searchParams.get("iss")).toBe(keycloak.issuer);

      const { location, setCookies } = await followCallback(browser, callback);
      expect(location).toBe("/c/C42?x=1");
      expect(attributesOf(cookieLine(setCookies, "colink_login"))).toContain("max-age=0");
      const session = cookieLine(setCookies, "colink_session");
      const attributes = attributesOf(session);
      expect(attributes).toEqual(expect.arrayContaining(["httponly", "path=/auth", "samesite=strict"]));
      // As long as the refresh token: the realm's session idle time, 30 minutes.
      const maxAge = Number(attributes.find((a) => a.startsWith("max-age="))!.slice(8));
      expect(maxAge).toBeGreaterThan(1790);
      expect(maxAge).toBeLessThanOrEqual(1800);
      // No JWT in the clear (a refresh token starts with "eyJ" like any JWT).
      expect(session).not.toContain("eyJ");

      const { status, body, setCookies: renewed } = await post(server.baseUrl, browser, "refresh");
      expect(status).toBe(200);
      expect(body).toMatchObject({ user: { username: user.username, role } });
      expect(body.expiresAt).toBeGreaterThan(Date.now() + 200_000);
      expect(cookieLine(renewed, "colink_session")).toBeDefined();
      const token = body.accessToken as string;
      expect(decodeJwt(token)).toMatchObject({ iss: keycloak.issuer, azp: "web-app" });
      expect(await wsMe(server.wsUrl, token)).toMatchObject({ user: { username: user.username, role } });
      // A second refresh works too (with the cookie the first one renewed).
      expect(decodeJwt(await accessTokenOf(server.baseUrl, browser)).sid).toBe(decodeJwt(token).sid);
    },
  );

  it("a returnTo that would leave the site goes to / instead", async () => {
    const browser = newBrowser();
    const { callback } = await startSignIn(server.baseUrl, browser, realmUsers.member, "//evil.example/x");
    expect((await followCallback(browser, callback)).location).toBe("/");
  });

  it("refuses a callback whose state is not the sign-in's, one without the login cookie, and a code used twice", async () => {
    const refused = (r: { location: string; setCookies: string[] }) => {
      expect(r.location).toMatch(/^\/signin\?error=/);
      expect(r.setCookies.some((l) => l.startsWith("colink_session="))).toBe(false);
      return new URLSearchParams(r.location.split("?")[1]).get("error");
    };

    // Another state: the login cookie of this browser names a different one.
    const mismatched = newBrowser();
    const first = await startSignIn(server.baseUrl, mismatched, realmUsers.member);
    const forged = new URL(first.callback);
    forged.searchParams.set("state", "A".repeat(43));
    expect(refused(await followCallback(mismatched, forged))).toBe("mismatch");

    // Another browser's callback: no login cookie here (a login CSRF).
    const victim = newBrowser();
    expect(refused(await followCallback(victim, first.callback))).toBe("expired");

    // The code, used once, then replayed with the very same login cookie.
    const replayer = newBrowser();
    const { callback } = await startSignIn(server.baseUrl, replayer, realmUsers.member);
    const loginCookie = replayer.colink.header();
    expect((await followCallback(replayer, callback)).location).toBe("/");
    const replay = newBrowser();
    replay.colink.take(new Response(null, { headers: { "set-cookie": loginCookie } }));
    expect(refused(await followCallback(replay, callback))).toBe("refused");
    // The log says why; the page is told only the reason's code.
    await expect
      .poll(() => server.output())
      .toMatch(/"reason":"refused","details":"the identity provider refused the sign-in code: [^"]+"/);

    // Keycloak's own refusal comes back as an error too.
    const denied = newBrowser();
    const under = await startSignIn(server.baseUrl, denied, realmUsers.member);
    const error = new URL(`${server.baseUrl}/auth/callback`);
    error.search = new URLSearchParams({
      state: under.callback.searchParams.get("state")!,
      error: "access_denied",
      error_description: "the user said no",
    }).toString();
    expect(refused(await followCallback(denied, error))).toBe("refused");

    // Another issuer named in the response (a mix-up), with this browser's state.
    const mixed = newBrowser();
    const other = await startSignIn(server.baseUrl, mixed, realmUsers.member);
    const mixUp = new URL(other.callback);
    mixUp.searchParams.set("iss", keycloak.issuerOf("elsewhere"));
    expect(refused(await followCallback(mixed, mixUp))).toBe("mismatch");
  });

  it("without a session cookie, or with one that is not this server's, /auth/refresh is 401", async () => {
    const none = await post(server.baseUrl, newBrowser(), "refresh");
    expect(none).toMatchObject({ status: 401, body: { error: { code: "unauthenticated" } } });
    const forged = newBrowser();
    forged.colink.cookies.set("colink_session", "A".repeat(200));
    expect((await post(server.baseUrl, forged, "refresh")).status).toBe(401);
  });

  it("a session Keycloak ended: /auth/refresh is 401 and clears the cookie, and its sockets are closed", async () => {
    const browser = await signedInBrowser(server.baseUrl, realmUsers.member);
    const token = await accessTokenOf(server.baseUrl, browser);
    const socket = await connect(server.wsUrl, token);
    await adminApi(keycloak, "DELETE", `/${colinkRealm}/sessions/${decodeJwt(token).sid}`);
    const { status, body, setCookies } = await post(server.baseUrl, browser, "refresh");
    expect(status).toBe(401);
    expect(body).toMatchObject({
      error: { code: "unauthenticated", message: expect.stringMatching(/refused/) },
    });
    expect(attributesOf(cookieLine(setCookies, "colink_session"))).toContain("max-age=0");
    expect(await socket.closed).toEqual({ code: 4005, reason: "signed out" });
  });
});

describe("an account a Colink admin deactivated", () => {
  it("gets no token: its session's refresh is 401, and a new sign-in comes back to /signin?error=deactivated", async () => {
    const user = realmUsers.moderator;
    const browser = await signedInBrowser(server.baseUrl, user);
    const token = await accessTokenOf(server.baseUrl, browser);
    const me = await fetch(`${server.baseUrl}/v1/users/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const userId = ((await me.json()) as { user: { id: string } }).user.id;
    const admin = await accessTokenOf(
      server.baseUrl,
      await signedInBrowser(server.baseUrl, realmUsers.admin),
    );
    const account = (change: "deactivate" | "reactivate") =>
      fetch(`${server.baseUrl}/v1/admin/users/${userId}/${change}`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin}` },
      });
    expect((await account("deactivate")).status).toBe(200);
    try {
      expect(await post(server.baseUrl, browser, "refresh")).toMatchObject({
        status: 401,
        body: { error: { code: "unauthenticated", details: { reason: "deactivated" } } },
      });
      const again = newBrowser();
      const { callback } = await startSignIn(server.baseUrl, again, user);
      const { location, setCookies } = await followCallback(again, callback);
      expect(location).toBe("/signin?error=deactivated");
      expect(setCookies.filter((l) => l.startsWith("colink_session="))).toEqual([]);
    } finally {
      expect((await account("reactivate")).status).toBe(200);
    }
  });
});

describe("POST /auth/logout", () => {
  it("revokes at Keycloak, closes that session's sockets with 4005 (not another session's), and its tokens are refused after", async () => {
    const user = realmUsers.moderator;
    const leaving = await signedInBrowser(server.baseUrl, user);
    const staying = await signedInBrowser(server.baseUrl, user);
    const leavingToken = await accessTokenOf(server.baseUrl, leaving);
    const stayingToken = await accessTokenOf(server.baseUrl, staying);
    expect(decodeJwt(leavingToken).sid).not.toBe(decodeJwt(stayingToken).sid);
    const tabs = [await connect(server.wsUrl, leavingToken), await connect(server.wsUrl, leavingToken)];
    const other = await connect(server.wsUrl, stayingToken);

    const { status, body, setCookies } = await post(server.baseUrl, leaving, "logout");
    expect(status).toBe(200);
    expect(body).toEqual({ revoked: true });
    expect(attributesOf(cookieLine(setCookies, "colink_session"))).toContain("max-age=0");
    for (const tab of tabs) expect(await tab.closed).toEqual({ code: 4005, reason: "signed out" });
    // The other session is untouched.
    expect(await other.client.request("user.me", {})).toMatchObject({ user: { username: user.username } });
    expect(await activeAtKeycloak(stayingToken)).toBe(true);

    // At Keycloak the session is over.
    expect(await activeAtKeycloak(leavingToken)).toBe(false);
    // Its access token, though unexpired, opens nothing here any more.
    expect(await wsMe(server.wsUrl, leavingToken)).toEqual({ closed: 4001, reason: "session signed out" });
    const http = await fetch(`${server.baseUrl}/v1/users/me`, {
      headers: { authorization: `Bearer ${leavingToken}` },
    });
    expect(http.status).toBe(401);
    // Without a session cookie there is nothing to revoke.
    const again = await fetch(`${server.baseUrl}/auth/logout`, { method: "POST" });
    expect(await again.json()).toEqual({ revoked: false });
  });

  it("a cookie kept after logout refreshes nothing", async () => {
    const browser = await signedInBrowser(server.baseUrl, realmUsers.member);
    const kept = browser.colink.header();
    expect((await post(server.baseUrl, browser, "logout")).status).toBe(200);
    const res = await fetch(`${server.baseUrl}/auth/refresh`, { method: "POST", headers: { cookie: kept } });
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });

  it("after logout, /auth/login asks for the password again (Keycloak's own session ended too)", async () => {
    const browser = await signedInBrowser(server.baseUrl, realmUsers.member);
    expect((await post(server.baseUrl, browser, "logout")).status).toBe(200);
    const login = await fetch(`${server.baseUrl}/auth/login`, { redirect: "manual" });
    await login.body?.cancel();
    const page = await fetch(login.headers.get("location")!, {
      redirect: "manual",
      headers: { cookie: browser.keycloak.header() },
    });
    // A live Keycloak session would redirect straight back (302); an ended one shows the form.
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("kc-form-login");
  });
});

describe("POST /auth/introspect", () => {
  it("tells service-internal whether a token is active, and whose it is", async () => {
    const service = (
      await clientCredentialsGrant(
        keycloak,
        realmClients.serviceInternal.clientId,
        realmClients.serviceInternal.secret,
      )
    ).accessToken;
    const { accessToken } = await passwordGrant(
      keycloak,
      realmUsers.admin.username,
      realmUsers.admin.password,
    );
    const claims = decodeJwt(accessToken);
    expect(await introspect(server.baseUrl, service, accessToken)).toEqual({
      status: 200,
      body: {
        active: true,
        sub: claims.sub,
        username: realmUsers.admin.username,
        name: realmUsers.admin.name,
        role: "admin",
        iss: keycloak.issuer,
        aud: claims.aud,
        exp: claims.exp,
        iat: claims.iat,
        client_id: "web-app",
        sid: claims.sid,
        scope: claims.scope,
        token_type: "Bearer",
      },
    });
    for (const inactive of ["garbage", `${accessToken.slice(0, -4)}AAAA`]) {
      expect(await introspect(server.baseUrl, service, inactive)).toEqual({
        status: 200,
        body: { active: false },
      });
    }
    // A token of a signed-out session is inactive.
    const browser = await signedInBrowser(server.baseUrl, realmUsers.guest);
    const token = await accessTokenOf(server.baseUrl, browser);
    expect((await introspect(server.baseUrl, service, token)).body).toMatchObject({
      active: true,
      role: "guest",
    });
    await post(server.baseUrl, browser, "logout");
    expect((await introspect(server.baseUrl, service, token)).body).toEqual({ active: false });
  });

  it("refuses callers that are not in COLINK_OIDC_INTROSPECT_CLIENTS", async () => {
    const { accessToken } = await passwordGrant(
      keycloak,
      realmUsers.admin.username,
      realmUsers.admin.password,
    );
    // A user's token (azp web-app), even an admin's.
    expect(await introspect(server.baseUrl, accessToken, accessToken)).toMatchObject({
      status: 403,
      body: { error: { code: "forbidden" } },
    });
    expect((await introspect(server.baseUrl, null, accessToken)).status).toBe(401);
    // api-gateway's own token is not for Colink (no audience colink).
    const gateway = (
      await clientCredentialsGrant(keycloak, realmClients.apiGateway.clientId, realmClients.apiGateway.secret)
    ).accessToken;
    expect((await introspect(server.baseUrl, gateway, accessToken)).status).toBe(401);
  });
});

describe("a guest with a Keycloak token", () => {
  it("sees only the channels it was invited to, cannot create channels or open DMs, and searches only its channels", async () => {
    const token = async (role: "member" | "guest") =>
      (await passwordGrant(keycloak, realmUsers[role].username, realmUsers[role].password)).accessToken;
    const { client: max } = await connect(server.wsUrl, await token("member"));
    const { client: gus } = await connect(server.wsUrl, await token("guest"));
    const { user: gusUser } = (await gus.request("user.me", {})) as { user: { id: string; role: string } };
    const { user: maxUser } = (await max.request("user.me", {})) as { user: { id: string } };
    expect(gusUser.role).toBe("guest");
    const word = `kiwi${Math.random().toString(36).slice(2, 8)}`;
    const { channel: open } = await max.request("ch.create", { name: `open-${word}`, kind: "public" });
    const { channel: invited } = await max.request("ch.create", { name: `guests-${word}`, kind: "private" });
    await max.request("ch.invite", { channelId: invited.id, userId: gusUser.id });
    await max.send(open.id, `${word} in the open`);
    await max.send(invited.id, `${word} for guests`);

    const { channels } = await gus.request("ch.list", { includePublic: true });
    expect(channels.map((c: { id: string }) => c.id)).toEqual([invited.id]);
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => e,
      );
    for (const [name, attempt] of [
      ["ch.join", refusal(gus.request("ch.join", { channelId: open.id }))],
      ["msg.history", refusal(gus.request("msg.history", { channelId: open.id }))],
      ["ch.create", refusal(gus.request("ch.create", { name: `gus-${word}`, kind: "public" }))],
      ["dm.open", refusal(gus.request("dm.open", { userIds: [maxUser.id] }))],
    ] as const) {
      const err = await attempt;
      expect(err, name).toBeInstanceOf(ColinkRequestError);
      expect(["forbidden", "not_found"], name).toContain((err as ColinkRequestError).code);
    }
    const found = async (client: ColinkClient) =>
      ((await client.request("search", { q: word, limit: 50 })).hits as Array<{ channelId: string }>)
        .map((h) => h.channelId)
        .sort();
    // Once the member finds both (the index has caught up), the guest finds only its channel's.
    await expect.poll(() => found(max), { timeout: 15_000 }).toEqual([open.id, invited.id].sort());
    expect(await found(gus)).toEqual([invited.id]);
    // Naming the public channel finds nothing in it.
    expect((await gus.request("search", { q: word, channelId: open.id })).hits).toEqual([]);
  });
});

describe("in a cluster", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster(2, { shards: 64, env: signOnEnv(keycloak) });
    await clusterSettled(cluster.nodes, cluster.redis.url, { shards: 64 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.cleanup();
  });

  it("a logout on one node closes the session's sockets on the other, which refuses its tokens after", async () => {
    const [a, b] = cluster.nodes as [TestServer, TestServer];
    const browser = await signedInBrowser(a.baseUrl, realmUsers.member);
    // The sealed cookie opens on either node (one key in the shared database).
    const token = await accessTokenOf(b.baseUrl, browser);
    const onB = await connect(b.wsUrl, token);
    expect((await post(a.baseUrl, browser, "logout")).body).toEqual({ revoked: true });
    expect(await onB.closed).toEqual({ code: 4005, reason: "signed out" });
    expect(await wsMe(b.wsUrl, token)).toEqual({ closed: 4001, reason: "session signed out" });
  });
});
