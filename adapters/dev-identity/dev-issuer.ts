/**
 * The built-in development issuer: the embedded default of the Identity port. It holds
 * one Ed25519 key pair, signs access tokens for dev logins and publishes the public key
 * as a JWKS, so the very same `createTokenVerifier` checks dev and OIDC tokens.
 *
 * The private key lives in `<dataDir>/dev-issuer-key.json` (mode 0600), created on the
 * first start and loaded afterwards, so tokens survive restarts.
 */
import { createHash, randomUUID } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from "jose";
import { ColinkError } from "../../core/errors.js";
import { type SiteRole, SiteRoles } from "../../core/types.js";

/** The JWS algorithm of dev tokens (RFC 8037 EdDSA over Ed25519). */
export const DEV_ISSUER_ALG = "EdDSA";

/** File name of the stored private key inside the data dir. */
export const DEV_ISSUER_KEY_FILE = "dev-issuer-key.json";

/** Default token lifetime: 24 hours. */
export const DEFAULT_DEV_TOKEN_TTL_SEC = 24 * 60 * 60;

/** Lifetime of a dev session (the web client's refresh cookie): 30 days. */
export const DEV_SESSION_TTL_SEC = 30 * 24 * 60 * 60;

/** Who a dev token is issued for. */
export interface DevUser {
  /** Becomes `sub`, the user id (1–128 chars). */
  id: string;
  username: string;
  /** Becomes `name`; defaults to the username. */
  displayName?: string;
  /** Becomes the `role` claim; omitted → the verifier maps it to `member`. */
  role?: SiteRole;
}

/** Options common to both ways of opening the dev issuer. */
export interface DevIssuerOptions {
  /** The `iss` of issued tokens; the verifier must be configured with the same. */
  issuer: string;
  /** The `aud` of issued tokens. */
  audience: string;
  /** Token lifetime in seconds. Default 24h. */
  tokenTtlSec?: number;
}

/** The development issuer. */
export interface DevIssuer {
  /** Signs an access token for this user. Throws ColinkError `bad_request` on a bad user. */
  issue(user: DevUser): Promise<string>;
  /** Seconds an access token lives. */
  readonly tokenTtlSec: number;
  /**
   * Signs a session token for this user: what the web client's refresh cookie holds. Its
   * audience is not the access tokens', so it is never accepted as one.
   */
  issueSession(user: DevUser): Promise<string>;
  /** The user a session token names; throws ColinkError `unauthenticated` when it is not valid. */
  verifySession(token: string): Promise<DevUser>;
  /** The public key set, as served at the JWKS endpoint. */
  jwks(): { keys: JWK[] };
  /** A key getter over `jwks()`, for `createTokenVerifier`. */
  keys: JWTVerifyGetKey;
  /** The key id of the signing key. */
  kid: string;
}

/** Generates a fresh Ed25519 private key as a JWK with `kid`, `alg` and `use`. */
export async function generateDevIssuerKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(DEV_ISSUER_ALG, { crv: "Ed25519", extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JWK, "sha256");
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d, kid, alg: DEV_ISSUER_ALG, use: "sig" } as JWK;
}

/** Opens the dev issuer over a key stored in the data dir, creating the key on first start. */
export async function openDevIssuer(opts: DevIssuerOptions & { dataDir: string }): Promise<DevIssuer> {
  const jwk = await loadOrCreateKey(opts.dataDir);
  return openDevIssuerFromJwk(jwk, opts);
}

/** Opens the dev issuer over a private JWK kept elsewhere (for example in the database). */
export async function openDevIssuerFromJwk(privateJwk: JWK, opts: DevIssuerOptions): Promise<DevIssuer> {
  if (privateJwk.kty !== "OKP" || privateJwk.crv !== "Ed25519" || !privateJwk.d || !privateJwk.x) {
    throw new Error("dev issuer key must be an Ed25519 private JWK (kty OKP, crv Ed25519, with d and x)");
  }
  if (!opts.issuer) throw new Error("dev issuer: issuer is required");
  if (!opts.audience) throw new Error("dev issuer: audience is required");
  const ttl = opts.tokenTtlSec ?? DEFAULT_DEV_TOKEN_TTL_SEC;
  if (!Number.isInteger(ttl) || ttl <= 0)
    throw new Error("dev issuer: tokenTtlSec must be a positive integer");

  const publicOnly = { kty: "OKP", crv: "Ed25519", x: privateJwk.x } as JWK;
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicOnly, "sha256"));
  const privateKey = await importJWK({ ...privateJwk, alg: DEV_ISSUER_ALG }, DEV_ISSUER_ALG, {
    extractable: false,
  });
  const publicJwk: JWK = { ...publicOnly, kid, alg: DEV_ISSUER_ALG, use: "sig" };
  const keys = createLocalJWKSet({ keys: [publicJwk] });

  // async: a bad user is a rejected promise, not a throw.
  const sign = async (user: DevUser, audience: string, ttlSec: number): Promise<string> => {
    checkUser(user);
    const claims: Record<string, unknown> = {
      preferred_username: user.username,
      name: user.displayName?.trim() || user.username,
    };
    if (user.role !== undefined) claims.role = user.role;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: DEV_ISSUER_ALG, kid, typ: "JWT" })
      .setIssuer(opts.issuer)
      .setAudience(audience)
      .setSubject(user.id)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSec)
      .setJti(randomUUID())
      .sign(privateKey);
  };
  const sessionAudience = `${opts.audience}#dev-session`;

  return {
    kid,
    keys,
    tokenTtlSec: ttl,
    jwks: () => ({ keys: [{ ...publicJwk }] }),
    issue: (user) => sign(user, opts.audience, ttl),
    issueSession: (user) => sign(user, sessionAudience, DEV_SESSION_TTL_SEC),
    async verifySession(token: string): Promise<DevUser> {
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: opts.issuer,
          audience: sessionAudience,
          algorithms: [DEV_ISSUER_ALG],
        });
        const user: DevUser = { id: String(payload.sub), username: String(payload.preferred_username) };
        if (typeof payload.role === "string") user.role = payload.role as SiteRole;
        checkUser(user);
        return user;
      } catch {
        throw new ColinkError("unauthenticated", "dev session expired or invalid; sign in again");
      }
    },
  };
}

