/**
 * The key that seals the sign-in cookies (transport/cookie-sealing.ts): 32 random bytes,
 * the same on every node and across restarts, so that a cookie one node set opens on all of
 * them. With a shared database it is kept there (SharedSecrets); alone, in
 * `<dataDir>/session-key` (mode 0600).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SharedSecrets } from "../core/ports.js";

/** The key file's name in the data dir. */
export const sessionKeyFile = "session-key";

const keyBytes = 32;

/** The stored key, made and stored first when there is none. */
export async function sessionKeyOf(dataDir: string, secrets?: SharedSecrets): Promise<Uint8Array> {
  const made = randomBytes(keyBytes).toString("base64url");
  let stored: unknown;
  let where: string;
  if (secrets) {
    stored = (await secrets.sharedSessionKey({ kty: "oct", k: made })).k;
    where = "the database's session key";
  } else {
    where = join(dataDir, sessionKeyFile);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    // `wx`: of two processes starting on one data dir, one writes it and both read that one.
    await writeFile(where, made, { flag: "wx", mode: 0o600 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
    stored = (await readFile(where, "utf8")).trim();
  }
  const key = typeof stored === "string" ? Buffer.from(stored, "base64url") : Buffer.alloc(0);
  if (key.length !== keyBytes) throw new Error(`${where} is not a ${keyBytes}-byte base64url key; delete it`);
  return key;
}
