/**
 * Sealed cookie values: a JSON payload encrypted and authenticated with AES-256-GCM under
 * the server's session key (app/session-key.ts), so a browser holds what only the server
 * can read or change. Each value is bound to its purpose (the cookie's name, as additional
 * data: a sign-in cookie cannot be passed off as a session cookie) and carries its expiry.
 * Format: `base64url(iv[12] ‖ ciphertext ‖ tag[16])`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const ivBytes = 12;
const tagBytes = 16;

/** Seals and opens cookie values with one key. */
export class CookieSealer {
  constructor(private readonly key: Uint8Array) {
    if (key.length !== 32) throw new TypeError("CookieSealer: the key must be 32 bytes");
  }

  /** `payload` sealed for `purpose`, readable until `expiresAt` (epoch ms). */
  seal(purpose: string, payload: Record<string, unknown>, expiresAt: number): string {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const plain = Buffer.from(JSON.stringify({ ...payload, exp: expiresAt }));
    return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString(
      "base64url",
    );
  }

  /**
   * The payload of a value sealed for `purpose`, or null when it is not one (made up,
   * changed, sealed with another key or for another purpose) or has expired.
   */
  open(purpose: string, sealed: string, now = Date.now()): Record<string, unknown> | null {
    const bytes = Buffer.from(sealed, "base64url");
    if (bytes.length <= ivBytes + tagBytes) return null;
    const decipher = createDecipheriv("aes-256-gcm", this.key, bytes.subarray(0, ivBytes));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
    let payload: unknown;
    try {
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(ivBytes, bytes.length - tagBytes)),
        decipher.final(),
      ]);
      payload = JSON.parse(plain.toString("utf8"));
    } catch {
      // A failed tag check: not sealed by this key for this purpose.
      return null;
    }
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return null;
    const { exp, ...rest } = payload as Record<string, unknown>;
    if (typeof exp !== "number" || exp <= now) return null;
    return rest;
  }
}