/** Rejects a user the verifier would not accept back. */
function checkUser(user: DevUser): void {
  if (typeof user?.id !== "string" || user.id.length === 0 || user.id.length > 128) {
    throw new ColinkError("bad_request", "user id must be 1 to 128 characters");
  }
  if (typeof user.username !== "string" || user.username.trim() === "") {
    throw new ColinkError("bad_request", "username required");
  }
  if (user.displayName !== undefined && typeof user.displayName !== "string") {
    throw new ColinkError("bad_request", "displayName must be a string");
  }
  if (user.role !== undefined && !(SiteRoles as readonly string[]).includes(user.role)) {
    throw new ColinkError("bad_request", `unknown role ${JSON.stringify(user.role)}`);
  }
}

/** Reads the stored key, or creates it (atomically: two starters agree on one key). */
async function loadOrCreateKey(dataDir: string): Promise<JWK> {
  const file = join(dataDir, DEV_ISSUER_KEY_FILE);
  const existing = await readKeyFile(file);
  if (existing) return existing;

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const jwk = await generateDevIssuerKey();
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  try {
    // link() fails when the file exists: whoever linked first wins, the others load theirs.
    await link(tmp, file);
    return jwk;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const winner = await readKeyFile(file);
    if (!winner) throw new Error(`dev issuer key file ${file} vanished while opening`);
    return winner;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** The parsed key file, or null when it does not exist. Throws a clear error when corrupt. */
async function readKeyFile(file: string): Promise<JWK | null> {
  let raw: string;
  try {
    raw = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`dev issuer key file ${file} is not valid JSON; delete it to generate a new key`);
  }
  const jwk = parsed as JWK;
  if (!jwk || typeof jwk !== "object" || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d || !jwk.x) {
    throw new Error(
      `dev issuer key file ${file} holds no Ed25519 private JWK; delete it to generate a new key`,
    );
  }
  return jwk;
}

/** Crockford base32 alphabet (no I, L, O, U): ids read unambiguously. */
const base32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * The deterministic user id of a dev username: `"U"` + 20 Crockford base32 characters
 * (100 bits) of sha256(lowercased username). The same name always gives the same id.
 */
export function devUserId(username: string): string {
  const digest = createHash("sha256").update(username.toLowerCase(), "utf8").digest();
  let out = "U";
  let bits = 0;
  let acc = 0;
  for (const byte of digest) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 21) {
      bits -= 5;
      out += base32[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
    if (out.length >= 21) break;
  }
  return out;
}

/** Valid dev usernames (checked before lowercasing, so no Unicode case folding sneaks in). */
const devUsername = /^[A-Za-z0-9._-]+$/;

/**
 * Validates a dev login name and returns its canonical (trimmed, lowercased) form.
 * Throws ColinkError `bad_request`.
 */
export function parseDevUsername(raw: unknown): string {
  if (typeof raw !== "string") throw new ColinkError("bad_request", "username must be a string");
  const name = raw.trim();
  if (name.length === 0) throw new ColinkError("bad_request", "username required");
  if (name.length > 32) throw new ColinkError("bad_request", "username longer than 32 characters");
  if (!devUsername.test(name)) {
    throw new ColinkError("bad_request", "username may hold only a-z, 0-9, '.', '_' and '-'");
  }
  return name.toLowerCase();
}

/**
 * The role asked for at dev sign-in: absent (or empty) means none (`member`); anything
 * else must be a site role. The dev identity trusts whoever runs it, as its name says.
 */
export function parseDevRole(raw: unknown): SiteRole | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string" || !(SiteRoles as readonly string[]).includes(raw)) {
    throw new ColinkError("bad_request", `role must be one of ${SiteRoles.join(", ")}`);
  }
  return raw as SiteRole;
}
