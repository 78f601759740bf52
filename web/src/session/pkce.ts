/**
 * The pure parts of OIDC sign-in with PKCE (RFC 7636, S256): the verifier and its challenge,
 * the authorization URL, the callback's parameters and the token endpoint's form bodies.
 */

/** Base64url without padding, as PKCE and JWTs use it. */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A code verifier or a state value from 32 random bytes (43 characters). */
export function randomToken(
  random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b),
): string {
  return base64url(random(new Uint8Array(32)));
}

/** The S256 challenge of a verifier: base64url(SHA-256(verifier)). */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export interface AuthorizeRequest {
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string;
  challenge: string;
}

/** The URL the browser goes to, to sign in at the issuer. */
export function authorizeUrl(req: AuthorizeRequest): string {
  const url = new URL(req.authorizationEndpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", req.clientId);
  url.searchParams.set("redirect_uri", req.redirectUri);
  url.searchParams.set("scope", req.scope);
  url.searchParams.set("state", req.state);
  url.searchParams.set("code_challenge", req.challenge);
  url.searchParams.set("code_challenge_method", "S256");
  return url.toString();
}

/** What the issuer sent back to /signin/callback: a code, or why there is none. */
export type CallbackResult = { code: string } | { error: string };

export function parseCallback(search: string, expectedState: string | null): CallbackResult {
  const params = new URLSearchParams(search);
  const error = params.get("error");
  if (error) return { error: params.get("error_description") ?? error };
  if (!expectedState || params.get("state") !== expectedState)
    return { error: "the sign-in response does not match" };
  const code = params.get("code");
  return code ? { code } : { error: "the sign-in response has no code" };
}

/** The token endpoint's form for the authorization code. */
export function codeExchangeBody(
  code: string,
  verifier: string,
  clientId: string,
  redirectUri: string,
): URLSearchParams {
  return new URLSearchParams({
    grant_type: "authorization_code",
    code,
    code_verifier: verifier,
    client_id: clientId,
    redirect_uri: redirectUri,
  });
}

/** The token endpoint's form for a refresh. */
export function refreshBody(refreshToken: string, clientId: string): URLSearchParams {
  return new URLSearchParams({
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: clientId,
  });
}
