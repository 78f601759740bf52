import { describe, expect, it } from "vitest";
import { CloseCode } from "../core/errors.js";
import { closeAction } from "./close-policy.js";

describe("closeAction", () => {
  it("reconnects on 4500–4999 and on abnormal or normal closes", () => {
    for (const code of [4500, 4501, 4502, 4503, 4999, 1000, 1001, 1006, 1011, 1012]) {
      expect(closeAction(code)).toBe("reconnect");
    }
  });

  it("stops on 4000–4499 except a bad token", () => {
    for (const code of [4000, 4002, 4003, 4004, 4008, 4499]) expect(closeAction(code)).toBe("stop");
  });

  it("stops on a sign-out elsewhere and on a deactivated account", () => {
    expect(closeAction(CloseCode.signedOut)).toBe("stop");
    expect(closeAction(CloseCode.deactivated)).toBe("stop");
  });

  it("asks for a new token on 4001 or a 401 handshake", () => {
    expect(closeAction(4001)).toBe("reauth");
    expect(closeAction(1006, 401)).toBe("reauth");
  });

  it("stops on other 4xx handshake refusals but retries 408, 429 and 5xx", () => {
    expect(closeAction(1006, 404)).toBe("stop");
    expect(closeAction(1006, 403)).toBe("stop");
    expect(closeAction(1006, 429)).toBe("reconnect");
    expect(closeAction(1006, 408)).toBe("reconnect");
    expect(closeAction(1006, 503)).toBe("reconnect");
  });
});
