/**
 * Server environments for the tests (and benchmarks) that are not about the rate limits
 * but would run into them: a fuzzer opening hundreds of connections a second, a load
 * generator. Most tests run with the defaults; a file that needs these says why.
 */
import { defaultLimits, type Limits, limitVariables } from "../../core/config.js";
import { type RateClass, rateBudgetVariable, rateClasses } from "../../core/rate-classes.js";

/** Every per-user and per-address budget of `classes` set to `value` ("0": off). */
function budgets(classes: readonly RateClass[], value: string): Record<string, string> {
  return Object.fromEntries(
    classes.flatMap((c) => [
      [rateBudgetVariable(c, "user"), value],
      [rateBudgetVariable(c, "ip"), value],
    ]),
  );
}

/** The per-user and per-address budgets of `classes` off. */
export function rateLimitsOff(classes: readonly RateClass[] = rateClasses): Record<string, string> {
  return budgets(classes, "0");
}

/** Every rate budget and both connection caps off. */
export const allLimitsOff: Record<string, string> = {
  ...rateLimitsOff(),
  COLINK_MAX_CONNS_PER_USER: "0",
  COLINK_MAX_CONNS_PER_IP: "0",
};

/**
 * The limits on but out of reach (the largest values their ranges take): for load tests,
 * whose few users on one address send as fast as the server answers, and which should
 * still pay what counting every request costs.
 */
export const limitsOutOfReach: Record<string, string> = {
  ...budgets(rateClasses, "10000000"),
  COLINK_MAX_CONNS_PER_USER: "1000000",
  COLINK_MAX_CONNS_PER_IP: "1000000",
};

/** Every rate budget, the window and both connection caps at their defaults (over a harness that set others). */
export const defaultRateLimits: Record<string, string> = Object.fromEntries(
  (Object.keys(limitVariables) as Array<keyof Limits>)
    .filter((key) => key.startsWith("rate") || key.startsWith("maxConns"))
    .map((key) => [limitVariables[key], String(defaultLimits[key])]),
);
