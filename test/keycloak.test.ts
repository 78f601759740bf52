/**
 * Sign-in with a real Keycloak (issue 22): Keycloak 26 with the realm Colink ships
 * (deploy/keycloak/realm-colink.json) and a Colink on Postgres that trusts only that realm
 * (COLINK_DEV_AUTH=off). Tokens come from Keycloak itself: direct grants for the realm's
 * test users, a client-credentials grant, the code + PKCE flow driven by HTTP requests,
 * a realm of another name, a client whose tokens are born expired, and a rotated realm key.
 */
import { readFileSync } from "node:fs";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ColinkClient, ColinkRequestError } from "../client/index.js";
import { startServer, type TestServer } from "./harness.js";
import {
  activeSigningKid,
  adminApi,
  clientCredentialsGrant,
  codeFlowSignIn,
  colinkRealm,
  colinkRealmFile,
  passwordGrant,
  pkcePair,
  realmClients,
  realmUsers,
  rotateRealmKey,
  startKeycloak,
  type TestKeycloak,
} from "./support/keycloak.js";

/** Colink's audience (COLINK_OIDC_AUDIENCE), which the realm's audience mapper puts in `aud`. */
const audience = "colink";
/** The least time between two JWKS fetches of Colink's verifier (cooldownDuration in adapters/oidc/remote-jwks.ts). */
const jwksCooldownMs = 1_000;
const siteRoles = ["admin", "moderator", "member", "guest"] as const;

let keycloak: TestKeycloak;
let server: TestServer;
/** When the server had verified its first Keycloak token, so had fetched the realm's JWKS. */
let firstVerifiedAt = 0;
const clients: ColinkClient[] = [];

/** A connected SDK client with `token`. */
async function connect(token: string): Promise<ColinkClient> {
  const client = new ColinkClient({ url: server.wsUrl, token, autoReconnect: false });
  clients.push(client);
  await client.connect();
  return client;
}

/**
 * What the server answers a WebSocket with `token`: the user (`user.me`), or the close of
 * a refused token (the upgrade succeeds, then the server closes with 4001 and the reason).
 */
async function wsMe(
  token: string,
): Promise<{ user: Record<string, unknown> } | { closed: number; reason: string }> {
  const client = new ColinkClient({ url: server.wsUrl, token, autoReconnect: false });
  clients.push(client);
  const closed = new Promise<{ closed: number; reason: string }>((resolve) => {
    client.once("close", (code, reason) => resolve({ closed: code, reason }));
  });
  try {
    await client.connect();
    return (await client.request("user.me", {})) as { user: Record<string, unknown> };
  } catch (err) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`user.me failed without a close: ${String(err)}`)), 10_000);
    });
    return Promise.race([closed, timeout]).finally(() => clearTimeout(timer));
  }
}

/** `GET /v1/users/me` with `token`: the status and the body (its error message says why a token is refused). */
async function httpMe(token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.baseUrl}/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

/** A user made in the colink realm for one test (a verified email and a name, so no profile step), with its id. */
async function createUser(
  username: string,
  requiredActions: string[] = [],
): Promise<{ id: string; username: string; password: string }> {
  const password = `${username}-password`;
  const { location } = await adminApi(keycloak, "POST", `/${colinkRealm}/users`, {
    username,
    enabled: true,
    emailVerified: true,
    email: `${username}@colink.test`,
    firstName: username,
    lastName: "Test",
    credentials: [{ type: "password", value: password, temporary: false }],
    requiredActions,
  });
  return { id: location!.split("/").pop()!, username, password };
}

/** Gives a user of the colink realm one more realm role. */
async function grantRealmRole(userId: string, role: string): Promise<void> {
  const { body } = await adminApi<Representation>(keycloak, "GET", `/${colinkRealm}/roles/${role}`);
  await adminApi(keycloak, "POST", `/${colinkRealm}/users/${userId}/role-mappings/realm`, [body]);
}

type Representation = Record<string, unknown>;
/** The realm Colink ships, to build another realm with the same client and user. */
const shippedRealm = JSON.parse(readFileSync(colinkRealmFile, "utf8")) as {
  clients: Representation[];
  users: Representation[];
};
const shippedClient = (clientId: string) => shippedRealm.clients.find((c) => c.clientId === clientId)!;
const shippedUser = (username: string) => shippedRealm.users.find((u) => u.username === username)!;

