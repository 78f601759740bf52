/**
 * The little the SDK needs from a WebSocket, satisfied by the browser's WebSocket, Node's
 * global one (Node 22+) and the `ws` package, plus how to find one at run time.
 */

/** The events of a WebSocket that the SDK listens to. */
export interface SocketEvents {
  open: unknown;
  message: { data: unknown };
  close: { code: number; reason: string };
  error: { message?: unknown; error?: unknown };
}

/** A WebSocket as the SDK uses it. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener<K extends keyof SocketEvents>(type: K, listener: (event: SocketEvents[K]) => void): void;
}

/** A WebSocket constructor (`globalThis.WebSocket`, or `WebSocket` from the `ws` package). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * The constructor to use: the one given, else the global one (browsers, Node 22+), else
 * the `ws` package, loaded lazily so that browser bundles never include it.
 */
export async function resolveWebSocket(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (given) return given;
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  const specifier = "ws";
  const mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as {
    WebSocket?: WebSocketConstructor;
    default?: WebSocketConstructor;
  };
  const ctor = mod.WebSocket ?? mod.default;
  if (!ctor) throw new Error("no WebSocket available: pass the `WebSocket` option");
  return ctor;
}

/** The bytes of a binary message, or undefined for a text (or otherwise unreadable) one. */
export function messageBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/**
 * The HTTP status of a refused handshake when the socket implementation tells it (the
 * `ws` package: "Unexpected server response: 401"); browsers never do.
 */
export function handshakeStatus(event: SocketEvents["error"]): number | undefined {
  const texts = [event.message, event.error instanceof Error ? event.error.message : undefined];
  for (const text of texts) {
    if (typeof text !== "string") continue;
    const m = /Unexpected server response: (\d{3})/.exec(text);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Appends the access token to the WebSocket URL as the `access_token` query parameter. */
export function urlWithToken(url: string, token: string): string {
  const u = new URL(url);
  u.searchParams.set("access_token", token);
  return u.toString();
}
