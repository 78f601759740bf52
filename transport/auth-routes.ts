/**
 * The sign-in routes under `/auth`: what the web client needs to know to sign in
 * (`GET /auth/config`), and the dev identity's sign-in, refresh and sign-out. A dev
 * sign-in answers an access token and sets the session cookie (session-cookie.ts) that
 * refreshes it. Single sign-on through the OIDC issuer has its own routes (oidc-routes.ts).
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import type { Config } from "../core/config.js";
import { fail } from "../core/errors.js";
import type { DevLogin, DevSession } from "../core/ports.js";
import type { Principal } from "../core/types.js";
import { type AuthEdge, serveAuth } from "./auth-answers.js";
import type { Dispatcher } from "./dispatcher.js";
import { bodyMap, HttpFailure, type JsonAnswer } from "./http-json.js";
import { originOf } from "./request-origin.js";
import { clearSessionCookie, sessionTokenIn, setSessionCookie } from "./session-cookie.js";

/** What `GET /auth/config` tells the web client. */
export interface AuthConfig {
  devAuth: boolean;
  /** Single sign-on: the issuer, and where the browser goes to sign in through it. */
  oidc: { issuer: string; loginUrl: string } | null;
}

/** The web client's sign-in choices from the configuration. */
export function authConfigOf(config: Config): AuthConfig {
  const { oidcIssuer, oidcWebClientId } = config;
  return {
    devAuth: config.devAuth,
    oidc: oidcIssuer && oidcWebClientId ? { issuer: oidcIssuer, loginUrl: "/auth/login" } : null,
  };
}

/**
 * Creates the user on first sight (as a socket would) and returns `{user}`: a sign-in's
 * answer. With `login` (a sign-in route's), the user's actor also audits it (`auth.login`).
 */
export async function helloUser(
  dispatcher: Dispatcher,
  principal: Principal,
  login?: { method: "dev" | "oidc"; ip: string },
): Promise<Record<string, unknown>> {
  const outcome = await dispatcher.ask({
    actor: "user",
    key: principal.userId,
    op: "user.hello",
    args: login ? { login: login.method } : {},
    principal,
    ...(login ? { origin: originOf(login.ip) } : {}),
  });
  if (!outcome.ok) throw new HttpFailure(outcome.error);
  return outcome.result;
}

/** The `/auth` routes. */
export class AuthRoutes {
  constructor(
    private readonly app: TemplatedApp,
    private readonly dispatcher: Dispatcher,
    private readonly devLogin: DevLogin | null,
    private readonly authConfig: AuthConfig,
    /** Every `/auth` request counts against the client address's `auth` budget. */
    private readonly answers: AuthEdge,
  ) {}

  register(): void {
    this.app.get("/auth/config", (res, req) =>
      this.serve(res, req, false, "GET /auth/config", async () => [200, this.authConfig]),
    );
    this.app.post("/auth/dev/token", (res, req) =>
      this.serve(res, req, true, "POST /auth/dev/token", async (body, address) => {
        const { username, role } = bodyMap(body);
        return this.signedIn(await this.dev().login(username, role), address);
      }),
    );
    this.app.post("/auth/dev/refresh", (res, req) => {
      const token = sessionTokenIn(req.getHeader("cookie"));
      this.serve(res, req, false, "POST /auth/dev/refresh", async () => {
        const dev = this.dev();
        if (token === null) throw fail.unauthenticated("no dev session; sign in");
        // A refresh is not a login: no audit entry.
        return this.signedIn(await dev.refresh(token), null);
      });
    });
    this.app.post("/auth/dev/logout", (res, req) =>
      this.serve(res, req, false, "POST /auth/dev/logout", async () => {
        this.dev();
        return [200, {}, [clearSessionCookie()]];
      }),
    );
    this.app.get("/auth/dev/jwks", (res, req) =>
      this.serve(res, req, false, "GET /auth/dev/jwks", async () => [200, this.dev().jwks()]),
    );
  }

  private dev(): DevLogin {
    if (!this.devLogin) throw fail.notFound("dev login (COLINK_DEV_AUTH is off)");
    return this.devLogin;
  }

  /** The answer to a sign-in: the user (created on first sight, as a socket would), the token, the cookie. */
  private async signedIn(session: DevSession, address: string | null): Promise<JsonAnswer> {
    const hello = await helloUser(
      this.dispatcher,
      session.principal,
      address === null ? undefined : { method: "dev", ip: address },
    );
    return [
      200,
      { accessToken: session.accessToken, expiresAt: session.expiresAt, ...hello },
      [setSessionCookie(session.sessionToken, session.sessionExpiresAt)],
    ];
  }

  private serve(
    res: HttpResponse,
    req: HttpRequest,
    withBody: boolean,
    label: string,
    work: (body: unknown, address: string) => Promise<JsonAnswer>,
  ): void {
    serveAuth(this.answers, res, req, withBody, label, work);
  }
}
