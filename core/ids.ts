/**
 * Identifiers: a one-letter kind prefix and 20 characters of Crockford base32, time
 * ordered (48-bit millisecond clock, then 52 random bits), so ids sort by creation time.
 * Ids are made on every send, so this avoids BigInt and draws randomness in bulk.
 */
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * The alphabet of user ids. A user id is a token's `sub`, which issuers shape more freely
 * than our own ids (`auth0|…`, `user@realm`, `a.b:c`), so it is wider than theirs; it keeps
 * out NUL and other control characters, spaces, and `,` (which DM ids are derived with, see
 * transport/routing.ts). The one source for the op schemas and for token verification.
 */
export const userIdPattern = "^[A-Za-z0-9_|:.@-]+$";

/** Longest user id (and so token `sub`) accepted. */
export const maxUserIdLength = 128;

const userIdShape = new RegExp(userIdPattern);

/** Whether `s` is a user id as the protocol documents it: 1–128 characters of `userIdPattern`. */
export function isUserId(s: string): boolean {
  return s.length >= 1 && s.length <= maxUserIdLength && userIdShape.test(s);
}

/** Kinds of id, by prefix. */
export const IdPrefix = {
  channel: "C",
  message: "M",
  user: "U",
  file: "F",
  avatar: "A",
  flag: "G",
} as const;

// One getRandomValues call per 4096 random characters instead of one per id.
const pool = new Uint8Array(4096);
let poolAt = pool.length;

function randomChar(): string {
  if (poolAt === pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return alphabet[pool[poolAt++]! & 31]!;
}

/** A new time-ordered id with the given prefix. */
export function newId(prefix: string, now = Date.now()): string {
  // 48 bits of time as 10 base32 characters (the top 2 bits of the first are zero).
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let random = "";
  for (let i = 0; i < 10; i++) random += randomChar();
  return prefix + time + random;
}

/**
 * A new file's id, made for the channel it is shared in: a time-ordered id, `_`, then the
 * channel id. So any node routes a file op to its channel's actor without a lookup, as a
 * DM's id is derived from its members; the actor still checks the file is its own.
 */
export function newFileId(channelId: string, now = Date.now()): string {
  return `${newId(IdPrefix.file, now)}_${channelId}`;
}

/** The channel a file id was made for, or null when it is not a file id. */
export function channelOfFileId(fileId: string): string | null {
  return fileId.startsWith(IdPrefix.file) && fileId[21] === "_" && fileId.length > 22
    ? fileId.slice(22)
    : null;
}

/** Whether `fileId` is an avatar's (a user's, in no channel). */
export function isAvatarFileId(fileId: string): boolean {
  return fileId.length === 21 && fileId.startsWith(IdPrefix.avatar);
}

/**
 * A new flag's id, made for the channel of the flagged message (as a file id is): any node
 * routes `flag.resolve` to that channel's actor without a lookup; the actor still checks
 * the flag is its own.
 */
export function newFlagId(channelId: string, now = Date.now()): string {
  return `${newId(IdPrefix.flag, now)}_${channelId}`;
}

/** The channel a flag id was made for, or null when it is not a flag id. */
export function channelOfFlagId(flagId: string): string | null {
  return flagId.startsWith(IdPrefix.flag) && flagId[21] === "_" && flagId.length > 22
    ? flagId.slice(22)
    : null;
}
