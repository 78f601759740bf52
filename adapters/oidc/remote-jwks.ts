/**
 * OIDC identity (Keycloak or any OpenID provider): discovers the provider's JWKS and
 * returns a jose remote key set, cached and refreshed on key rotation, for
 * `createTokenVerifier` in core.
 */
import { createRemoteJWKSet, type RemoteJWKSet } from "jose";

/** The parts of an OpenID Provider's discovery document Colink reads. */
export interface OidcDiscovery {
  issuer: string;
  jwks_uri: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  end_session_endpoint?: string;
  revocation_endpoint?: string;
  [key: string]: unknown;
}

/** Options of `discoverOidc`. */
export interface OidcDiscoveryOptions {
  /** The provider's issuer, exactly as it appears in tokens' `iss`. */
  issuer: string;
  /**
   * Where to fetch the discovery document, when it differs from the issuer's public URL
   * (for example inside docker-compose). Default `${issuer}/.well-known/openid-configuration`.
   */
  discoveryUrl?: string;
  /** Timeout of the discovery request, in ms. Default 5000. */
  timeoutMs?: number;
}

/** Options of `openOidcKeys`. */
export interface OidcKeysOptions extends OidcDiscoveryOptions {
  /** Use this JWKS URL and skip discovery. */
  jwksUri?: string;
  /** Least time between refetches triggered by an unknown `kid`, in ms. Default 1000. */
  cooldownDuration?: number;
  /** Longest time fetched keys are trusted before a refetch, in ms. Default 600 000. */
  cacheMaxAge?: number;
  /** Timeout of each JWKS request, in ms. Default 5000. */
  timeoutDuration?: number;
}

/** The well-known discovery URL of an issuer. */
export function discoveryUrlOf(issuer: string): string {
  return `${stripSlash(issuer)}/.well-known/openid-configuration`;
}

/** Fetches and checks the provider's discovery document. Throws an Error naming the issuer. */
export async function discoverOidc(opts: OidcDiscoveryOptions): Promise<OidcDiscovery> {
  const { issuer } = opts;
  const url = opts.discoveryUrl ?? discoveryUrlOf(issuer);
  const failed = (why: string) => new Error(`OIDC discovery for issuer ${issuer} failed: ${why} (${url})`);

  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: "application/json" },
      redirect: "follow",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
  } catch (err) {
    const cause = err as Error & { cause?: { code?: string; message?: string } };
    const detail =
      cause.name === "TimeoutError"
        ? "timed out"
        : (cause.cause?.code ?? cause.cause?.message ?? cause.message);
    throw failed(`cannot reach the provider: ${detail}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw failed(`HTTP ${res.status}`);
  }
  let doc: unknown;
  try {
    doc = await res.json();
  } catch {
    throw failed("the response is not JSON");
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw failed("the response is not an object");
  const d = doc as Record<string, unknown>;
  if (typeof d.jwks_uri !== "string" || d.jwks_uri === "") throw failed("the document has no jwks_uri");
  if (!isHttpUrl(d.jwks_uri)) throw failed(`jwks_uri ${JSON.stringify(d.jwks_uri)} is not an http(s) URL`);
  // OpenID Connect Discovery 1.0 §4.3: the issuer must be identical; tokens carry it as `iss`.
  if (d.issuer !== issuer) {
    throw failed(
      `the document names issuer ${JSON.stringify(d.issuer)}; tokens from it would never match the configured issuer`,
    );
  }
  return d as OidcDiscovery;
}

/**
 * Discovers the issuer's `jwks_uri` (unless `jwksUri` is given) and returns a jose remote
 * key set over it: fetched lazily, cached for `cacheMaxAge`, refetched on an unknown
 * `kid` at most once per `cooldownDuration`.
 */
export async function openOidcKeys(opts: OidcKeysOptions): Promise<RemoteJWKSet> {
  let jwksUri = opts.jwksUri;
  if (jwksUri === undefined) {
    jwksUri = (await discoverOidc(opts)).jwks_uri;
  } else if (!isHttpUrl(jwksUri)) {
    throw new Error(
      `OIDC keys for issuer ${opts.issuer}: jwksUri ${JSON.stringify(jwksUri)} is not an http(s) URL`,
    );
  }
  return createRemoteJWKSet(new URL(jwksUri), {
    // One refetch a second at most: a rotated key is found at once, and tokens naming made-up
    // kids cannot make the server hammer the issuer.
    cooldownDuration: opts.cooldownDuration ?? 1_000,
    cacheMaxAge: opts.cacheMaxAge ?? 600_000,
    timeoutDuration: opts.timeoutDuration ?? 5_000,
  });
}

function stripSlash(s: string): string {
  return s.replace(/\/+$/, "");
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}
