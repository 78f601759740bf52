/**
 * The account check on every way in (the WebSocket upgrade, the `auth` frame, HTTP): a
 * verified token of a deactivated user is refused (401 `unauthenticated`, "account
 * deactivated"; a WebSocket closes with 4006), and a role an admin set (role.set) replaces
 * the token's role claim. It wraps the token verifier, like TokenSessions.
 *
 * Each user's account state is cached per node, so the hot path (an HTTP request) costs a
 * map lookup: loaded from the user's actor on first sight, forgotten when an admin changes
 * the account (the actor's `accountChanged` reaches every node, as a sign-out does) or when
 * the bus was lost (events may have been missed), and after `ttlMs` at the latest.
 */

import { fail } from "../core/errors.js";
import type { AccountState, TokenVerifier } from "../core/ports.js";
import type { Principal } from "../core/types.js";

/** How long an account's state is trusted without news (the bus tells of changes at once). */
const defaultTtlMs = 60_000;
/** Accounts cached at most (the oldest is forgotten first). */
const maxCached = 100_000;

/** A token verifier that refuses deactivated users and applies the role an admin set. */
export class AccountGate implements TokenVerifier {
  private readonly cached = new Map<string, { state: AccountState; until: number }>();
  private readonly loading = new Map<string, Promise<AccountState>>();
  /** Principals with the admin's role, one per principal of the inner verifier (one per token). */
  private readonly derived = new WeakMap<Principal, Principal>();
  /** Counts forgets: a load that began before one does not cache its (maybe stale) answer. */
  private epoch = 0;

  constructor(
    private readonly inner: TokenVerifier,
    /** Reads a user's account state (from the user's actor). */
    private readonly load: (userId: string) => Promise<AccountState>,
    private readonly ttlMs = defaultTtlMs,
  ) {}

  async verify(token: string): Promise<Principal> {
    const principal = await this.inner.verify(token);
    // A cached state is used without another await (the hot path of every HTTP request).
    const known = this.stateOf(principal.userId);
    const state = known instanceof Promise ? await known : known;
    if (state.deactivated) throw fail.deactivated();
    const role = state.roleFromAdmin;
    if (role === null || role === principal.role) return principal;
    let made = this.derived.get(principal);
    if (made?.role !== role) {
      made = { ...principal, role };
      this.derived.set(principal, made);
    }
    return made;
  }

  /** Forgets a user's account state: the next token of theirs reads it again. */
  forget(userId: string): void {
    this.epoch++;
    this.cached.delete(userId);
    this.loading.delete(userId);
  }

  /** Forgets every account's state (the cluster bus was lost: changes may have been missed). */
  forgetAll(): void {
    this.epoch++;
    this.cached.clear();
    this.loading.clear();
  }

  private stateOf(userId: string): Promise<AccountState> | AccountState {
    const hit = this.cached.get(userId);
    if (hit && hit.until > Date.now()) return hit.state;
    let pending = this.loading.get(userId);
    if (!pending) {
      const epoch = this.epoch;
      pending = this.load(userId).then(
        (state) => {
          if (this.loading.get(userId) === pending) this.loading.delete(userId);
          if (epoch === this.epoch) this.remember(userId, state);
          return state;
        },
        (err: unknown) => {
          if (this.loading.get(userId) === pending) this.loading.delete(userId);
          throw err;
        },
      );
      this.loading.set(userId, pending);
    }
    return pending;
  }

  private remember(userId: string, state: AccountState): void {
    this.cached.delete(userId);
    if (this.cached.size >= maxCached) this.cached.delete(this.cached.keys().next().value!);
    this.cached.set(userId, { state, until: Date.now() + this.ttlMs });
  }
}
