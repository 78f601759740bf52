import { describe, expect, it } from "vitest";
import {
  authorizeUrl,
  base64url,
  codeChallenge,
  codeExchangeBody,
  parseCallback,
  randomToken,
  refreshBody,
} from "./pkce.js";

describe("PKCE", () => {
  it("computes the S256 challenge of RFC 7636's example", async () => {
    expect(await codeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });

  it("encodes base64url without padding", () => {
    expect(base64url(new Uint8Array([251, 255, 191]))).toBe("-_-_");
    expect(base64url(new Uint8Array([1]))).toBe("AQ");
  });

  it("makes 43-character verifiers from 32 random bytes", () => {
    expect(randomToken((b) => b.fill(7))).toHaveLength(43);
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("builds the authorization URL", () => {
    const url = new URL(
      authorizeUrl({
        authorizationEndpoint: "https://id.example.com/auth?kc=1",
        clientId: "colink-web",
        redirectUri: "https://chat.example.com/signin/callback",
        scope: "openid profile",
        state: "st",
        challenge: "ch",
      }),
    );
    expect(url.origin + url.pathname).toBe("https://id.example.com/auth");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      kc: "1",
      response_type: "code",
      client_id: "colink-web",
      redirect_uri: "https://chat.example.com/signin/callback",
      scope: "openid profile",
      state: "st",
      code_challenge: "ch",
      code_challenge_method: "S256",
    });
  });

  it("accepts the callback only with the state it sent", () => {
    expect(parseCallback("?code=abc&state=s1", "s1")).toEqual({ code: "abc" });
    expect(parseCallback("?code=abc&state=other", "s1")).toHaveProperty("error");
    expect(parseCallback("?code=abc&state=s1", null)).toHaveProperty("error");
    expect(parseCallback("?error=access_denied&error_description=no", "s1")).toEqual({ error: "no" });
  });

  it("builds the token endpoint's forms", () => {
    expect(codeExchangeBody("c", "v", "id", "https://x/cb").toString()).toBe(
      "grant_type=authorization_code&code=c&code_verifier=v&client_id=id&redirect_uri=https%3A%2F%2Fx%2Fcb",
    );
    expect(refreshBody("r", "id").toString()).toBe("grant_type=refresh_token&refresh_token=r&client_id=id");
  });
});
