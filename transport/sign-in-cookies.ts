/**
 * The cookies of single sign-on (oidc-routes.ts), both sealed (cookie-sealing.ts) and
 * HttpOnly, so page scripts can read neither:
 * - `colink_login`, while a sign-in is under way: its state, nonce, PKCE verifier and where
 *   to go after. `Path=/auth/callback`, ten minutes, `SameSite=Lax` (the browser comes back
 *   to the callback from the identity provider's site, a cross-site navigation).
 * - `colink_session`, the signed-in session: the user, the provider's session id and its
 *   refresh token. `Path=/auth`, as long as the refresh token lives, `SameSite=Strict`:
 *   only the app's own requests carry it, never another site's.
 * Both get `Secure` when the server's public URL (COLINK_PUBLIC_URL) is https.
 */
import type { CookieSealer } from "./cookie-sealing.js";
import type { Header } from "./cors.js";
import { cookieIn } from "./session-cookie.js";

/** The sign-in under way's cookie. */
export const loginCookie = { name: "colink_login", path: "/auth/callback", sameSite: "Lax" } as const;
/** The signed-in session's cookie. */
export const sessionCookie = { name: "colink_session", path: "/auth", sameSite: "Strict" } as const;

type CookieKind = typeof loginCookie | typeof sessionCookie;

/** How long a sign-in may take, from `/auth/login` to `/auth/callback`. */
export const loginTtlMs = 10 * 60_000;

/** A sign-in under way. */
export interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  /** The path to go to once signed in. */
  returnTo: string;
  /** The callback URL the provider was given (the code exchange must name it again). */
  redirectUri: string;
}

/** A signed-in session. */
export interface SignInSession {
  userId: string;
  /** The provider's session id (`sid`), or "" when its tokens carry none. */
  sid: string;
  refreshToken: string;
}

/** Writes and reads the two cookies. */
export class SignInCookies {
  constructor(
    private readonly sealer: CookieSealer,
    /** Set `Secure` (the public URL is https). */
    private readonly secure: boolean,
  ) {}

  setLogin(login: PendingLogin, now = Date.now()): Header {
    const { state, nonce, verifier, returnTo, redirectUri } = login;
    const value = this.sealer.seal(
      loginCookie.name,
      { s: state, n: nonce, v: verifier, r: returnTo, c: redirectUri },
      now + loginTtlMs,
    );
    return this.header(loginCookie, value, loginTtlMs / 1000);
  }

  /** The sign-in under way in a `Cookie` header, or null (none, expired, not this server's). */
  loginIn(cookieHeader: string): PendingLogin | null {
    const p = this.opened(loginCookie, cookieHeader);
    if (!p) return null;
    const { s, n, v, r, c } = p;
    if (![s, n, v, r, c].every((x) => typeof x === "string")) return null;
    return { state: s, nonce: n, verifier: v, returnTo: r, redirectUri: c } as PendingLogin;
  }

  setSession(session: SignInSession, expiresAt: number, now = Date.now()): Header {
    const value = this.sealer.seal(
      sessionCookie.name,
      { u: session.userId, s: session.sid, r: session.refreshToken },
      expiresAt,
    );
    return this.header(sessionCookie, value, Math.max(0, Math.floor((expiresAt - now) / 1000)));
  }

  /** The signed-in session in a `Cookie` header, or null. */
  sessionIn(cookieHeader: string): SignInSession | null {
    const p = this.opened(sessionCookie, cookieHeader);
    if (!p) return null;
    const { u, s, r } = p;
    if (typeof u !== "string" || typeof s !== "string" || typeof r !== "string") return null;
    return { userId: u, sid: s, refreshToken: r };
  }

  /** The header that removes a cookie. */
  clear(kind: CookieKind): Header {
    return this.header(kind, "", 0);
  }

  private opened(kind: CookieKind, cookieHeader: string): Record<string, unknown> | null {
    const value = cookieIn(cookieHeader, kind.name);
    return value === null ? null : this.sealer.open(kind.name, value);
  }

  private header(kind: CookieKind, value: string, maxAgeSec: number): Header {
    const secure = this.secure ? "; Secure" : "";
    return [
      "set-cookie",
      `${kind.name}=${value}; Path=${kind.path}; HttpOnly; SameSite=${kind.sameSite}${secure}; Max-Age=${maxAgeSec}`,
    ];
  }
}
