/**
 * The sign-in routes under `/auth`: what the web client needs to know to sign in
 * (`GET /auth/config`), and the dev identity's sign-in, refresh and sign-out. A dev
 * sign-in answers an access token and sets the session cookie (session-cookie.ts) that
 * refreshes it; OIDC sign-in happens between the browser and the issuer.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import type { Config } from "../core/config.js";
import { fail } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { DevLogin, DevSession } from "../core/ports.js";
import type { CorsPolicy, Header } from "./cors.js";
import type { Dispatcher } from "./dispatcher.js";
import { bodyMap, HttpFailure, type JsonAnswer, serveJson } from "./http-json.js";
import { clearSessionCookie, sessionTokenIn, setSessionCookie } from "./session-cookie.js";

/** What `GET /auth/config` tells the web client. */
export interface AuthConfig {
  devAuth: boolean;
  oidc: { issuer: string; clientId: string; scope: string } | null;
}

/** The web client's sign-in choices from the configuration. */
export function authConfigOf(config: Config): AuthConfig {
  const { oidcIssuer, oidcWebClientId } = config;
  return {
    devAuth: config.devAuth,
    oidc:
      oidcIssuer && oidcWebClientId
        ? { issuer: oidcIssuer, clientId: oidcWebClientId, scope: config.oidcWebScope }
        : null,
  };
}

/** The `/auth` routes. */
export class AuthRoutes {
  constructor(
    private readonly app: TemplatedApp,
    private readonly dispatcher: Dispatcher,
    private readonly devLogin: DevLogin | null,
    private readonly authConfig: AuthConfig,
    private readonly cors: CorsPolicy,
    private readonly maxBodyBytes: number,
    private readonly logger: Logger,
  ) {}

  register(): void {
    this.app.get("/auth/config", (res, req) =>
      this.serve(res, req, false, "GET /auth/config", async () => [200, this.authConfig]),
    );
    this.app.post("/auth/dev/token", (res, req) =>
      this.serve(res, req, true, "POST /auth/dev/token", async (body) => {
        const { username, role } = bodyMap(body);
        return this.signedIn(await this.dev().login(username, role));
      }),
    );
    this.app.post("/auth/dev/refresh", (res, req) => {
      const token = sessionTokenIn(req.getHeader("cookie"));
      this.serve(res, req, false, "POST /auth/dev/refresh", async () => {
        const dev = this.dev();
        if (token === null) throw fail.unauthenticated("no dev session; sign in");
        return this.signedIn(await dev.refresh(token));
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
  private async signedIn(session: DevSession): Promise<JsonAnswer> {
    const { principal } = session;
    const outcome = await this.dispatcher.ask({
      actor: "user",
      key: principal.userId,
      op: "user.hello",
      args: {},
      principal,
    });
    if (!outcome.ok) throw new HttpFailure(outcome.error);
    return [
      200,
      { accessToken: session.accessToken, expiresAt: session.expiresAt, ...outcome.result },
      [setSessionCookie(session.sessionToken, session.sessionExpiresAt)],
    ];
  }

  private serve(
    res: HttpResponse,
    req: HttpRequest,
    withBody: boolean,
    label: string,
    work: (body: unknown) => Promise<JsonAnswer>,
  ): void {
    const headers: readonly Header[] = this.cors.enabled
      ? this.cors.responseHeaders(req.getHeader("origin"))
      : [];
    serveJson(res, { withBody, headers, label, maxBodyBytes: this.maxBodyBytes, logger: this.logger }, work);
  }
}
