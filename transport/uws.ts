/**
 * Loads the native uWebSockets.js build that fits this runtime (see `uws-build.ts`).
 * The binary is loaded directly, not through its package's entry point: the Node 20
 * package's entry falls back to a JavaScript stand-in that starts but never opens a
 * WebSocket. When no native build loads, the server must not start at all.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as UwsModule from "@trufflesuite/uws-js-unofficial";
import { chooseUwsBuild, type Runtime, supportedRuntimes } from "./uws-build.js";

/** The uWebSockets.js API (both packages expose the same one). */
export type Uws = typeof UwsModule;

/**
 * FOR TESTS ONLY: a file to load in place of the chosen binary, so a test can see the
 * refusal on a runtime that does have a build (point it at a file that is not a binary).
 */
export const testOnlyBinaryVariable = "COLINK_TEST_ONLY_UWS_BINARY";

/** No native uWebSockets.js build could be loaded; the message is the whole explanation. */
export class NativeTransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NativeTransportError";
  }
}

/** The process's runtime facts. */
export function currentRuntime(): Runtime {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  return {
    abi: Number(process.versions.modules),
    platform: process.platform,
    arch: process.arch,
    glibc: header?.glibcVersionRuntime ?? null,
  };
}

/** The loaded module and what was loaded. */
export interface LoadedUws {
  uws: Uws;
  /** `package@version`, for the start line. */
  build: string;
}

let loaded: LoadedUws | null = null;

/** Loads (once) and returns uWS, or throws `NativeTransportError` saying why it cannot. */
export function loadUws(): LoadedUws {
  if (loaded) return loaded;
  const runtime = currentRuntime();
  const facts =
    `Node ${process.version} (ABI ${runtime.abi}) on ${runtime.platform}-${runtime.arch}, ` +
    `glibc ${runtime.glibc ?? "none"}`;
  const choice = chooseUwsBuild(runtime);
  if ("refusal" in choice) throw refusal(facts, `No build to try: ${choice.refusal}.`);
  const require = createRequire(import.meta.url);
  let tried = `${choice.build.package} (${choice.build.binary})`;
  try {
    const entry = require.resolve(choice.build.package);
    const build = `${choice.build.package}@${packageVersion(entry, choice.build.package)}`;
    tried = `${build} (${choice.build.binary})`;
    const file = process.env[testOnlyBinaryVariable] || join(dirname(entry), choice.build.binary);
    const uws = require(file) as Uws;
    if (typeof uws?.App !== "function") throw new Error(`${file} is not a uWebSockets.js binary`);
    loaded = { uws, build };
    return loaded;
  } catch (err) {
    throw refusal(facts, `Tried ${tried}: ${(err as Error).message.split("\n")[0]}.`);
  }
}

/** The version in the package.json of `name` that holds `entry`, found by walking up from it. */
function packageVersion(entry: string, name: string): string {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
    if (pkg.name === name) return pkg.version ?? "?";
  }
  return "?";
}

function refusal(facts: string, attempt: string): NativeTransportError {
  return new NativeTransportError(
    `no native uWebSockets.js build loads on this runtime, so Colink cannot serve WebSockets. ` +
      `${facts}. ${attempt} Supported: ${supportedRuntimes}`,
  );
}
