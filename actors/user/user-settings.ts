/** How a `user.settings.set` patch changes a user's settings (pure). */
import { fail } from "../../core/errors.js";
import type { ArgsOf } from "../../core/ops.js";
import type { UserSettings } from "../../core/types.js";

/**
 * The settings after `patch`: top-level fields replace, `notify` entries merge per
 * channel. An entry set to `all` (the default) is removed rather than stored, so that
 * the list holds only real overrides. Throws `too_large` when more than `maxOverrides`
 * would remain.
 */
export function mergeSettings(
  current: UserSettings,
  patch: ArgsOf<"user.settings.set">,
  maxOverrides: number,
): UserSettings {
  // A Map, so that an id such as `__proto__` is an ordinary key.
  const notify = new Map(Object.entries(current.notify));
  for (const [channelId, level] of Object.entries(patch.notify ?? {})) {
    if (level === "all") notify.delete(channelId);
    else notify.set(channelId, level);
  }
  if (notify.size > maxOverrides) {
    throw fail.tooLarge(`at most ${maxOverrides} notification overrides (COLINK_MAX_NOTIFY_OVERRIDES)`);
  }
  // Fields this version does not know (stored by a newer one) pass through.
  return {
    ...current,
    theme: patch.theme ?? current.theme,
    language: patch.language ?? current.language,
    notify: Object.fromEntries(notify),
  };
}
