import { describe, expect, it } from "vitest";
import { contentSecurityPolicy } from "./static-site.js";

describe("contentSecurityPolicy", () => {
  it("allows only this origin, and the OIDC issuer's origin for the token exchange when there is one", () => {
    const own = contentSecurityPolicy(null);
    expect(own).toContain("connect-src 'self';");
    expect(own).not.toMatch(/unsafe|\*/);
    const withIssuer = contentSecurityPolicy("https://sso.example.com:8443/realms/colink");
    expect(withIssuer).toContain("connect-src 'self' https://sso.example.com:8443;");
  });
});
