/**
 * When to renew the access token: about a minute before it expires, never sooner than a
 * few seconds from now (a short-lived token would otherwise be renewed in a loop).
 */

export const refreshLeadMs = 60_000;
export const minRefreshDelayMs = 5_000;
/**
 * The longest delay a timer takes (2^31 - 1 ms, about 24.8 days): a longer one fires at
 * once. A token that lives longer is renewed early, which does no harm.
 */
export const maxRefreshDelayMs = 2 ** 31 - 1;

/** Milliseconds until the renewal, or null when the expiry is unknown. */
export function refreshDelayMs(expiresAt: number | null, now: number): number | null {
  if (expiresAt === null) return null;
  return Math.min(maxRefreshDelayMs, Math.max(minRefreshDelayMs, expiresAt - now - refreshLeadMs));
}

/** Whether a token is too close to its expiry to open a connection with. */
export function isExpiring(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt - now < minRefreshDelayMs;
}
