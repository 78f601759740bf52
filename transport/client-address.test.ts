import { describe, expect, it } from "vitest";
import { addressKey, forwardedAddress } from "./client-address.js";

describe("client address keys", () => {
  it("keeps IPv4, turns IPv4-mapped IPv6 into IPv4, and counts IPv6 by its /64", () => {
    expect(addressKey("127.0.0.1")).toBe("127.0.0.1");
    // uWS's text of a v4 client on a dual-stack socket.
    expect(addressKey("0000:0000:0000:0000:0000:ffff:7f00:0001")).toBe("127.0.0.1");
    expect(addressKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002:ffff:0:0:9")).toBe("2001:db8:1:2::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("[2001:db8::7]:443")).toBe("2001:db8:0:0::/64");
    expect(addressKey("192.0.2.4:5678")).toBe("192.0.2.4");
    expect(addressKey("not-an-ip")).toBeNull();
    expect(addressKey("")).toBeNull();
  });

  it("takes the entry the outermost trusted proxy added, never one the client wrote", () => {
    // The client forged "6.6.6.6"; the one proxy appended what it saw.
    expect(forwardedAddress("6.6.6.6, 198.51.100.7", 1)).toBe("198.51.100.7");
    expect(forwardedAddress("6.6.6.6, 198.51.100.7, 10.0.0.2", 2)).toBe("198.51.100.7");
    expect(forwardedAddress("198.51.100.7", 3)).toBe("198.51.100.7");
    expect(forwardedAddress("", 1)).toBeNull();
    expect(forwardedAddress("1.2.3.4", 0)).toBeNull();
    expect(forwardedAddress("garbage", 1)).toBeNull();
  });
});
