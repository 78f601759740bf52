/**
 * Builds token verification from the configuration: the dev issuer (key in the data
 * dir, or in the database when there is a shared one), a remote OIDC issuer (Keycloak), or
 * both; a token is checked by the issuer its `iss` names. With an OIDC issuer and
 * `COLINK_OIDC_WEB_CLIENT_ID`, also the server's sign-in at that issuer.
 */

import type { JWK } from "jose";
import { decodeJwt } from "jose";
import {
  DEV_SESSION_TTL_SEC,
  type DevUser,
  devUserId,
  generateDevIssuerKey,
  openDevIssuer,
  openDevIssuerFromJwk,
  parseDevRole,
  parseDevUsername,
} from "../adapters/dev-identity/dev-issuer.js";
import { createOidcLogin } from "../adapters/oidc/oidc-login.js";
import { discoverOidc, openOidcKeys } from "../adapters/oidc/remote-jwks.js";
import type { Config } from "../core/config.js";
import { fail } from "../core/errors.js";
import type { DevLogin, DevSession, OidcLogin, SharedSecrets, TokenVerifier } from "../core/ports.js";
import { createTokenVerifier } from "../core/tokens.js";

/** The `iss` of dev tokens. */
export const devIssuerName = "colink-dev";

/** Verification and, when on, dev login and OIDC sign-in. */
export async function buildIdentity(
  config: Config,
  /** With a shared database: where the dev key lives, so every node accepts every node's tokens. */
  secrets?: SharedSecrets,
): Promise<{ verifier: TokenVerifier; devLogin: DevLogin | null; oidcLogin: OidcLogin | null }> {
  const audience = config.oidcAudience;
  const byIssuer = new Map<string, TokenVerifier>();
  let devLogin: DevLogin | null = null;
  if (config.devAuth) {
    const options = { issuer: devIssuerName, audience, tokenTtlSec: config.devTokenTtlSec };
    const issuer = secrets
      ? await openDevIssuerFromJwk(
          (await secrets.sharedDevIssuerKey(
            (await generateDevIssuerKey()) as Record<string, unknown>,
          )) as JWK,
          options,
        )
      : await openDevIssuer({ dataDir: config.dataDir, ...options });
    byIssuer.set(
      devIssuerName,
      createTokenVerifier({
        keys: issuer.keys,
        issuer: devIssuerName,
        audience,
        roleClaim: config.roleClaim,
      }),
    );
    const signIn = async (user: DevUser): Promise<DevSession> => {
      const issuedAt = Date.now();
      const [accessToken, sessionToken] = await Promise.all([issuer.issue(user), issuer.issueSession(user)]);
      const role = user.role ?? "member";
      return {
        principal: { userId: user.id, username: user.username, displayName: user.username, role },
        accessToken,
        expiresAt: issuedAt + issuer.tokenTtlSec * 1000,
        sessionToken,
        sessionExpiresAt: issuedAt + DEV_SESSION_TTL_SEC * 1000,
      };
    };
    devLogin = {
      login(rawName, rawRole) {
        const username = parseDevUsername(rawName);
        return signIn({ id: devUserId(username), username, role: parseDevRole(rawRole) });
      },
      async refresh(sessionToken) {
        return signIn(await issuer.verifySession(sessionToken));
      },
      jwks: () => issuer.jwks(),
    };
  }
  let oidcLogin: OidcLogin | null = null;
  if (config.oidcIssuer) {
    const discovery = await discoverOidc({ issuer: config.oidcIssuer });
    const keys = await openOidcKeys({ issuer: config.oidcIssuer, jwksUri: discovery.jwks_uri });
    if (config.oidcWebClientId) {
      oidcLogin = createOidcLogin({
        discovery,
        clientId: config.oidcWebClientId,
        scope: config.oidcWebScope,
        keys,
      });
    }
    byIssuer.set(
      config.oidcIssuer,
      createTokenVerifier({
        keys,
        issuer: config.oidcIssuer,
        audience: config.oidcAudience,
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
  return { verifier, devLogin, oidcLogin };
}
