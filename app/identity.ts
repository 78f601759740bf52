/**
 * Builds token verification from the configuration: the dev issuer (keys in the data
 * dir), a remote OIDC issuer (Keycloak), or both; a token is checked by the issuer its
 * `iss` names.
 */
import { decodeJwt } from "jose";
import { devUserId, openDevIssuer, parseDevUsername } from "../adapters/dev-identity/dev-issuer.js";
import { openOidcKeys } from "../adapters/oidc/remote-jwks.js";
import type { Config } from "../core/config.js";
import { fail } from "../core/errors.js";
import type { DevLogin, TokenVerifier } from "../core/ports.js";
import { createTokenVerifier } from "../core/tokens.js";

/** The `iss` of dev tokens. */
export const devIssuerName = "colink-dev";

/** Verification and, when on, dev login. */
export async function buildIdentity(
  config: Config,
): Promise<{ verifier: TokenVerifier; devLogin: DevLogin | null }> {
  const audience = config.oidcAudience ?? "colink";
  const byIssuer = new Map<string, TokenVerifier>();
  let devLogin: DevLogin | null = null;
  if (config.devAuth) {
    const issuer = await openDevIssuer({ dataDir: config.dataDir, issuer: devIssuerName, audience });
    byIssuer.set(
      devIssuerName,
      createTokenVerifier({
        keys: issuer.keys,
        issuer: devIssuerName,
        audience,
        roleClaim: config.roleClaim,
      }),
    );
    devLogin = {
      async login(raw) {
        const username = parseDevUsername(raw);
        const principal = {
          userId: devUserId(username),
          username,
          displayName: username,
          role: "member" as const,
        };
        const accessToken = await issuer.issue({ id: principal.userId, username });
        return { accessToken, principal };
      },
      jwks: () => issuer.jwks(),
    };
  }
  if (config.oidcIssuer) {
    const keys = await openOidcKeys({ issuer: config.oidcIssuer });
    byIssuer.set(
      config.oidcIssuer,
      createTokenVerifier({
        keys,
        issuer: config.oidcIssuer,
        audience: config.oidcAudience ?? undefined,
        roleClaim: config.roleClaim,
      }),
    );
  }
  const verifier: TokenVerifier = {
    async verify(token) {
      let iss: unknown;
      try {
        iss = decodeJwt(token).iss;
      } catch {
        throw fail.unauthenticated("token malformed");
      }
      const chosen = typeof iss === "string" ? byIssuer.get(iss) : undefined;
      if (!chosen) throw fail.unauthenticated("token issuer not accepted");
      return chosen.verify(token);
    },
  };
  return { verifier, devLogin };
}
