/**
 * HTTP as the limits and hardening tests need it, where fetch cannot: a request from a
 * chosen source address (127.0.0.x: another client), with any headers (a Content-Length
 * that promises more than is sent), and a WebSocket upgrade whose refusal (status,
 * headers, body) is read rather than thrown.
 */
import { randomBytes } from "node:crypto";
import { type IncomingHttpHeaders, request } from "node:http";

/** An answer: status, headers (lowercase names), body text. */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How to send a request. */
export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Written after the headers (the Content-Length may say otherwise). */
  body?: string | Buffer;
  /** Source address. */
  localAddress?: string;
}

/** Sends one request and reads the whole answer (or the status of one cut short). */
export function rawHttp(url: string, opts: RawRequest = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? "GET",
        headers: opts.headers ?? {},
        agent: false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          });
        res.on("end", done);
        // The server may close the connection after its answer without ending the body cleanly.
        res.on("aborted", done);
        res.on("error", done);
      },
    );
    // Writing a body the server refused to read ends in EPIPE/ECONNRESET after its answer.
    req.on("error", (err) => reject(err));
    if (opts.body !== undefined) req.write(opts.body, () => {});
    req.end();
  });
}

/**
 * Asks for a WebSocket upgrade of `url` (`/ws`, with a token in the query when given);
 * resolves with status 101 (the socket is then dropped) or the refusal.
 */
export function upgradeAnswer(
  url: string,
  opts: { token?: string; localAddress?: string } = {},
): Promise<RawAnswer> {
  const u = new URL(url.replace(/^ws/, "http"));
  if (opts.token) u.searchParams.set("access_token", opts.token);
  return new Promise((resolve, reject) => {
    const req = request(u, {
      agent: false,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-key": randomBytes(16).toString("base64"),
        "sec-websocket-version": "13",
      },
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, headers: res.headers, body: "" });
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}
