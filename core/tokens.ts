/**
 * Access-token verification: a signed JWT in, a `Principal` out. Pure: the keys come
 * from a key getter passed in (the dev issuer's local key set, or an OIDC provider's
 * remote JWKS built by an adapter), so this module does no I/O of its own.
 */
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { ColinkError } from "./errors.js";
import { isUserId, maxUserIdLength } from "./ids.js";
import type { TokenVerifier } from "./ports.js";
import type { Principal, SiteRole } from "./types.js";

/** Signature algorithms accepted by default: asymmetric only, never `none` or HMAC. */
export const DEFAULT_TOKEN_ALGORITHMS: readonly string[] = [
  "EdDSA",
  "Ed25519",
  "ES256",
  "ES384",
  "ES512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
];

/** Longest token accepted, in characters; longer input is refused before any parsing. */
export const DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024;

/** Longest `sub` accepted: it becomes the user id. */
export const MAX_SUBJECT_LENGTH = maxUserIdLength;

/** Options of `createTokenVerifier`. */
export interface TokenVerifierOptions {
  /** Resolves the verification key from the token's header (jose key-set function). */
  keys: JWTVerifyGetKey;
  /** The exact `iss` a token must carry. */
  issuer: string;
  /** When set, `aud` must contain it. */
  audience?: string;
  /** Allowed clock skew for `exp` and `nbf`, in seconds. Default 30. */
  clockToleranceSec?: number;
  /**
   * Where the site role is read from: a claim name, or a dotted path into nested claims
   * (`"app.roles"`). A claim whose literal name contains dots (`"https://x.io/roles"`)
   * is found too. Default `"role"`. When absent, Keycloak's `realm_access.roles` is used.
   */
  roleClaim?: string;
  /** Accepted `alg` values. Default `DEFAULT_TOKEN_ALGORITHMS`; `none` is never accepted. */
  algorithms?: readonly string[];
  /** Longest token accepted, in characters. Default `DEFAULT_MAX_TOKEN_LENGTH`. */
  maxTokenLength?: number;
}

/** Site roles from strongest to weakest. */
const roleRank: readonly SiteRole[] = ["admin", "moderator", "member", "guest"];

/** An error raised by the key getter itself (not by the token): kept apart to classify it. */
class KeySourceError extends Error {
  constructor(readonly original: unknown) {
    super("key source failed");
    this.name = "KeySourceError";
  }
}

/**
 * Key-getter errors that are the token's fault (its header names no known key), or
 * already a protocol error. Anything else the getter throws (network, timeout, a bad
 * key set) is the key source's fault.
 */
function isTokenKeyError(err: unknown): boolean {
  return (
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof ColinkError
  );
}

const unauthenticated = (message: string) => new ColinkError("unauthenticated", message);

/** A compact JWS: three base64url segments, none empty except possibly none. */
const compactShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Builds a `TokenVerifier` for one issuer. */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  if (typeof opts.issuer !== "string" || opts.issuer === "") {
    throw new TypeError("createTokenVerifier: issuer is required");
  }
  const algorithms = (opts.algorithms ?? DEFAULT_TOKEN_ALGORITHMS).filter((a) => a.toLowerCase() !== "none");
  if (algorithms.length === 0) throw new TypeError("createTokenVerifier: no algorithm allowed");
  const clockTolerance = opts.clockToleranceSec ?? 30;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new TypeError("createTokenVerifier: clockToleranceSec must be a non-negative number");
  }
  const maxLength = opts.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  const roleClaim = opts.roleClaim ?? "role";
  const keys = opts.keys;

  const getKey: JWTVerifyGetKey = async (header, input) => {
    try {
      return await keys(header, input);
    } catch (err) {
      if (isTokenKeyError(err)) throw err;
      throw new KeySourceError(err);
    }
  };

  const verifyOptions = {
    issuer: opts.issuer,
    ...(opts.audience !== undefined ? { audience: opts.audience } : {}),
    algorithms: [...algorithms],
    clockTolerance,
    requiredClaims: ["exp"],
  };

  // Verified tokens, newest last: a client reconnecting, or opening many connections, with
  // the same token is not verified again (an EdDSA or RS256 check per connection), and its
  // connections share one principal. An entry lasts until the token expires, at most
  // `verifiedCacheMs`, so a key the issuer withdrew stops being honoured within that time.
  const verified = new Map<string, { principal: Principal; untilMs: number }>();

  return {
    async verify(token: string): Promise<Principal> {
      if (typeof token !== "string" || token.length === 0) throw unauthenticated("token missing");
      const known = verified.get(token);
      if (known && known.untilMs > Date.now()) return known.principal;
      if (known) verified.delete(token);
      if (token.length > maxLength) throw unauthenticated("token too long");
      if (!compactShape.test(token)) throw unauthenticated("token malformed");
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, verifyOptions));
      } catch (err) {
        throw classify(err);
      }
      const principal = principalOf(payload, roleClaim);
      const untilMs = Math.min((payload.exp ?? 0) * 1000, Date.now() + verifiedCacheMs);
      if (verified.size >= verifiedCacheEntries) verified.delete(verified.keys().next().value!);
      verified.set(token, { principal, untilMs });
      return principal;
    },
  };
}

