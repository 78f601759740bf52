/** How the transport reads a user's account state: from the user's actor (which reads the store). */
import { systemPrincipal } from "../actors/envelope.js";
import { ColinkError } from "../core/errors.js";
import type { AccountState } from "../core/ports.js";
import type { Dispatcher } from "./dispatcher.js";

/** A user's account state, as their actor reads it; an unknown user is active with no admin role. */
export async function accountOf(dispatcher: Dispatcher, userId: string): Promise<AccountState> {
  const outcome = await dispatcher.ask({
    actor: "user",
    key: userId,
    op: "user.account",
    args: {},
    principal: systemPrincipal,
  });
  if (!outcome.ok) {
    const { code, message, details, retryable } = outcome.error;
    throw new ColinkError(code, message, details, retryable);
  }
  return outcome.result as unknown as AccountState;
}
