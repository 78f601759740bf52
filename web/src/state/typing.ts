/**
 * Who is typing in a conversation: `typing` events add an entry until its `expiresAt`, a
 * message from that user ends it at once (there is no "stopped typing" event).
 */
import type { TypingEntry } from "./app-state.js";

/** A `typing` event: replaces the user's entry for the same place (conversation or thread). */
export function withTyping(entries: readonly TypingEntry[], entry: TypingEntry): TypingEntry[] {
  const others = entries.filter((e) => !(e.userId === entry.userId && e.threadRootId === entry.threadRootId));
  return [...others, entry];
}

/** The user posted: their indicator goes. */
export function withoutTypist(entries: readonly TypingEntry[], userId: string): TypingEntry[] {
  return entries.filter((e) => e.userId !== userId);
}

/** Drops expired entries; the same array when none expired. */
export function withoutExpired(entries: TypingEntry[], now: number): TypingEntry[] {
  const live = entries.filter((e) => e.expiresAt > now);
  return live.length === entries.length ? entries : live;
}

/** Who is typing in one place (the conversation itself when `threadRootId` is null), except me. */
export function typistsIn(
  entries: readonly TypingEntry[],
  threadRootId: string | null,
  myId: string,
  now: number,
): string[] {
  return entries
    .filter((e) => e.threadRootId === threadRootId && e.userId !== myId && e.expiresAt > now)
    .map((e) => e.userId);
}

/** The indicator's text: `alice is typing…`, `alice and bob are typing…`, `3 people are typing…`. */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

/** The `typing` op is sent at most this often while the user types (the server drops more). */
export const typingIntervalMs = 2000;

/** Whether a keystroke now should send `typing`, given when it was last sent. */
export function shouldSendTyping(lastSentAt: number | undefined, now: number): boolean {
  return lastSentAt === undefined || now - lastSentAt >= typingIntervalMs;
}
