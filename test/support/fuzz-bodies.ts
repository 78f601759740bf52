/**
 * Fuzz requests for the HTTP API: every route that reads a JSON body gets random and
 * mutated bodies (its example's text with characters changed, fields replaced by anything,
 * random JSON, random bytes and invalid UTF-8, huge numbers, deep nesting, bodies over the
 * limit), under wrong content types and sometimes without a valid token. Whatever comes
 * in, the answer must be a JSON error with a known code and its own status, or a success.
 */
import fc from "fast-check";
import { type ErrorCode, httpStatusOf } from "../../core/errors.js";
import { httpRoutes, type RouteSpec } from "../../transport/http-routes.js";

/** One generated request; ids in the path are chosen when it is sent (`pick`). */
export interface FuzzBody {
  route: RouteSpec;
  /** Which of the ids on offer fills each path parameter. */
  pick: number;
  contentType: string | null;
  /** Send no token, or a mangled one, instead of the caller's. */
  token: "valid" | "none" | "mangled";
  body: Uint8Array;
}

/** The routes whose body is read. */
export const bodyRoutes: readonly RouteSpec[] = httpRoutes.filter((r) => r.body === true);

const utf8 = (text: string) => new TextEncoder().encode(text);

/** `text` with characters deleted, inserted or replaced (JSON punctuation is a likely pick). */
function mangledText(text: string, edits: Array<[number, number, string]>): string {
  let out = text;
  for (const [at, how, ch] of edits) {
    const i = out.length === 0 ? 0 : at % out.length;
    if (how === 0) out = out.slice(0, i) + out.slice(i + 1);
    else if (how === 1) out = out.slice(0, i) + ch + out.slice(i);
    else out = out.slice(0, i) + ch + out.slice(i + 1);
  }
  return out;
}

/** Bodies for one route, around its example body; `maxBodyBytes` is the server's limit. */
function bodiesFor(route: RouteSpec, maxBodyBytes: number): fc.Arbitrary<Uint8Array> {
  const example = (route.example.body ?? {}) as Record<string, unknown>;
  const keys = Object.keys(example);
  const anyValue = fc.anything({ maxDepth: 4, maxKeys: 8, withBigInt: false });
  const hugeNumber = fc.constantFrom(
    "1e400",
    "-1e400",
    "123456789012345678901234567890",
    "-0",
    "1e-400",
    "9007199254740993",
    "0.1e999999999",
  );
  const punctuation = fc.constantFrom('"', "{", "}", "[", "]", ":", ",", "\\", "\u0000", "\u2028", "\ud800");
  return fc.oneof(
    // The example as text, with characters changed.
    fc
      .array(
        fc.tuple(
          fc.nat(),
          fc.integer({ min: 0, max: 2 }),
          fc.oneof(punctuation, fc.string({ maxLength: 3 })),
        ),
        {
          minLength: 1,
          maxLength: 5,
        },
      )
      .map((edits) => utf8(mangledText(JSON.stringify(example), edits))),
    // A field replaced by anything, removed, or one added.
    fc
      .tuple(fc.nat(), fc.constantFrom("replace", "drop", "add"), fc.string({ maxLength: 20 }), anyValue)
      .map(([pick, how, name, value]) => {
        const b: Record<string, unknown> = { ...example };
        const key = keys.length > 0 ? keys[pick % keys.length]! : name;
        if (how === "drop") delete b[key];
        else b[how === "add" ? name : key] = value;
        try {
          return utf8(JSON.stringify(b) ?? "null");
        } catch {
          return utf8("{}");
        }
      }),
    // A number JSON cannot hold, in place of a field.
    fc.tuple(fc.nat(), hugeNumber).map(([pick, n]) => {
      const key = keys.length > 0 ? keys[pick % keys.length]! : "n";
      return utf8(JSON.stringify({ ...example, [key]: 0 }).replace(`"${key}":0`, `"${key}":${n}`));
    }),
    // Random JSON, and random bytes (mostly invalid UTF-8).
    fc.json({ maxDepth: 4 }).map(utf8),
    fc.uint8Array({ maxLength: 400 }),
    // Invalid UTF-8 inside a string of the example.
    fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 6 })).map(([pick, junk]) => {
      const key = keys.length > 0 ? keys[pick % keys.length]! : "x";
      const [before, after] = JSON.stringify({ ...example, [key]: "\u0001" }).split("\\u0001") as [
        string,
        string,
      ];
      return new Uint8Array([...utf8(before), ...junk.map((b) => b | 0x80), ...utf8(after)]);
    }),
    // Deep nesting, a prototype key, an empty or blank body, and one over the limit.
    fc.integer({ min: 100, max: 30_000 }).map((depth) => utf8(`${"[".repeat(depth)}${"]".repeat(depth)}`)),
    fc
      .integer({ min: 100, max: 10_000 })
      .map((depth) => utf8(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`)),
    fc.constant(
      utf8(
        `{"__proto__":{"admin":true},"constructor":{"prototype":{}}${keys.length > 0 ? "," : ""}${JSON.stringify(example).slice(1)}`,
      ),
    ),
    fc.constantFrom(utf8(""), utf8("   \n"), utf8("null"), utf8("[]"), utf8('"x"')),
    fc.integer({ min: 1, max: 64 }).map((extra) => new Uint8Array(maxBodyBytes + extra).fill(0x20)),
  );
}

/** Requests to the routes that read a body. */
export function fuzzBodyArbitrary(maxBodyBytes: number): fc.Arbitrary<FuzzBody> {
  return fc.constantFrom(...bodyRoutes).chain((route) =>
    fc.record({
      route: fc.constant(route),
      pick: fc.nat(),
      contentType: fc.constantFrom(
        "application/json",
        "application/json",
        "application/json; charset=latin1",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/\u00ff\u00fejson",
        "garbage",
        null,
      ),
      token: fc.constantFrom("valid", "valid", "valid", "valid", "valid", "valid", "none", "mangled"),
      body: bodiesFor(route, maxBodyBytes),
    }),
  );
}

/** What is wrong with an answer to a fuzzed request, or null when it is a proper one. */
export function improperAnswer(status: number, text: string): string | null {
  let body: { error?: { code?: unknown; message?: unknown; retryable?: unknown } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return `${status} with a body that is not JSON: ${text.slice(0, 80)}`;
  }
  if (status >= 200 && status < 300) return null;
  const code = body.error?.code;
  if (typeof code !== "string" || !Object.hasOwn(httpStatusOf, code))
    return `${status} without a known code: ${text.slice(0, 120)}`;
  if (httpStatusOf[code as ErrorCode] !== status) return `${status} with code ${code}`;
  if (code === "internal") return `internal error: ${text.slice(0, 120)}`;
  if (typeof body.error!.message !== "string" || typeof body.error!.retryable !== "boolean")
    return `malformed error body: ${text.slice(0, 120)}`;
  return null;
}
