/**
 * Single sign-on through the OIDC issuer (Keycloak), run by the server for the browser, so
 * that no refresh token ever reaches page scripts:
 * - `GET /auth/login` sends the browser to the issuer (code flow, PKCE S256, state, nonce),
 *   keeping what the callback needs in a sealed cookie;
 * - `GET /auth/callback` checks the state, trades the code, checks the tokens, and keeps the
 *   refresh token in the sealed session cookie (sign-in-cookies.ts), then goes back to the app;
 * - `POST /auth/refresh` answers a fresh access token for the cookie's session;
 * - `POST /auth/logout` revokes the session at the issuer and closes its WebSockets on
 *   every node;
 * - `POST /auth/introspect` tells an internal service whether a token is active, and whose.
 * uWS discipline: everything needed from `req` is copied before the first await.
 */
import { createHash, randomBytes } from "node:crypto";
import type { HttpRequest, HttpResponse, TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import { decodeJwt } from "jose";
import { ColinkError, fail, isDeactivated } from "../core/errors.js";
import type { OidcLogin, ProviderTokens } from "../core/ports.js";
import type { Principal } from "../core/types.js";
import { type AuthEdge, serveAuth } from "./auth-answers.js";
import { helloUser } from "./auth-routes.js";
import { clientAddressOf } from "./client-address.js";
import type { Header } from "./cors.js";
import type { Dispatcher } from "./dispatcher.js";
import { bodyMap, HttpFailure, type JsonAnswer } from "./http-json.js";
import { loginCookie, type SignInCookies, type SignInSession, sessionCookie } from "./sign-in-cookies.js";
import type { TokenSessions } from "./token-sessions.js";

/** What the sign-in routes are built from. */
export interface OidcRoutesOptions extends AuthEdge {
  /** The issuer's sign-in; null when COLINK_OIDC_WEB_CLIENT_ID is unset (the browser routes answer 404). */
  login: OidcLogin | null;
  /** The OIDC issuer (`iss`), or null when there is none. */
  issuer: string | null;
  /** Verifies tokens and knows their sessions (the server's one TokenSessions). */
  tokens: TokenSessions;
  cookies: SignInCookies;
  /** `scheme://host[:port]` the browser reaches the server at (COLINK_PUBLIC_URL); "" = from the `Host` header, over http. */
  publicUrl: string;
  /** Clients (`azp`) whose tokens may call `POST /auth/introspect`. */
  introspectClients: readonly string[];
  /** Ends a sign-in session here and on every other node: its tokens refused, its WebSockets closed. */
  endSession(userId: string, sid: string): void;
  dispatcher: Dispatcher;
}

/** Where a browser whose sign-in failed is sent, with why (`?error=<SignInFailure reason>`). */
const signInPage = "/signin";

/**
 * Why a sign-in failed, as the sign-in page is told: a code from this fixed list, never
 * free text (anyone can make a link to `/signin?error=…`; the page shows only its own
 * words for these). The details go to the log.
 */
export type SignInFailureReason =
  | "expired"
  | "mismatch"
  | "refused"
  | "deactivated"
  | "unavailable"
  | "failed";

/** A failed callback: the reason the page is told, and the details the log gets. */
class SignInFailure extends Error {
  constructor(
    readonly reason: SignInFailureReason,
    message: string,
  ) {
    super(message);
  }
}

/** The reason of a failure from the issuer or the token checks. */
function failureOf(err: unknown): SignInFailure {
  if (err instanceof SignInFailure) return err;
  // An account an admin deactivated: refused by the token check or by the user's actor.
  const refusal = err instanceof ColinkError ? err : err instanceof HttpFailure ? err.body : null;
  if (refusal && isDeactivated(refusal)) return new SignInFailure("deactivated", refusal.message);
  if (err instanceof ColinkError && err.code === "unauthenticated")
    return new SignInFailure("refused", err.message);
  if (err instanceof ColinkError && err.code === "unavailable")
    return new SignInFailure("unavailable", err.message);
  return new SignInFailure("failed", err instanceof Error ? err.message : String(err));
}
/** A session cookie's life when the issuer does not say how long its refresh token lives. */
const defaultSessionMs = 30 * 24 * 60 * 60_000;
/** Sign-in answers carry tokens or set the session: no cache may keep them. */
const noStore: Header = ["cache-control", "no-store"];

/** 32 random bytes, base64url (a state, a nonce or a PKCE verifier: 256 bits). */
function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The S256 challenge of a PKCE verifier (RFC 7636 §4.2). */
function codeChallengeOf(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

/**
 * Where to go after sign-in: a path of this site, or `/`. Anything that could leave the site
 * (`//host`, `/\host`, a scheme, control characters) is refused: an open redirect would let
 * a link through Colink's sign-in land on another site.
 */
export function safeReturnTo(raw: string | null): string {
  if (!raw || raw.length > 2048 || !raw.startsWith("/")) return "/";
  if (raw.startsWith("//") || raw.includes("\\")) return "/";
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return "/";
  }
  return raw;
}

/** The answer of the browser's sign-in routes without COLINK_OIDC_WEB_CLIENT_ID. */
function notConfigured(): ColinkError {
  return fail.notFound("single sign-on (COLINK_OIDC_WEB_CLIENT_ID is not set)");
}

/** A `Host` header as a browser sends it: a name or address and an optional port. */
const hostShape = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

/** The single sign-on routes under `/auth`. */
export class OidcRoutes {
  constructor(
    private readonly app: TemplatedApp,
    private readonly opts: OidcRoutesOptions,
  ) {}

  register(): void {
    this.app.get("/auth/login", (res, req) => this.login(res, req));
    this.app.get("/auth/callback", (res, req) => this.callback(res, req));
    this.app.post("/auth/refresh", (res, req) => {
      const cookie = req.getHeader("cookie");
      this.serve(res, req, false, "POST /auth/refresh", () => this.refresh(cookie));
    });
    this.app.post("/auth/logout", (res, req) => {
      const cookie = req.getHeader("cookie");
      this.serve(res, req, false, "POST /auth/logout", () => this.logout(cookie));
    });
    this.app.post("/auth/introspect", (res, req) => {
      const authorization = req.getHeader("authorization");
      this.serve(res, req, true, "POST /auth/introspect", (body) => this.introspect(authorization, body));
    });
  }

  private signIn(): OidcLogin {
    if (!this.opts.login) throw notConfigured();
    return this.opts.login;
  }

  /** `GET /auth/login?returnTo=/path`: to the issuer, with a new sign-in in the login cookie. */
  private login(res: HttpResponse, req: HttpRequest): void {
    const returnTo = safeReturnTo(req.getQuery("returnTo") ?? null);
    const host = req.getHeader("host");
    if (!this.opts.login || (!this.opts.publicUrl && !hostShape.test(host))) {
      const refusal = this.opts.login
        ? fail.badRequest("the Host header is not a host name (set COLINK_PUBLIC_URL)")
        : notConfigured();
      this.serve(res, req, false, "GET /auth/login", () => Promise.reject(refusal));
      return;
    }
    const base = this.opts.publicUrl || `http://${host}`;
    const pending = {
      state: randomToken(),
      nonce: randomToken(),
      verifier: randomToken(),
      returnTo,
      redirectUri: `${base}/auth/callback`,
    };
    const location = this.opts.login.authorizationUrl({
      redirectUri: pending.redirectUri,
      state: pending.state,
      nonce: pending.nonce,
      codeChallenge: codeChallengeOf(pending.verifier),
    });
    redirect(res, location, [...this.opts.edge.headers, this.opts.cookies.setLogin(pending)]);
  }

  /** `GET /auth/callback?code&state[&iss]` (or `?error`): the session cookie and back to the app, or to the sign-in page with why. */
  private callback(res: HttpResponse, req: HttpRequest): void {
    if (!this.opts.login) {
      this.serve(res, req, false, "GET /auth/callback", () => Promise.reject(notConfigured()));
      return;
    }
    const login = this.opts.login;
    const query = new URLSearchParams(req.getQuery() ?? "");
    const cookie = req.getHeader("cookie");
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const clearLogin = this.opts.cookies.clear(loginCookie);
    const address = clientAddressOf(res, req, this.opts.edge.proxyHops);
    this.completeSignIn(login, query, cookie, address).then(
      ({ returnTo, session }) => {
        if (!aborted)
          res.cork(() => redirect(res, returnTo, [...this.opts.edge.headers, clearLogin, session]));
      },
      (err: unknown) => {
        const failure = failureOf(err);
        const fields = { reason: failure.reason, details: failure.message, route: "GET /auth/callback" };
        if (failure.reason === "failed") this.opts.logger.error({ ...fields, err }, "sign-in failed");
        else this.opts.logger.info(fields, "sign-in refused");
        const to = `${signInPage}?${new URLSearchParams({ error: failure.reason })}`;
        if (!aborted) res.cork(() => redirect(res, to, [...this.opts.edge.headers, clearLogin]));
      },
    );
  }

  private async completeSignIn(
    login: OidcLogin,
    query: URLSearchParams,
    cookie: string,
    address: string,
  ): Promise<{ returnTo: string; session: Header }> {
    const pending = this.opts.cookies.loginIn(cookie);
    if (!pending)
      throw new SignInFailure("expired", "no login cookie: expired, or started in another browser");
    // The state proves this browser started this sign-in (login CSRF), before anything else is believed.
    if (query.get("state") !== pending.state)
      throw new SignInFailure("mismatch", "the state is not the login cookie's");
    const error = query.get("error");
    if (error)
      throw new SignInFailure("refused", `the issuer answered ${error}: ${query.get("error_description")}`);
    // RFC 9207: a response naming another issuer is not from the one this sign-in went to.
    const iss = query.get("iss");
    if (iss !== null && iss !== this.opts.issuer)
      throw new SignInFailure("mismatch", `the response names issuer ${JSON.stringify(iss)}`);
    const code = query.get("code");
    if (!code) throw new SignInFailure("refused", "the response has no code");
    const tokens = await login.exchangeCode({
      code,
      codeVerifier: pending.verifier,
      redirectUri: pending.redirectUri,
      nonce: pending.nonce,
    });
    if (!tokens.refreshToken) throw fail.unauthenticated("the identity provider gave no refresh token");
    const principal = await this.opts.tokens.verify(tokens.accessToken);
    await helloUser(this.opts.dispatcher, principal, { method: "oidc", ip: address });
    const session = {
      userId: principal.userId,
      sid: this.opts.tokens.sessionOf(principal) ?? "",
      refreshToken: tokens.refreshToken,
    };
    return { returnTo: pending.returnTo, session: this.sessionCookie(session, tokens) };
  }

  /** `POST /auth/refresh`: a new access token for the cookie's session; a session the issuer ended is over (401). */
  private async refresh(cookie: string): Promise<JsonAnswer> {
    const login = this.signIn();
    const session = this.opts.cookies.sessionIn(cookie);
    if (!session) throw this.signedOut(fail.unauthenticated("no session; sign in"));
    let tokens: ProviderTokens;
    try {
      tokens = await login.refresh(session.refreshToken);
    } catch (err) {
      if (err instanceof ColinkError && err.code === "unauthenticated") {
        // Ended at the issuer (signed out elsewhere, idle too long, ended by an admin): so
        // are its connections here.
        this.endSession(session);
        throw this.signedOut(err);
      }
      throw err;
    }
    const principal = await this.opts.tokens.verify(tokens.accessToken);
    const user = await this.hello(principal);
    const next = { ...session, refreshToken: tokens.refreshToken ?? session.refreshToken };
    return [
      200,
      { accessToken: tokens.accessToken, expiresAt: tokens.expiresAt, ...user },
      [noStore, this.sessionCookie(next, tokens)],
    ];
  }

  /** `POST /auth/logout`: ends the cookie's session here, on every node and at the issuer; clears the cookie. */
  private async logout(cookie: string): Promise<JsonAnswer> {
    const login = this.signIn();
    const session = this.opts.cookies.sessionIn(cookie);
    const clear = this.opts.cookies.clear(sessionCookie);
    if (!session) return [200, { revoked: false }, [noStore, clear]];
    this.endSession(session);
    let revoked = true;
    try {
      await login.revoke(session.refreshToken);
    } catch (err) {
      // Signed out here all the same: the cookie goes, and so do the session's sockets.
      revoked = false;
      this.opts.logger.warn(
        { err, route: "POST /auth/logout" },
        "the identity provider did not revoke the session",
      );
    }
    return [200, { revoked }, [noStore, clear]];
  }

  /**
   * `POST /auth/introspect {token}` (RFC 7662-like): whether `token` is active and whose it
   * is. The caller authenticates with a token of the OIDC issuer from one of
   * `introspectClients` (a client-credentials token of `service-internal` by default).
   */
  private async introspect(authorization: string, body: unknown): Promise<JsonAnswer> {
    const { issuer, introspectClients, tokens } = this.opts;
    if (!issuer) throw fail.notFound("token introspection (COLINK_OIDC_ISSUER is not set)");
    if (!authorization.toLowerCase().startsWith("bearer "))
      throw fail.unauthenticated("missing bearer token");
    const callerToken = authorization.slice(7).trim();
    await tokens.verify(callerToken);
    // Verified above: its claims are the issuer's.
    const caller = decodeJwt(callerToken);
    if (caller.iss !== issuer || typeof caller.azp !== "string" || !introspectClients.includes(caller.azp)) {
      throw fail.forbidden("only the clients of COLINK_OIDC_INTROSPECT_CLIENTS may introspect tokens");
    }
    const { token } = bodyMap(body);
    if (typeof token !== "string" || token === "") throw fail.badRequest("token must be a non-empty string");
    let principal: Principal;
    try {
      principal = await tokens.verify(token);
    } catch (err) {
      if (err instanceof ColinkError && err.code === "unauthenticated")
        return [200, { active: false }, [noStore]];
      throw err;
    }
    const claims = decodeJwt(token);
    return [
      200,
      {
        active: true,
        sub: principal.userId,
        username: principal.username,
        name: principal.displayName,
        role: principal.role,
        iss: claims.iss,
        aud: claims.aud,
        exp: claims.exp,
        iat: claims.iat,
        client_id: claims.azp,
        sid: claims.sid,
        scope: claims.scope,
        token_type: "Bearer",
      },
      [noStore],
    ];
  }

  private endSession(session: SignInSession): void {
    if (session.sid !== "") this.opts.endSession(session.userId, session.sid);
  }

  /** The session cookie, living as long as its refresh token. */
  private sessionCookie(session: SignInSession, tokens: ProviderTokens): Header {
    return this.opts.cookies.setSession(session, tokens.refreshExpiresAt ?? Date.now() + defaultSessionMs);
  }

  /** A refusal that also clears the session cookie. */
  private signedOut(err: ColinkError): HttpFailure {
    return new SignedOutFailure(err, this.opts.cookies.clear(sessionCookie));
  }

  /** Creates the user on first sight (as a socket would) and returns `{user}`. */
  private hello(principal: Principal): Promise<Record<string, unknown>> {
    return helloUser(this.opts.dispatcher, principal);
  }

  private serve(
    res: HttpResponse,
    req: HttpRequest,
    withBody: boolean,
    label: string,
    work: (body: unknown) => Promise<JsonAnswer>,
  ): void {
    serveAuth(this.opts, res, req, withBody, label, (body) =>
      work(body).catch((err: unknown) => {
        if (err instanceof SignedOutFailure) return [401, { error: err.body }, [noStore, err.clear]];
        throw err;
      }),
    );
  }
}

/** A 401 whose answer also clears the session cookie. */
class SignedOutFailure extends HttpFailure {
  constructor(
    err: ColinkError,
    readonly clear: Header,
  ) {
    super(err.toBody());
  }
}

/** Writes a 302 to `location` with `headers`. */
function redirect(res: HttpResponse, location: string, headers: readonly Header[]): void {
  res
    .writeStatus("302 Found")
    .writeHeader("location", location)
    .writeHeader(...noStore);
  for (const [name, value] of headers) res.writeHeader(name, value);
  res.end();
}
