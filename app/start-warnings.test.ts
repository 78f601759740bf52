import { describe, expect, it } from "vitest";
import { parseConfig } from "../core/config.js";
import { isLoopbackHost, startWarnings } from "./start-warnings.js";

describe("start warnings", () => {
  it("tells loopback hosts from the others", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]"]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "chat.example.com", "128.0.0.1", "127.0.0.1.evil"]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it("warns when the dev issuer is on and the server listens beyond loopback", () => {
    expect(startWarnings(parseConfig({}))).toEqual([expect.stringMatching(/dev issuer is on .* 0\.0\.0\.0/)]);
    expect(startWarnings(parseConfig({ COLINK_HOST: "127.0.0.1" }))).toEqual([]);
    expect(
      startWarnings(
        parseConfig({ COLINK_DEV_AUTH: "off", COLINK_OIDC_ISSUER: "https://id.example/realms/colink" }),
      ),
    ).toEqual([]);
  });
});
