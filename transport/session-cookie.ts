/**
 * The web client's dev session cookie: it holds the session token that `POST
 * /auth/dev/refresh` trades for a new access token, so a reload stays signed in while no
 * token sits where page scripts can read it (HttpOnly). SameSite=Strict and the path
 * `/auth/dev` keep it off every other request, cross-site ones included.
 */
import type { Header } from "./cors.js";

/** The cookie's name. */
export const sessionCookieName = "colink_dev_session";

const attributes = "Path=/auth/dev; HttpOnly; SameSite=Strict";

/** The header that stores `token` in the browser until `expiresAt` (epoch ms). */
export function setSessionCookie(token: string, expiresAt: number, now = Date.now()): Header {
  const maxAge = Math.max(0, Math.floor((expiresAt - now) / 1000));
  return ["set-cookie", `${sessionCookieName}=${token}; ${attributes}; Max-Age=${maxAge}`];
}

/** The header that removes the cookie. */
export function clearSessionCookie(): Header {
  return ["set-cookie", `${sessionCookieName}=; ${attributes}; Max-Age=0`];
}

/** The session token in a `Cookie` request header, or null. */
export function sessionTokenIn(cookieHeader: string): string | null {
  return cookieIn(cookieHeader, sessionCookieName);
}

/** The value of cookie `name` in a `Cookie` request header, or null when it is absent or empty. */
export function cookieIn(cookieHeader: string, name: string): string | null {
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value === "" ? null : value;
    }
  }
  return null;
}
