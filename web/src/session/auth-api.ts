/**
 * The server's sign-in endpoints (docs/web.md, Sign-in): which sign-in to offer, the dev
 * issuer's token, refresh and logout, and single sign-on's refresh and logout. Both
 * refreshes go by an HttpOnly cookie the server set, so no refresh token is ever in reach of
 * the page's scripts.
 */
import type { User } from "@colink/client";

/** Single sign-on: the issuer, and where the browser goes to sign in through the server. */
export interface OidcConfig {
  issuer: string;
  loginUrl: string;
}

export interface AuthConfig {
  devAuth: boolean;
  oidc: OidcConfig | null;
}

/** An access token and, when the server says so, when it expires (epoch ms). */
export interface IssuedToken {
  accessToken: string;
  expiresAt: number | null;
  user: User | null;
}

/** A sign-in request the server refused, with its message and, when it gave one, its reason. */
export class SignInError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The error's `details.reason`: `deactivated` for an account an admin deactivated. */
    readonly reason: string | null = null,
  ) {
    super(message);
    this.name = "SignInError";
  }
}

/** Which sign-in the server offers; a server without `/auth/config` has only dev sign-in. */
export async function fetchAuthConfig(): Promise<AuthConfig> {
  const res = await fetch("/auth/config", { credentials: "same-origin" });
  if (res.status === 404) return { devAuth: true, oidc: null };
  if (!res.ok) throw new SignInError(`sign-in settings unavailable (${res.status})`, res.status);
  const body = (await res.json()) as Partial<AuthConfig>;
  return { devAuth: body.devAuth === true, oidc: body.oidc ?? null };
}

async function postForToken(path: string, body: unknown): Promise<IssuedToken> {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as {
    accessToken?: string;
    expiresAt?: number;
    user?: User;
    error?: { message?: string; details?: { reason?: unknown } };
  };
  if (!res.ok || typeof json.accessToken !== "string") {
    const reason = json.error?.details?.reason;
    throw new SignInError(
      json.error?.message ?? `sign-in failed (${res.status})`,
      res.status,
      typeof reason === "string" ? reason : null,
    );
  }
  return { accessToken: json.accessToken, expiresAt: json.expiresAt ?? null, user: json.user ?? null };
}

/** Dev sign-in: a token for this username (and site role, when given). */
export function devSignIn(username: string, role: string | null): Promise<IssuedToken> {
  return postForToken("/auth/dev/token", role ? { username, role } : { username });
}

/** A new token from the refresh cookie; rejects when there is no valid cookie. */
export function devRefresh(): Promise<IssuedToken> {
  return postForToken("/auth/dev/refresh", undefined);
}

/** Clears the refresh cookie. */
export async function devSignOut(): Promise<void> {
  await fetch("/auth/dev/logout", { method: "POST", credentials: "same-origin" });
}

/** A new token for the single sign-on session of the cookie; rejects (401) when there is none or it ended. */
export function oidcRefresh(): Promise<IssuedToken> {
  return postForToken("/auth/refresh", undefined);
}

/** Ends the single sign-on session: the server revokes it at the issuer and closes its connections. */
export async function oidcSignOut(): Promise<void> {
  const res = await fetch("/auth/logout", { method: "POST", credentials: "same-origin" });
  if (!res.ok) throw new SignInError(`signing out failed (${res.status})`, res.status);
}
