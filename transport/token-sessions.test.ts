import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ColinkError } from "../core/errors.js";
import { createTokenVerifier } from "../core/tokens.js";
import { TokenSessions } from "./token-sessions.js";

describe("TokenSessions", () => {
  const issuer = "https://id.example/realms/test";
  let mint: (claims: Record<string, unknown>) => Promise<string>;
  let sessions: TokenSessions;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "EdDSA" };
    mint = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "EdDSA", kid: "k1" })
        .setIssuer(issuer)
        .setAudience("colink")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);
    sessions = new TokenSessions(
      createTokenVerifier({ keys: createLocalJWKSet({ keys: [jwk] }), issuer, audience: "colink" }),
      1000,
    );
  });

  it("knows the session of each token it verified; a token without sid has none", async () => {
    const a = await sessions.verify(await mint({ sub: "U1", sid: "S-a" }));
    const b = await sessions.verify(await mint({ sub: "U1", sid: "S-b" }));
    const none = await sessions.verify(await mint({ sub: "U1" }));
    expect([sessions.sessionOf(a), sessions.sessionOf(b), sessions.sessionOf(none)]).toEqual([
      "S-a",
      "S-b",
      null,
    ]);
  });

  it("refuses tokens of a signed-out session (and only those), for as long as it remembers", async () => {
    const token = await mint({ sub: "U2", sid: "S-out" });
    const other = await mint({ sub: "U2", sid: "S-other" });
    await sessions.verify(token);
    const now = Date.now();
    sessions.signOut("S-out", now);
    const refused = await sessions.verify(token).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ColinkError);
    expect(refused).toMatchObject({ code: "unauthenticated", message: "session signed out" });
    await expect(sessions.verify(other)).resolves.toMatchObject({ userId: "U2" });
    expect(sessions.isSignedOut("S-out", now + 999)).toBe(true);
    expect(sessions.isSignedOut("S-out", now + 1000)).toBe(false);
  });

  it("still refuses what the verifier refuses", async () => {
    await expect(sessions.verify("not.a.token")).rejects.toMatchObject({ code: "unauthenticated" });
  });
});