beforeAll(async () => {
  keycloak = await startKeycloak();
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${keycloak.pid}/status`, "utf8"))?.[1] ?? 0);
  console.info(`Keycloak ready in ${keycloak.startupMs} ms, RSS ${Math.round(rssKb / 1024)} MB`);
  server = await startServer("postgres", {
    COLINK_DEV_AUTH: "off",
    COLINK_OIDC_ISSUER: keycloak.issuer,
    COLINK_OIDC_AUDIENCE: audience,
  });
  // The first verification fetches the realm's JWKS; the rotation test counts from it.
  const first = await clientCredentialsGrant(
    keycloak,
    realmClients.serviceInternal.clientId,
    realmClients.serviceInternal.secret,
  );
  expect((await httpMe(first.accessToken)).status).toBe(200);
  firstVerifiedAt = Date.now();
}, 360_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.cleanup();
  await keycloak?.cleanup();
});

describe("tokens of the colink realm", () => {
  it.each(siteRoles)(
    "%s: a direct grant's token connects, and user.me shows who and which site role",
    async (role) => {
      const user = realmUsers[role];
      const { accessToken } = await passwordGrant(keycloak, user.username, user.password);
      const claims = decodeJwt(accessToken);
      // What the realm puts in the token, and Colink reads.
      expect(claims.iss).toBe(keycloak.issuer);
      expect([claims.aud].flat()).toContain(audience);
      expect((claims.realm_access as { roles: string[] }).roles).toContain(role);
      expect(claims).toMatchObject({ preferred_username: user.username, name: user.name, azp: "web-app" });

      const client = await connect(accessToken);
      const { user: me } = await client.request("user.me", {});
      expect(me).toMatchObject({ id: claims.sub, username: user.username, displayName: user.name, role });
    },
  );

  it("a guest cannot create a channel; a member can", async () => {
    const guest = await connect(
      (await passwordGrant(keycloak, realmUsers.guest.username, realmUsers.guest.password)).accessToken,
    );
    const refused = await guest.request("ch.create", { name: "guest-room", kind: "public" }).catch((e) => e);
    expect(refused).toBeInstanceOf(ColinkRequestError);
    expect(refused).toMatchObject({ code: "forbidden" });
    const member = await connect(
      (await passwordGrant(keycloak, realmUsers.member.username, realmUsers.member.password)).accessToken,
    );
    const { channel } = await member.request("ch.create", { name: "member-room", kind: "public" });
    expect(channel).toMatchObject({ name: "member-room", kind: "public" });
  });

  it("service-internal's client-credentials token is accepted as its service account, a member", async () => {
    const { accessToken } = await clientCredentialsGrant(
      keycloak,
      realmClients.serviceInternal.clientId,
      realmClients.serviceInternal.secret,
    );
    expect(await wsMe(accessToken)).toMatchObject({
      user: { username: "service-account-service-internal", role: "member" },
    });
  });

  it("a token without Colink's audience (api-gateway's own) is refused", async () => {
    const { accessToken } = await clientCredentialsGrant(
      keycloak,
      realmClients.apiGateway.clientId,
      realmClients.apiGateway.secret,
    );
    expect([decodeJwt(accessToken).aud].flat()).not.toContain(audience);
    expect(await wsMe(accessToken)).toEqual({ closed: 4001, reason: "token audience mismatch" });
    expect(await httpMe(accessToken)).toMatchObject({
      status: 401,
      body: { error: { code: "unauthenticated", message: "token audience mismatch" } },
    });
  });

  // The audience is checked for every issuer: COLINK_OIDC_AUDIENCE defaults to "colink".
  // (Before, with it unset, OIDC tokens were verified without an audience, and any token of
  // the realm, here api-gateway's own, signed in.)
  it("with COLINK_OIDC_AUDIENCE unset, a token without the audience colink is still refused", async () => {
    const { accessToken } = await clientCredentialsGrant(
      keycloak,
      realmClients.apiGateway.clientId,
      realmClients.apiGateway.secret,
    );
    const lenient = await startServer("pglite", {
      COLINK_DEV_AUTH: "off",
      COLINK_OIDC_ISSUER: keycloak.issuer,
    });
    try {
      const res = await fetch(`${lenient.baseUrl}/v1/users/me`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(res.status).toBe(401);
    } finally {
      await lenient.cleanup();
    }
  });

  it("a token from another realm of the same Keycloak (same client, user and audience) is refused", async () => {
    await adminApi(keycloak, "POST", "", {
      realm: "elsewhere",
      enabled: true,
      roles: { realm: [{ name: "member" }] },
      clients: [shippedClient("web-app")],
      users: [{ ...shippedUser(realmUsers.member.username), realmRoles: ["member"] }],
    });
    const { accessToken } = await passwordGrant(
      keycloak,
      realmUsers.member.username,
      realmUsers.member.password,
      "web-app",
      "elsewhere",
    );
    const claims = decodeJwt(accessToken);
    expect(claims.iss).toBe(keycloak.issuerOf("elsewhere"));
    expect([claims.aud].flat()).toContain(audience);
    expect(await wsMe(accessToken)).toEqual({ closed: 4001, reason: "token issuer not accepted" });
    expect(await httpMe(accessToken)).toMatchObject({
      status: 401,
      body: { error: { code: "unauthenticated", message: "token issuer not accepted" } },
    });
  });

  it("an expired token is refused", async () => {
    // A client whose tokens expire two minutes before they are issued: beyond Colink's
    // 30 s clock tolerance, so no waiting.
    await adminApi(keycloak, "POST", `/${colinkRealm}/clients`, {
      clientId: "born-expired",
      publicClient: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: true,
      attributes: { "access.token.lifespan": "-120" },
      protocolMappers: shippedClient("web-app").protocolMappers,
    });
    const { accessToken, expiresIn } = await passwordGrant(
      keycloak,
      realmUsers.member.username,
      realmUsers.member.password,
      "born-expired",
    );
    expect(expiresIn).toBeLessThan(0);
    expect(decodeJwt(accessToken).exp! * 1000).toBeLessThan(Date.now() - 60_000);
    expect(await wsMe(accessToken)).toEqual({ closed: 4001, reason: "token expired" });
    expect(await httpMe(accessToken)).toMatchObject({
      status: 401,
      body: { error: { code: "unauthenticated", message: "token expired" } },
    });
  });
});

describe("without COLINK_OIDC_WEB_CLIENT_ID", () => {
  it("no single sign-on: /auth/config offers none, and the browser's sign-in routes are 404", async () => {
    expect(await (await fetch(`${server.baseUrl}/auth/config`)).json()).toEqual({
      devAuth: false,
      oidc: null,
    });
    for (const [method, path] of [
      ["GET", "/auth/login"],
      ["GET", "/auth/callback?state=s&code=c"],
      ["POST", "/auth/refresh"],
      ["POST", "/auth/logout"],
    ]) {
      const res = await fetch(`${server.baseUrl}${path}`, { method, redirect: "manual" });
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toMatchObject({ error: { code: "not_found" } });
    }
  });
});

describe("the web-app client", () => {
  it("signs in with code + PKCE (S256) on a loopback redirect of any port, and Colink accepts the token", async () => {
    const redirectUri = `http://127.0.0.1:${40_000 + Math.floor(Math.random() * 20_000)}/auth/callback`;
    const { callback, tokens } = await codeFlowSignIn(keycloak, {
      username: realmUsers.moderator.username,
      password: realmUsers.moderator.password,
      redirectUri,
    });
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    expect(callback.searchParams.get("iss")).toBe(keycloak.issuer);
    expect(tokens.refreshToken).toEqual(expect.any(String));
    expect(await wsMe(tokens.accessToken)).toMatchObject({
      user: { username: realmUsers.moderator.username, role: "moderator" },
    });
  });

  it("refuses an authorization request without PKCE, and a redirect URI it does not know", async () => {
    const authorize = (params: Record<string, string>) =>
      fetch(
        `${keycloak.url}/realms/${colinkRealm}/protocol/openid-connect/auth?${new URLSearchParams({
          client_id: "web-app",
          response_type: "code",
          scope: "openid",
          state: "s",
          ...params,
        })}`,
        { redirect: "manual" },
      );
    const noPkce = await authorize({ redirect_uri: "http://localhost:8080/auth/callback" });
    expect(noPkce.status).toBe(302);
    const back = new URL(noPkce.headers.get("location")!);
    expect(back.searchParams.get("error")).toBe("invalid_request");
    expect(back.searchParams.get("error_description")).toMatch(/code_challenge/);
    const { challenge } = pkcePair();
    const pkce = { code_challenge: challenge, code_challenge_method: "S256" };
    for (const elsewhere of [
      "http://localhost:9999/auth/callback",
      "http://127.0.0.1:8080/elsewhere",
      "http://127.0.0.1:8080/signin/callback",
      "https://evil.example/auth/callback",
    ]) {
      const res = await authorize({ redirect_uri: elsewhere, ...pkce });
      expect(res.status, elsewhere).toBe(400);
      await res.body?.cancel();
    }
    const plain = await authorize({
      redirect_uri: "http://localhost:8080/auth/callback",
      code_challenge: "x".repeat(43),
      code_challenge_method: "plain",
    });
    expect(new URL(plain.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");
  });
});

