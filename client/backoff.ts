/**
 * Reconnect and retry delays: exponential growth, capped, with "full jitter" (the delay
 * is drawn uniformly from [0, ceiling)), so that many clients dropped at once do not
 * come back in lock-step.
 */

/** Delay bounds. */
export interface BackoffOptions {
  /** Ceiling of the first attempt, doubled on each further attempt. Default 200. */
  minDelayMs?: number;
  /** Cap of the ceiling. Default 10000. */
  maxDelayMs?: number;
}

/** Default delay bounds. */
export const defaultBackoff = { minDelayMs: 200, maxDelayMs: 10_000 } as const;

/**
 * The delay before attempt number `attempt` (0 for the first retry):
 * uniform in [0, min(maxDelayMs, minDelayMs · 2^attempt)).
 * `random` returns a number in [0, 1) (injectable for tests).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { min, max } = bounds(options);
  return Math.floor(random() * backoffCeiling(attempt, { minDelayMs: min, maxDelayMs: max }));
}

/** The upper bound of the delay of attempt number `attempt`. */
export function backoffCeiling(attempt: number, options: BackoffOptions = {}): number {
  const { min, max } = bounds(options);
  // The exponent is clamped so that 2^n stays finite and 0 · 2^n never becomes NaN.
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  return Math.min(max, min * 2 ** exponent);
}

function bounds(options: BackoffOptions): { min: number; max: number } {
  const min = Math.max(0, options.minDelayMs ?? defaultBackoff.minDelayMs);
  const max = Math.max(min, options.maxDelayMs ?? defaultBackoff.maxDelayMs);
  return { min, max };
}

/** A counter of consecutive attempts that hands out the next delay. */
export class Backoff {
  private attempts = 0;

  constructor(
    private readonly options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {}

  /** Attempts made since the last reset. */
  get attempt(): number {
    return this.attempts;
  }

  /** The delay before the next attempt; counts the attempt. */
  next(): number {
    return backoffDelay(this.attempts++, this.options, this.random);
  }

  /** Starts over after a success. */
  reset(): void {
    this.attempts = 0;
  }
}
