/**
 * The identity provider's sessions behind access tokens: which session each verified
 * token belongs to (the `sid` claim Keycloak puts in its tokens) and which sessions were
 * signed out. It wraps the token verifier, so every way in (the WebSocket upgrade, the
 * `auth` frame, HTTP) refuses a token of a signed-out session while it is still within its
 * expiry; the connections ask it for their session, to be closed when it is signed out.
 *
 * Signed-out sessions are remembered in memory for an hour (access tokens of the shipped
 * realm live five minutes), on every node that heard of the sign-out: a node that starts
 * afterwards does not know it.
 */
import { decodeJwt } from "jose";
import { fail } from "../core/errors.js";
import type { TokenVerifier } from "../core/ports.js";
import type { Principal } from "../core/types.js";

/** How long a signed-out session's tokens are refused. */
export const signedOutMemoryMs = 60 * 60_000;
/** Signed-out sessions remembered at most (the oldest is forgotten first). */
const maxSignedOut = 100_000;

/** The `sid` claim of a token, or null. Only for tokens the verifier accepted: this checks nothing. */
function sessionIdIn(token: string): string | null {
  try {
    const { sid } = decodeJwt(token);
    return typeof sid === "string" && sid !== "" ? sid : null;
  } catch {
    return null;
  }
}

/** A token verifier that knows each token's session and refuses signed-out ones. */
export class TokenSessions implements TokenVerifier {
  /**
   * The session of each principal the inner verifier gave. It caches one principal per
   * token, so a principal object stands for one token, and so for one session.
   */
  private readonly sessions = new WeakMap<Principal, string | null>();
  /** Signed-out session ids, with when to forget them (ascending: insertion order). */
  private readonly signedOut = new Map<string, number>();

  constructor(
    private readonly inner: TokenVerifier,
    private readonly memoryMs = signedOutMemoryMs,
  ) {}

  async verify(token: string): Promise<Principal> {
    const principal = await this.inner.verify(token);
    let sid = this.sessions.get(principal);
    if (sid === undefined) {
      sid = sessionIdIn(token);
      this.sessions.set(principal, sid);
    }
    if (sid !== null && this.isSignedOut(sid)) throw fail.unauthenticated("session signed out");
    return principal;
  }

  /** The session of a principal this verifier gave, or null (a token without `sid`, such as a dev token). */
  sessionOf(principal: Principal): string | null {
    return this.sessions.get(principal) ?? null;
  }

  /** From now on, tokens of session `sid` are refused. */
  signOut(sid: string, now = Date.now()): void {
    this.forgetOld(now);
    this.signedOut.delete(sid);
    if (this.signedOut.size >= maxSignedOut) this.signedOut.delete(this.signedOut.keys().next().value!);
    this.signedOut.set(sid, now + this.memoryMs);
  }

  /** Whether session `sid` was signed out (within the memory). */
  isSignedOut(sid: string, now = Date.now()): boolean {
    const until = this.signedOut.get(sid);
    return until !== undefined && until > now;
  }

  private forgetOld(now: number): void {
    for (const [sid, until] of this.signedOut) {
      if (until > now) break;
      this.signedOut.delete(sid);
    }
  }
}