/** How long a verified token is taken on trust at most. */
const verifiedCacheMs = 5 * 60_000;
/** Verified tokens remembered at most (the oldest goes first). */
const verifiedCacheEntries = 20_000;

/** Maps anything `jwtVerify` threw to a ColinkError with a clear, stack-free message. */
function classify(err: unknown): ColinkError {
  if (err instanceof ColinkError) return err;
  if (err instanceof KeySourceError) {
    // The identity provider's keys could not be fetched: not the client's fault, so
    // it is retryable rather than a verdict on the token.
    return new ColinkError("unavailable", "token keys unavailable");
  }
  if (err instanceof errors.JWTExpired) return unauthenticated("token expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason } = err;
    const missing = reason === "missing";
    if (claim === "nbf") {
      return unauthenticated(reason === "check_failed" ? "token not yet valid" : "token not-before invalid");
    }
    if (claim === "iss") return unauthenticated(missing ? "token issuer missing" : "token issuer mismatch");
    if (claim === "aud") {
      return unauthenticated(missing ? "token audience missing" : "token audience mismatch");
    }
    if (claim === "exp") return unauthenticated(missing ? "token expiry missing" : "token expiry invalid");
    return unauthenticated(`token claim ${JSON.stringify(claim)} invalid`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthenticated("token algorithm not allowed");
  if (err instanceof errors.JWKSNoMatchingKey) return unauthenticated("token signing key unknown");
  if (err instanceof errors.JWKSMultipleMatchingKeys) return unauthenticated("token signing key ambiguous");
  if (err instanceof errors.JWSSignatureVerificationFailed) return unauthenticated("token signature invalid");
  if (err instanceof errors.JOSENotSupported) return unauthenticated("token algorithm not supported");
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return unauthenticated("token malformed");
  }
  return unauthenticated("token invalid");
}

/** A non-empty trimmed string, or undefined. */
function text(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** Maps verified claims to who the token names. */
function principalOf(payload: JWTPayload, roleClaim: string): Principal {
  const sub = payload.sub;
  if (typeof sub !== "string" || sub === "") throw unauthenticated("token subject missing");
  if (sub.length > MAX_SUBJECT_LENGTH) throw unauthenticated("token subject too long");
  // The subject becomes the user id, which is stored, put in topics and DM ids, and named
  // in op args: one outside the id alphabet (a NUL, a `,`) is refused here, at the door.
  if (!isUserId(sub)) throw unauthenticated("token subject has characters a user id cannot have");
  const username = text(payload.preferred_username) ?? text(payload.username) ?? sub;
  const displayName = text(payload.name) ?? username;
  return { userId: sub, username, displayName, role: siteRoleOf(payload, roleClaim) };
}

/** Reads a claim by literal name first, then as a dotted path. */
function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let node: unknown = payload;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    if (!Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** The role names a claim value holds, or undefined when it holds no string(s). */
function roleNames(value: unknown): string[] | undefined {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return undefined;
}

/**
 * The strongest site role named by the configured claim, or (when that claim is absent)
 * by Keycloak's `realm_access.roles`. Names compare case-insensitively; none known → member.
 * Exported for tests and for callers that map claims themselves.
 */
export function siteRoleOf(payload: Record<string, unknown>, roleClaim = "role"): SiteRole {
  const names =
    roleNames(claimAt(payload, roleClaim)) ?? roleNames(claimAt(payload, "realm_access.roles")) ?? [];
  const found = new Set(names.map((n) => n.trim().toLowerCase()));
  return roleRank.find((r) => found.has(r)) ?? "member";
}