describe("the realm's settings", () => {
  it("the default role holds none of Colink's: a new user is a member, and a guest who keeps the default role is a guest", async () => {
    const composites = await adminApi<Array<{ name: string }>>(
      keycloak,
      "GET",
      `/${colinkRealm}/roles/default-roles-colink/composites/realm`,
    );
    expect(composites.body.map((r) => r.name).filter((n) => siteRoles.includes(n as never))).toEqual([]);
    const nina = await createUser("new-nina");
    const token = async () => (await passwordGrant(keycloak, nina.username, nina.password)).accessToken;
    const first = await token();
    expect((decodeJwt(first).realm_access as { roles: string[] }).roles).toContain("default-roles-colink");
    expect(await wsMe(first)).toMatchObject({ user: { username: "new-nina", role: "member" } });
    await grantRealmRole(nina.id, "guest");
    expect(await wsMe(await token())).toMatchObject({ user: { username: "new-nina", role: "guest" } });
  });

  it("each test user holds exactly its Colink role", async () => {
    for (const role of siteRoles) {
      const { accessToken } = await passwordGrant(
        keycloak,
        realmUsers[role].username,
        realmUsers[role].password,
      );
      const held = (decodeJwt(accessToken).realm_access as { roles: string[] }).roles;
      expect(
        held.filter((r) => siteRoles.includes(r as never)),
        role,
      ).toEqual([role]);
    }
  });

  it("TOTP is an enabled required action that the test admin does not have", async () => {
    const totp = await adminApi<Record<string, unknown>>(
      keycloak,
      "GET",
      `/${colinkRealm}/authentication/required-actions/CONFIGURE_TOTP`,
    );
    expect(totp.body).toMatchObject({ enabled: true, defaultAction: false });
    const realm = await adminApi<Record<string, unknown>>(keycloak, "GET", `/${colinkRealm}`);
    expect(realm.body).toMatchObject({ otpPolicyType: "totp", otpPolicyDigits: 6, otpPolicyPeriod: 30 });
    const [admin] = (
      await adminApi<Array<{ requiredActions: string[]; totp: boolean }>>(
        keycloak,
        "GET",
        `/${colinkRealm}/users?exact=true&username=${realmUsers.admin.username}`,
      )
    ).body;
    expect(admin).toMatchObject({ requiredActions: [], totp: false });
  });

  it("an admin given the TOTP required action must set up an authenticator before signing in", async () => {
    const otto = await createUser("admin-otto", ["CONFIGURE_TOTP"]);
    await grantRealmRole(otto.id, "admin");
    // The browser flow stops at the authenticator's setup page instead of going back to Colink.
    const { challenge } = pkcePair();
    const authorize = new URL(`${keycloak.issuer}/protocol/openid-connect/auth`);
    authorize.search = new URLSearchParams({
      client_id: "web-app",
      response_type: "code",
      scope: "openid",
      redirect_uri: "http://localhost:8080/auth/callback",
      state: "s",
      code_challenge: challenge,
      code_challenge_method: "S256",
    }).toString();
    const page = await fetch(authorize, { redirect: "manual" });
    const cookies = page.headers
      .getSetCookie()
      .map((l) => l.split(";")[0])
      .join("; ");
    const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(await page.text())![1]!;
    const login = await fetch(action.replaceAll("&amp;", "&"), {
      method: "POST",
      redirect: "manual",
      headers: { cookie: cookies },
      body: new URLSearchParams({ username: otto.username, password: otto.password, credentialId: "" }),
    });
    // Keycloak sends the browser to the required action, not back to Colink with a code.
    expect(login.status).toBe(302);
    const next = new URL(login.headers.get("location")!);
    expect(next.pathname).toMatch(/\/login-actions\/required-action$/);
    expect(next.searchParams.get("execution")).toBe("CONFIGURE_TOTP");
    const setup = await fetch(next, {
      redirect: "manual",
      headers: { cookie: [cookies, ...login.headers.getSetCookie().map((l) => l.split(";")[0])].join("; ") },
    });
    expect(setup.status).toBe(200);
    expect(await setup.text()).toContain('id="kc-totp-settings-form"');
    // Nor does the password alone get a token.
    const grant = await fetch(`${keycloak.issuer}/protocol/openid-connect/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "password",
        client_id: "web-app",
        username: otto.username,
        password: otto.password,
      }),
    });
    expect(grant.status).toBe(400);
    expect(await grant.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("api-gateway introspects users' tokens and ends their sessions; web-app revokes its refresh tokens", async () => {
    const gateway = realmClients.apiGateway;
    const introspect = async (token: string) => {
      const res = await fetch(`${keycloak.issuer}/protocol/openid-connect/token/introspect`, {
        method: "POST",
        body: new URLSearchParams({ token, client_id: gateway.clientId, client_secret: gateway.secret }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, unknown>;
    };
    const refresh = (refreshToken: string) =>
      fetch(`${keycloak.issuer}/protocol/openid-connect/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "refresh_token",
          client_id: "web-app",
          refresh_token: refreshToken,
        }),
      });

    const session = await passwordGrant(keycloak, realmUsers.member.username, realmUsers.member.password);
    expect(await introspect(session.accessToken)).toMatchObject({
      active: true,
      username: realmUsers.member.username,
      client_id: "web-app",
    });
    // Its service account (realm-management: manage-users) ends the session the token names.
    const asGateway = {
      url: keycloak.url,
      adminToken: async () =>
        (await clientCredentialsGrant(keycloak, gateway.clientId, gateway.secret)).accessToken,
    };
    await adminApi(asGateway, "DELETE", `/${colinkRealm}/sessions/${decodeJwt(session.accessToken).sid}`);
    expect(await introspect(session.accessToken)).toMatchObject({ active: false });
    const refused = await refresh(session.refreshToken!);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "invalid_grant" });

    // Revocation (RFC 7009) only takes a token from the client it was issued to: web-app.
    const other = await passwordGrant(keycloak, realmUsers.member.username, realmUsers.member.password);
    const revoked = await fetch(`${keycloak.issuer}/protocol/openid-connect/revoke`, {
      method: "POST",
      body: new URLSearchParams({
        client_id: "web-app",
        token: other.refreshToken!,
        token_type_hint: "refresh_token",
      }),
    });
    expect(revoked.status).toBe(200);
    expect((await refresh(other.refreshToken!)).status).toBe(400);
  });
});

