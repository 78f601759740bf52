/**
 * Serves the built web client (web/dist) at `/`. The files are read once at start (a
 * build is a few hundred kilobytes), with their ETag and, for text, a gzip'd copy.
 * Hashed files under `/assets/` are cached forever; `index.html` is revalidated on every
 * load, and answers every path of the app's own routes (`/c/...`, `/signin`), so a reload
 * of any page works. Paths of the API are left to their routes (uWS `setYield`).
 * Every answer carries the security headers and the app's CSP; a request declaring a body
 * larger than `COLINK_MAX_PAYLOAD_BYTES` (pages take none) is refused with 413.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { gzipSync } from "node:zlib";
import type { HttpRequest, HttpResponse, TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import type { FileConfig } from "../core/config.js";
import type { Header } from "./cors.js";
import { cutsConnection, declaredTooLarge, statusText } from "./http-json.js";
import { dataContentSecurityPolicy } from "./security-headers.js";

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Worth compressing: text, and not tiny. */
const compressible = new Set([".html", ".js", ".css", ".json", ".map", ".svg", ".txt"]);

const immutable = "public, max-age=31536000, immutable";
const revalidate = "no-cache";

/** Paths that belong to the server, never to the app's routes. */
const serverPaths = ["/v1/", "/auth/", "/ws", "/openapi.json", "/health", "/ready"];

/**
 * The app's Content-Security-Policy: its own scripts and styles only, nothing inline;
 * requests to this origin (the API, the WebSocket, sign-in: CSP3's 'self' covers ws: and
 * wss: on the same host; single sign-on goes to the issuer by navigation, not by fetch),
 * and where files live elsewhere (S3) uploads to and images from there (`fileSources`).
 */
export function contentSecurityPolicy(fileSources: readonly string[] = []): string {
  const connect = ["'self'", ...fileSources].join(" ");
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${["'self'", "data:", "blob:", ...fileSources].join(" ")}`,
    "font-src 'self'",
    `connect-src ${connect}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

/**
 * The CSP sources of the URLs files are uploaded to and downloaded from, when they are not
 * this server's: the S3 endpoint (with its bucket subdomains unless path-style), AWS's S3
 * hosts without one, and the public URL when it names another origin.
 */
export function fileSourcesOf(files: FileConfig): string[] {
  const sources: string[] = [];
  if (files.publicUrl) sources.push(new URL(files.publicUrl).origin);
  const { s3 } = files;
  const clientEndpoint = s3?.publicEndpoint ?? s3?.endpoint;
  if (s3 && clientEndpoint) {
    const endpoint = new URL(clientEndpoint);
    sources.push(endpoint.origin);
    if (!s3.forcePathStyle) sources.push(`${endpoint.protocol}//*.${endpoint.host}`);
  } else if (s3) {
    sources.push("https://*.amazonaws.com");
  }
  return sources;
}

interface SiteFile {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  cacheControl: string;
}

/** The built web client, in memory. */
export class StaticSite {
  private constructor(
    private readonly files: ReadonlyMap<string, SiteFile>,
    private readonly headers: readonly Header[],
    private readonly maxBodyBytes: number,
  ) {}

  /**
   * Reads the build in `dir`; null when it holds no `index.html` (not built). `security`
   * are the headers of every answer (security-headers.ts), `csp` the app's policy.
   */
  static load(
    dir: string,
    csp: string,
    security: readonly Header[],
    maxBodyBytes: number,
  ): StaticSite | null {
    if (!existsSync(join(dir, "index.html"))) return null;
    const files = new Map<string, SiteFile>();
    for (const path of filesUnder(dir)) {
      const body = readFileSync(path);
      const ext = extname(path);
      const url = `/${relative(dir, path).split(sep).join("/")}`;
      const gzip = compressible.has(ext) && body.length > 1024 ? gzipSync(body, { level: 9 }) : null;
      files.set(url, {
        body,
        gzip: gzip && gzip.length < body.length ? gzip : null,
        type: contentTypes[ext] ?? "application/octet-stream",
        etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
        cacheControl: url.startsWith("/assets/") ? immutable : revalidate,
      });
    }
    return new StaticSite(files, [["content-security-policy", csp], ...security], maxBodyBytes);
  }

  /** Files served, for the start line. */
  get size(): number {
    return this.files.size;
  }

  /** Registers `GET /*`: a file of the build, else `index.html` for the app's routes. */
  register(app: TemplatedApp): void {
    app.get("/*", (res, req) => {
      const url = req.getUrl();
      const file = this.fileFor(url);
      if (!file) {
        // Not ours (an API path, or a missing asset): the next route (the JSON 404) answers.
        req.setYield(true);
        return;
      }
      const contentLength = req.getHeader("content-length");
      if (declaredTooLarge(contentLength, this.maxBodyBytes)) {
        tooLarge(res, this.headers, this.maxBodyBytes, cutsConnection(contentLength));
        return;
      }
      this.send(res, file, req.getHeader("if-none-match"), req.getHeader("accept-encoding"));
    });
  }

  private fileFor(url: string): SiteFile | undefined {
    const exact = this.files.get(url === "/" ? "/index.html" : url);
    if (exact) return exact;
    if (url.startsWith("/assets/") || serverPaths.some((p) => url === p || url.startsWith(p))) {
      return undefined;
    }
    return this.files.get("/index.html");
  }

  private send(res: HttpResponse, file: SiteFile, ifNoneMatch: string, acceptEncoding: string): void {
    res.cork(() => {
      const notModified = ifNoneMatch !== "" && ifNoneMatch.split(/\s*,\s*/).includes(file.etag);
      res.writeStatus(notModified ? statusText[304]! : statusText[200]!);
      res.writeHeader("etag", file.etag).writeHeader("cache-control", file.cacheControl);
      for (const [name, value] of this.headers) res.writeHeader(name, value);
      if (notModified) {
        res.endWithoutBody();
        return;
      }
      res.writeHeader("content-type", file.type);
      if (file.gzip) res.writeHeader("vary", "accept-encoding");
      if (file.gzip && /\bgzip\b/.test(acceptEncoding)) {
        res.writeHeader("content-encoding", "gzip").end(file.gzip);
      } else {
        res.end(file.body);
      }
    });
  }
}

/** 413 for a request that declared a body too large (the body is never read). */
function tooLarge(res: HttpResponse, headers: readonly Header[], limit: number, close: boolean): void {
  res.cork(() => {
    res.writeStatus(statusText[413]!).writeHeader("content-type", "application/json");
    for (const [name, value] of headers) res.writeHeader(name, value);
    const error = { code: "too_large", message: `body is larger than ${limit} bytes`, retryable: false };
    res.end(JSON.stringify({ error }), close);
  });
}

/** Answers `/` when the web client is not built: a 404 that says how to build it. */
export function registerMissingSite(app: TemplatedApp, dir: string, security: readonly Header[]): void {
  app.get("/", (res: HttpResponse, _req: HttpRequest) => {
    res.cork(() => {
      res.writeStatus(statusText[404]!).writeHeader("content-type", "application/json");
      for (const [name, value] of security) res.writeHeader(name, value);
      res.writeHeader(...dataContentSecurityPolicy);
      res.end(
        JSON.stringify({
          error: {
            code: "not_found",
            message: `the web client is not built (no ${join(dir, "index.html")}): run npm run build`,
            retryable: false,
          },
        }),
      );
    });
  });
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}
