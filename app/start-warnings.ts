/**
 * What the start banner warns about: settings that are fine on a developer's machine and
 * dangerous anywhere else.
 */
import type { Config } from "../core/config.js";

/** Whether `host` (COLINK_HOST) listens on this machine's loopback only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/** The warnings of a start with `config` (empty: nothing to warn about). */
export function startWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.devAuth && !isLoopbackHost(config.host)) {
    warnings.push(
      `the dev issuer is on (COLINK_DEV_AUTH) and the server listens on ${config.host}, not only on loopback: ` +
        "anyone who reaches it can sign in as anyone, admin included. Set COLINK_HOST=127.0.0.1, or COLINK_DEV_AUTH=off with COLINK_OIDC_ISSUER",
    );
  }
  return warnings;
}
