/**
 * End-to-end harness: starts the real server (`dist/app/main.js`, built by `npm test`)
 * as a child process on a free port, with its own data dir or Postgres schema, and
 * gives tests dev tokens and SDK clients.
 */
import { expect } from "vitest";
import { ColinkClient } from "../client/index.js";
import {
  type ColinkProcess,
  freePort,
  localDatabaseUrl,
  type StoreKind,
  startColink,
} from "./support/processes.js";

/** The Postgres the tests use. */
export const testDatabaseUrl = localDatabaseUrl;

/** Which store a server runs on. */
export type { StoreKind };

/** Both stores, for `describe.each`. */
export const storeKinds: StoreKind[] = ["pglite", "postgres"];

/** A running server under test: the real server process (see test/support/processes.ts). */
export type TestServer = ColinkProcess;

/** Starts a server on `store`, with extra environment variables. */
export function startServer(store: StoreKind, env: Record<string, string> = {}): Promise<TestServer> {
  return startColink(store, env);
}

export { freePort };

/**
 * Starts a server that must fail to start, and returns how it exited: its exit code and
 * the non-empty lines it printed.
 */
export async function startFailure(
  store: StoreKind,
  env: Record<string, string>,
): Promise<{ code: number; lines: string[] }> {
  let error: Error | null = null;
  let started: TestServer | null = null;
  try {
    started = await startServer(store, env);
  } catch (err) {
    error = err as Error;
  }
  await started?.cleanup();
  expect(error, "the server must not start").not.toBeNull();
  const m = /^server exited with (\S+):\n([\s\S]*)$/.exec(error!.message);
  expect(m, error!.message).not.toBeNull();
  const lines = m![2]!.split("\n").filter((l) => l.trim() !== "");
  return { code: Number(m![1]), lines };
}

/** A dev token and user id for `username` (with a site role claim when given). */
export async function devToken(
  server: Pick<TestServer, "baseUrl">,
  username: string,
  role?: string,
): Promise<{ token: string; userId: string }> {
  const res = await fetch(`${server.baseUrl}/auth/dev/token`, {
    method: "POST",
    body: JSON.stringify(role === undefined ? { username } : { username, role }),
  });
  if (!res.ok) throw new Error(`dev token failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { accessToken: string; user: { id: string } };
  return { token: body.accessToken, userId: body.user.id };
}

/** A connected SDK client for `username`. */
export async function connectAs(
  server: TestServer,
  username: string,
  opts: Partial<ConstructorParameters<typeof ColinkClient>[0]> = {},
): Promise<{ client: ColinkClient; userId: string; token: string }> {
  const { token, userId } = await devToken(server, username);
  const client = new ColinkClient({ url: server.wsUrl, token, ...opts });
  await client.connect();
  return { client, userId, token };
}

/** JSON over HTTP with a bearer token. */
export async function api(
  server: TestServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waits until `check` is true, polling. */
export async function until(check: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
