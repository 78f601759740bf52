/**
 * Who a request comes from, for the per-address limits: the socket's peer, or behind
 * `COLINK_PROXY_HOPS` trusted reverse proxies the address the outermost of them saw (the
 * Nth entry from the right of `X-Forwarded-For`; entries further left are whatever the
 * client wrote, so they are never trusted). An IPv6 address counts by its /64, the block
 * one subscriber gets; an IPv4-mapped IPv6 address is its IPv4.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { HttpRequest, HttpResponse } from "@trufflesuite/uws-js-unofficial";

/** The key an address counts under, or null when `text` is no IP address. */
export function addressKey(text: string): string | null {
  let a = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(":"));
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return null;
  const groups = expandIPv6(a.toLowerCase());
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join(".");
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` and a trailing dotted IPv4 allowed). */
function expandIPv6(a: string): number[] {
  let text = a.replace(/%.*$/, "");
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const parse = (part: string | undefined) =>
    part ? part.split(":").map((g) => Number.parseInt(g, 16)) : [];
  const left = parse(head);
  const right = parse(tail ?? undefined);
  const zeros = tail === null ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

/**
 * The client's address key from an `X-Forwarded-For` value behind `hops` trusted proxies:
 * the entry `hops` from the right (the leftmost when there are fewer); null when absent or
 * not an address.
 */
export function forwardedAddress(header: string, hops: number): string | null {
  const entries = header
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (hops === 0 || entries.length === 0) return null;
  return addressKey(entries[Math.max(0, entries.length - hops)]!);
}

/**
 * The address key of a request: read now (uWS invalidates `req` and the peer address
 * after the handler returns or awaits). Falls back to the socket's peer when the
 * forwarded address is missing or malformed.
 */
export function clientAddressOf(res: HttpResponse, req: HttpRequest, proxyHops: number): string {
  const peer = Buffer.from(res.getRemoteAddressAsText()).toString();
  const forwarded = proxyHops > 0 ? forwardedAddress(req.getHeader("x-forwarded-for"), proxyHops) : null;
  return forwarded ?? addressKey(peer) ?? peer;
}
