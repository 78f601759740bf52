/**
 * Moderation (issue 23) as pure rules: who moderates the site, and how a flagged message
 * looks to a moderator (its original text kept after a removal).
 */
import { viewOf } from "./message-rules.js";
import type { StoredMessage } from "./ports.js";
import type { Flag, Message, Principal } from "./types.js";

/** Does the caller moderate the whole site (every channel, member of it or not)? Site moderators and admins. */
export function isSiteModerator(p: Principal): boolean {
  return p.role === "moderator" || p.role === "admin";
}

/**
 * A flagged message as moderators see it: as it is now, but with the text, files and
 * mentions it had when a moderator removed it (`original`), so that the flag can be judged
 * (and audited) afterwards. Members never see this view.
 */
export function moderatorViewOf(current: StoredMessage, original: StoredMessage | null): Message {
  if (original === null) return viewOf(current, null);
  return viewOf(
    {
      ...current,
      text: original.text,
      files: original.files,
      mentions: original.mentions,
      broadcast: original.broadcast,
    },
    null,
  );
}

/** A new open flag. */
export function newFlag(
  fields: Pick<Flag, "id" | "messageId" | "channelId" | "reporterId" | "reason" | "createdAt">,
): Flag {
  return { ...fields, status: "open" };
}

/** A flag resolved by `resolvedBy` at `resolvedAt`. */
export function resolvedFlag(
  flag: Flag,
  resolution: NonNullable<Flag["resolution"]>,
  resolvedBy: string,
  resolvedAt: number,
  note: string | undefined,
): Flag {
  const { message: _view, channel: _where, ...stored } = flag;
  return {
    ...stored,
    status: "resolved",
    resolution,
    resolvedBy,
    resolvedAt,
    ...(note === undefined ? {} : { note }),
  };
}
