/**
 * Serves the built web client (web/dist) at `/`. The files are read once at start (a
 * build is a few hundred kilobytes), with their ETag and, for text, a gzip'd copy.
 * Hashed files under `/assets/` are cached forever; `index.html` is revalidated on every
 * load, and answers every path of the app's own routes (`/c/...`, `/signin`), so a reload
 * of any page works. Paths of the API are left to their routes (uWS `setYield`).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { gzipSync } from "node:zlib";
import type { HttpRequest, HttpResponse, TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import type { Header } from "./cors.js";
import { statusText } from "./http-json.js";

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
 * requests to this origin (the API and the WebSocket: CSP3's 'self' covers ws: and wss:
 * on the same host) and, with OIDC sign-in, to the issuer's token endpoint.
 */
export function contentSecurityPolicy(oidcIssuer: string | null): string {
  const connect = ["'self'", ...(oidcIssuer ? [new URL(oidcIssuer).origin] : [])].join(" ");
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
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
  ) {}

  /** Reads the build in `dir`; null when it holds no `index.html` (not built). */
  static load(dir: string, csp: string): StaticSite | null {
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
    const headers: Header[] = [
      ["content-security-policy", csp],
      ["x-content-type-options", "nosniff"],
      ["referrer-policy", "no-referrer"],
      ["x-frame-options", "DENY"],
    ];
    return new StaticSite(files, headers);
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

/** Answers `/` when the web client is not built: a 404 that says how to build it. */
export function registerMissingSite(app: TemplatedApp, dir: string): void {
  app.get("/", (res: HttpResponse, _req: HttpRequest) => {
    res.cork(() => {
      res.writeStatus(statusText[404]!).writeHeader("content-type", "application/json");
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
