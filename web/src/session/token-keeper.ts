/**
 * Holds the access token in memory and renews it about a minute before it expires, with
 * whichever renewal the sign-in gave (dev cookie or OIDC refresh token). The SDK asks it for
 * a token before each connection attempt.
 */
import { reportError } from "../logger.js";
import { isExpiring, refreshDelayMs } from "./token-refresh.js";

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

  private schedule(): void {
    clearTimeout(this.timer);
    const delay = refreshDelayMs(this.current.expiresAt, Date.now());
    if (delay === null || this.stopped) return;
    this.timer = setTimeout(() => {
      this.renew().catch((error) => {
        reportError("renewing the access token", error);
        if (!this.stopped) this.onLost(error);
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