describe("realm key rotation", () => {
  let rotatedKid = "";

  it("a token signed with a new key (new kid) is accepted: the verifier refetches the JWKS", async () => {
    const before = await passwordGrant(keycloak, realmUsers.member.username, realmUsers.member.password);
    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    expect(oldKid).toBe(await activeSigningKid(keycloak));
    // Colink's verifier refetches the JWKS for an unknown kid at most once a second (its
    // cooldown): wait until that long after its first fetch.
    const wait = firstVerifiedAt + jwksCooldownMs + 1_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));

    rotatedKid = await rotateRealmKey(keycloak);
    const after = await passwordGrant(keycloak, realmUsers.member.username, realmUsers.member.password);
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(rotatedKid);
    expect(rotatedKid).not.toBe(oldKid);
    expect(await wsMe(after.accessToken)).toMatchObject({
      user: { username: realmUsers.member.username, role: "member" },
    });
    // The old key stays published: tokens signed before the rotation still work.
    expect(await wsMe(before.accessToken)).toMatchObject({ user: { role: "member" } });
  }, 120_000);

  // jose refetches the JWKS for an unknown kid at most once per `cooldownDuration`, now a
  // second (it was 30 s: a key rotated within 30 s of a fetch was refused that long).
  it("a second rotation soon after the first: its new kid is accepted within a second", async () => {
    expect(rotatedKid).not.toBe("");
    const kid = await rotateRealmKey(keycloak);
    const { accessToken } = await passwordGrant(
      keycloak,
      realmUsers.member.username,
      realmUsers.member.password,
    );
    expect(decodeProtectedHeader(accessToken).kid).toBe(kid);
    await expect
      .poll(async () => (await httpMe(accessToken)).status, { timeout: 3000, interval: 250 })
      .toBe(200);
  });
});
