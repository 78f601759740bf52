/**
 * OIDC sign-in in the browser: the authorization code flow with PKCE against the issuer's
 * discovery document. The verifier and state sit in sessionStorage only during the redirect;
 * tokens stay in memory.
 */
import type { OidcConfig } from "./auth-api.js";
import { SignInError } from "./auth-api.js";
import {
  authorizeUrl,
  codeChallenge,
  codeExchangeBody,
  parseCallback,
  randomToken,
  refreshBody,
} from "./pkce.js";

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

/** Tokens from the issuer's token endpoint. */
export interface OidcTokens {
  accessToken: string;
  expiresAt: number | null;
  refreshToken: string | null;
}

const pendingKey = "colink.oidc.pending";

/** The callback URL registered with the issuer. */
export function redirectUri(): string {
  return `${location.origin}/signin/callback`;
}

async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!res.ok) throw new SignInError(`the sign-in provider cannot be reached (${res.status})`, res.status);
  return (await res.json()) as Discovery;
}

/** Goes to the issuer's sign-in page; the browser comes back to /signin/callback. */
export async function beginOidcSignIn(config: OidcConfig): Promise<void> {
  const discovery = await discover(config.issuer);
  const verifier = randomToken();
  const state = randomToken();
  sessionStorage.setItem(pendingKey, JSON.stringify({ verifier, state }));
  location.assign(
    authorizeUrl({
      authorizationEndpoint: discovery.authorization_endpoint,
      clientId: config.clientId,
      redirectUri: redirectUri(),
      scope: config.scope,
      state,
      challenge: await codeChallenge(verifier),
    }),
  );
}

async function tokenRequest(config: OidcConfig, body: URLSearchParams): Promise<OidcTokens> {
  const discovery = await discover(config.issuer);
  const res = await fetch(discovery.token_endpoint, { method: "POST", body });
  const json = (await res.json().catch(() => ({}))) as {
    access_token?: string;
    expires_in?: number;
    refresh_token?: string;
    error_description?: string;
  };
  if (!res.ok || !json.access_token) {
    throw new SignInError(json.error_description ?? `sign-in failed (${res.status})`, res.status);
  }
  return {
    accessToken: json.access_token,
    expiresAt: typeof json.expires_in === "number" ? Date.now() + json.expires_in * 1000 : null,
    refreshToken: json.refresh_token ?? null,
  };
}

/** On /signin/callback: checks the state and trades the code for tokens. */
export async function completeOidcSignIn(config: OidcConfig, search: string): Promise<OidcTokens> {
  const saved = sessionStorage.getItem(pendingKey);
  sessionStorage.removeItem(pendingKey);
  const pending = saved ? (JSON.parse(saved) as { verifier: string; state: string }) : null;
  const result = parseCallback(search, pending?.state ?? null);
  if ("error" in result || !pending)
    throw new SignInError("error" in result ? result.error : "no sign-in in progress", 400);
  return tokenRequest(
    config,
    codeExchangeBody(result.code, pending.verifier, config.clientId, redirectUri()),
  );
}

/** New tokens with the refresh token. */
export function refreshOidcTokens(config: OidcConfig, refreshToken: string): Promise<OidcTokens> {
  return tokenRequest(config, refreshBody(refreshToken, config.clientId));
}
