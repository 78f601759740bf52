/**
 * Sign-in at an OpenID provider (Keycloak) for Colink's server: the `OidcLogin` port over
 * the provider's discovered endpoints. One client (a public one: PKCE stands in for a
 * secret), the authorization-code flow with S256, the refresh grant and RFC 7009
 * revocation. The ID token of a sign-in is checked here (signature by the issuer's keys,
 * issuer, audience = the client, `nonce`); the access token is the token verifier's to check.
 */
import { errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import { ColinkError } from "../../core/errors.js";
import type { OidcLogin, ProviderTokens } from "../../core/ports.js";
import type { OidcDiscovery } from "./remote-jwks.js";

/** Options of `createOidcLogin`. */
export interface OidcLoginOptions {
  /** The provider's discovery document (`discoverOidc`). */
  discovery: OidcDiscovery;
  /** The client that signs browsers in. */
  clientId: string;
  /** The scopes asked for, `openid` among them. */
  scope: string;
  /** The issuer's keys (the same remote JWKS the token verifier uses). */
  keys: JWTVerifyGetKey;
  /** Timeout of each request to the provider, in ms. Default 10 000. */
  timeoutMs?: number;
  /** Clock skew allowed on the ID token's times, in seconds. Default 30. */
  clockToleranceSec?: number;
}

/** The answer of the token endpoint, as far as Colink reads it. */
interface TokenResponse {
  access_token?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
  refresh_expires_in?: unknown;
  id_token?: unknown;
  error?: unknown;
  error_description?: unknown;
}

const unauthenticated = (message: string) => new ColinkError("unauthenticated", message);
const unavailable = (message: string) => new ColinkError("unavailable", message);

/** Builds the port; throws an Error naming the issuer when the discovery document lacks an endpoint it needs. */
export function createOidcLogin(opts: OidcLoginOptions): OidcLogin {
  const { discovery, clientId, scope, keys } = opts;
  const endpoint = (name: "authorization_endpoint" | "token_endpoint" | "revocation_endpoint") => {
    const value = discovery[name];
    if (typeof value !== "string" || !/^https?:\/\//.test(value)) {
      throw new Error(
        `OIDC sign-in with issuer ${discovery.issuer}: its discovery document has no ${name} (COLINK_OIDC_WEB_CLIENT_ID needs one)`,
      );
    }
    return value;
  };
  const authorizationEndpoint = endpoint("authorization_endpoint");
  const tokenEndpoint = endpoint("token_endpoint");
  const revocationEndpoint = endpoint("revocation_endpoint");
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const clockTolerance = opts.clockToleranceSec ?? 30;

  /** POSTs a form to the provider: the status and the JSON body (or {} when there is none). */
  const post = async (url: string, form: Record<string, string>): Promise<[number, TokenResponse]> => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { accept: "application/json" },
        body: new URLSearchParams({ client_id: clientId, ...form }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw unavailable(
        `the identity provider cannot be reached (${e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? e.message)})`,
      );
    }
    const text = await res.text();
    let body: TokenResponse = {};
    if (text.trim() !== "") {
      try {
        body = JSON.parse(text) as TokenResponse;
      } catch {
        if (res.ok)
          throw unavailable(`the identity provider answered ${url} with something that is not JSON`);
      }
    }
    return [res.status, body === null || typeof body !== "object" ? {} : body];
  };

  /** Tokens from a token-endpoint answer; a refusal (400/401) is `unauthenticated`, anything else `unavailable`. */
  const tokensOf = (status: number, body: TokenResponse, grant: string): ProviderTokens => {
    if (status === 400 || status === 401) {
      const why = typeof body.error_description === "string" ? body.error_description : String(body.error);
      throw unauthenticated(`the identity provider refused the ${grant}: ${why}`);
    }
    if (status !== 200 || typeof body.access_token !== "string" || body.access_token === "") {
      throw unavailable(`the identity provider's token endpoint answered HTTP ${status}`);
    }
    const now = Date.now();
    const seconds = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : null);
    const expiresIn = seconds(body.expires_in) ?? 60;
    const refreshIn = seconds(body.refresh_expires_in);
    return {
      accessToken: body.access_token,
      expiresAt: now + expiresIn * 1000,
      refreshToken:
        typeof body.refresh_token === "string" && body.refresh_token !== "" ? body.refresh_token : null,
      refreshExpiresAt: refreshIn === null ? null : now + refreshIn * 1000,
    };
  };

  const checkIdToken = async (idToken: unknown, nonce: string): Promise<void> => {
    if (typeof idToken !== "string") throw unauthenticated("the identity provider sent no ID token");
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(idToken, keys, {
        issuer: discovery.issuer,
        audience: clientId,
        clockTolerance,
      }));
    } catch (err) {
      if (err instanceof errors.JOSEError) throw unauthenticated(`the ID token is not valid (${err.code})`);
      throw unavailable("the identity provider's keys could not be fetched");
    }
    // The nonce ties the tokens to the sign-in this browser started (OpenID Connect Core §3.1.3.7).
    if (claims.nonce !== nonce) throw unauthenticated("the ID token's nonce is not this sign-in's");
  };

  return {
    authorizationUrl({ redirectUri, state, nonce, codeChallenge }) {
      const url = new URL(authorizationEndpoint);
      url.searchParams.set("response_type", "code");
      url.searchParams.set("client_id", clientId);
      url.searchParams.set("redirect_uri", redirectUri);
      url.searchParams.set("scope", scope);
      url.searchParams.set("state", state);
      url.searchParams.set("nonce", nonce);
      url.searchParams.set("code_challenge", codeChallenge);
      url.searchParams.set("code_challenge_method", "S256");
      return url.toString();
    },

    async exchangeCode({ code, codeVerifier, redirectUri, nonce }) {
      const [status, body] = await post(tokenEndpoint, {
        grant_type: "authorization_code",
        code,
        code_verifier: codeVerifier,
        redirect_uri: redirectUri,
      });
      const tokens = tokensOf(status, body, "sign-in code");
      await checkIdToken(body.id_token, nonce);
      return tokens;
    },

    async refresh(refreshToken) {
      const [status, body] = await post(tokenEndpoint, {
        grant_type: "refresh_token",
        refresh_token: refreshToken,
      });
      return tokensOf(status, body, "session's refresh");
    },

    async revoke(refreshToken) {
      const [status, body] = await post(revocationEndpoint, {
        token: refreshToken,
        token_type_hint: "refresh_token",
      });
      // RFC 7009 §2.2: 200 also for a token that was not valid any more.
      if (status !== 200) {
        const why = typeof body.error === "string" ? ` (${body.error})` : "";
        throw unavailable(`the identity provider's revocation endpoint answered HTTP ${status}${why}`);
      }
    },
  };
}
