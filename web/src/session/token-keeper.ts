/**
 * Holds the access token in memory and renews it about a minute before it expires, with
 * whichever renewal the sign-in gave (dev cookie or OIDC refresh token). The SDK asks it for
 * a token before each connection attempt. A renewal the server refuses ends the session; one
 * that cannot reach the server (it restarts, the network is down) is tried again, so an
 * outage that spans the renewal does not sign anyone out.
 */
import { reportError } from "../logger.js";
import { SignInError } from "./auth-api.js";
import { isExpiring, refreshDelayMs } from "./token-refresh.js";

/** Retries of a renewal that could not reach the server: from 2 s, doubling, to 30 s. */
const firstRetryMs = 2_000;
const maxRetryMs = 30_000;

/** Whether a renewal failed because the server refused it (the session is over), not because it could not be asked. */
export function isRefusal(error: unknown): boolean {
  return error instanceof SignInError && error.status >= 400 && error.status < 500 && error.status !== 429;
}

export interface AccessToken {
  accessToken: string;
  expiresAt: number | null;
}

export class TokenKeeper {
  private current: AccessToken;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private renewing: Promise<AccessToken> | null = null;
  private stopped = false;

  constructor(
    first: AccessToken,
    private readonly renewToken: () => Promise<AccessToken>,
    private readonly onLost: (error: unknown) => void,
  ) {
    this.current = first;
    this.schedule();
  }

  /** A token good for a new connection: renewed first if it is about to expire. */
  async token(): Promise<string> {
    if (isExpiring(this.current.expiresAt, Date.now())) await this.renew();
    return this.current.accessToken;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(retryMs = 0): void {
    clearTimeout(this.timer);
    const delay = retryMs > 0 ? retryMs : refreshDelayMs(this.current.expiresAt, Date.now());
    if (delay === null || this.stopped) return;
    this.timer = setTimeout(() => {
      this.renew().catch((error) => {
        reportError("renewing the access token", error);
        if (this.stopped) return;
        if (isRefusal(error)) this.onLost(error);
        else this.schedule(Math.min(maxRetryMs, Math.max(firstRetryMs, retryMs * 2)));
      });
    }, delay);
  }

  private renew(): Promise<AccessToken> {
    this.renewing ??= this.renewToken()
      .then((next) => {
        this.current = next;
        this.schedule();
        return next;
      })
      .finally(() => {
        this.renewing = null;
      });
    return this.renewing;
  }
}
