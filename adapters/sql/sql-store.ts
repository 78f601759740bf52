/**
 * The one implementation of the `Store` port, written against a tiny SQL driver so that
 * PGlite (embedded) and Postgres (production) share every statement.
 *
 * The group-commit hot path (`commit`) sends ONE statement whatever the number of
 * channels: the rows of the hot tables (channels, events, new messages) travel column by
 * column, one array parameter per column expanded by `unnest`; the rarer tables' rows
 * travel as one JSON parameter expanded by `jsonb_to_recordset`. The per-table inserts,
 * updates and deletes are chained as data-modifying CTEs. A single statement is its own transaction (all or nothing), so no
 * BEGIN/COMMIT round trips are needed. A unique violation aborts the whole statement;
 * only then does the store look at what collided, to throw the domain error.
 */
import { fail } from "../../core/errors.js";
import {
  type ChannelListing,
  type ChannelRecord,
  type ChannelSnapshot,
  type ChannelWrite,
  DuplicateSendError,
  type MemberRecord,
  type MessagePage,
  type ReactionRow,
  type SendKey,
  type ShardFence,
  type Store,
  StoreConflict,
  type StoredMessage,
  type ThreadFollow,
} from "../../core/ports.js";
import type {
  ChannelEvent,
  Member,
  MessageVersion,
  Scheduled,
  SiteRole,
  Unread,
  User,
  UserSettings,
} from "../../core/types.js";
import { migrations as allMigrations, type Migration } from "./migrations.js";

/** Per-statement options of `SqlQuery.query`. */
export interface QueryOptions {
  /**
   * False: plan the statement with this call's parameter values every time instead of
   * caching a plan, for statements whose best plan depends on the values (a LIKE prefix).
   * Drivers that never cache plans ignore it. Default true.
   */
  prepare?: boolean;
}

/** What a statement runner offers: parameterised queries and multi-statement scripts. */
export interface SqlQuery {
  /**
   * Runs one statement with `$1…` parameters and returns its rows as objects keyed by
   * column name. Drivers return int8 as number, json/jsonb parsed and booleans as booleans.
   */
  query<R = Record<string, unknown>>(text: string, params?: unknown[], opts?: QueryOptions): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/** A database connection (or pool) as `SqlStore` needs it. */
export interface SqlDriver extends SqlQuery {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (q: SqlQuery) => Promise<T>): Promise<T>;
  /** Closes the connection(s). */
  close(): Promise<void>;
}

/** The SQLSTATE, constraint and detail of a database error, whichever driver raised it. */
export interface SqlErrorInfo {
  code: string;
  constraint: string | undefined;
  detail: string | undefined;
}

/** Reads a database error's fields; PGlite names them like node-postgres, postgres.js in snake case. */
export function sqlErrorOf(err: unknown): SqlErrorInfo | null {
  if (typeof err !== "object" || err === null) return null;
  const e = err as { code?: unknown; constraint?: unknown; constraint_name?: unknown; detail?: unknown };
  if (typeof e.code !== "string" || !/^[0-9A-Z]{5}$/.test(e.code)) return null;
  const constraint = typeof e.constraint === "string" ? e.constraint : e.constraint_name;
  return {
    code: e.code,
    constraint: typeof constraint === "string" ? constraint : undefined,
    detail: typeof e.detail === "string" ? e.detail : undefined,
  };
}

/** Error codes meaning "the database cannot be reached right now", from Postgres, Node or postgres.js. */
const unreachableCodes = new Set([
  "53300", // too_many_connections
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/**
 * True when a driver error means the database is unreachable (SQLSTATE class 08 and the
 * codes above) rather than that the statement was wrong.
 */
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (unreachableCodes.has(code) || /^08[0-9A-Z]{3}$/.test(code));
}

/** Turns "database unreachable" into the retryable `unavailable` error; anything else passes. */
export function unavailableOr(err: unknown): unknown {
  if (!isUnreachable(err)) return err;
  const e = fail.unavailable("database unavailable");
  e.cause = err;
  return e;
}

/**
 * Wraps a driver so that an unreachable database surfaces as ColinkError `unavailable`
 * (retryable). A commit that fails this way has an unknown outcome: it may have landed.
 */
function guarded(db: SqlDriver): SqlDriver {
  const q = (inner: SqlQuery): SqlQuery => ({
    query: <R>(text: string, params?: unknown[], opts?: QueryOptions) =>
      inner.query<R>(text, params, opts).catch((err: unknown) => Promise.reject(unavailableOr(err))),
    exec: (script: string) => inner.exec(script).catch((err: unknown) => Promise.reject(unavailableOr(err))),
  });
  return {
    ...q(db),
    transaction: <T>(fn: (tx: SqlQuery) => Promise<T>) =>
      db.transaction((tx) => fn(q(tx))).catch((err: unknown) => Promise.reject(unavailableOr(err))),
    close: () => db.close(),
  };
}

/** SQLSTATE of a unique violation. */
const uniqueViolation = "23505";

/** Unique constraints whose violation means a log position (or a message version) is taken: a stale writer. */
const seqConstraints = new Set(["channel_events_pkey", "messages_seq_key", "message_versions_pkey"]);

/** Serialises concurrent `migrate()` calls on one schema (two processes starting at once). */
const migrationLock =
  "SELECT pg_advisory_xact_lock(hashtext('colink.migrate'), hashtext(coalesce(current_schema(), '')))";

const channelColumns = `c.id, c.name, c.kind, c.topic, c.created_by AS "createdBy", c.created_at AS "createdAt",
  c.archived, c.last_seq AS "lastSeq"`;

const messageColumns = `m.id, m.channel_id AS "channelId", m.seq, m.author_id AS "authorId", m.text,
  m.client_msg_id AS "clientMsgId", m.created_at AS "createdAt", m.edited_at AS "editedAt",
  m.deleted_at AS "deletedAt", m.thread_root_id AS "threadRootId", m.reply_count AS "replyCount",
  m.last_reply_at AS "lastReplyAt", m.thread_participants AS "threadParticipants", m.mentions, m.broadcast,
  m.reactions, m.pinned_at AS "pinnedAt", m.pinned_by AS "pinnedBy", m.files`;

const userColumns = `id, username, display_name AS "displayName", role, title, time_zone AS "timeZone",
  avatar_file_id AS "avatarFileId", deactivated, created_at AS "createdAt"`;

const scheduleColumns = `s.id, s.channel_id AS "channelId", s.author_id AS "authorId", s.text,
  s.client_msg_id AS "clientMsgId", s.thread_root_id AS "threadRootId", s.send_at AS "sendAt", s.status,
  s.message_id AS "messageId"`;

/** The record type of a `StoredMessage` serialised as JSON, for `jsonb_to_recordset`. */
const messageRecord = `id text, "channelId" text, seq bigint, "authorId" text, text text, "clientMsgId" text,
  "createdAt" bigint, "editedAt" bigint, "deletedAt" bigint, "threadRootId" text, "replyCount" integer,
  "lastReplyAt" bigint, "threadParticipants" jsonb, mentions jsonb, broadcast text, reactions jsonb,
  "pinnedAt" bigint, "pinnedBy" text, files jsonb`;

const memberRecord = `"channelId" text, "userId" text, role text, "joinedAt" bigint, "lastReadSeq" bigint`;

const reactionRecord = `"channelId" text, "messageId" text, "userId" text, emoji text, at bigint`;

/**
 * The SQL type a column of the commit statement is passed as. `jsonb` values travel as
 * JSON documents one per line (see `columnParam`). A `jsonb list` is a JSON array whose
 * empty value travels as NULL, for which the statement writes `'[]'` (coalesce): most
 * messages have no mentions, reactions, files or thread, and the server then parses
 * nothing for them. (Event documents went as one JSON
 * array expanded by `jsonb_array_elements` before: the server then built the whole array
 * as one jsonb, copied each element out, sorted and re-collected them, which cost it about
 * 30 µs per message more than parsing each element.)
 */
type ColumnType = "text" | "bigint" | "integer" | "boolean" | "jsonb" | "jsonb list";

/** One column of a table's rows passed as an array parameter: its name in the row record and its type. */
type Column = readonly [name: string, type: ColumnType];

/** Characters a quoted array element must escape. */
const arraySpecial = /["\\]/;
const arraySpecialAll = /["\\]/g;

/** A text value as a quoted element of a Postgres array literal. */
function quotedElement(text: string): string {
  return arraySpecial.test(text) ? `"${text.replace(arraySpecialAll, "\\$&")}"` : `"${text}"`;
}

/** How a NULL travels among the lines of a `jsonb` column: never a line JSON.stringify writes for a document. */
const jsonNullLine = "null";

/**
 * The values of one column of `rows` as one text parameter. Scalars make a Postgres array
 * literal (`{"a",NULL}`). JSON documents are joined by newlines instead, which
 * `JSON.stringify` never writes, so that no document (full of quotes) is escaped for an
 * array literal and unescaped again by the server: that escaping was a tenth of Colink's
 * CPU per message under S3.
 */
function columnParam(rows: readonly unknown[], [name, type]: Column): string {
  if (type === "jsonb" || type === "jsonb list") {
    let out = "";
    for (let i = 0; i < rows.length; i++) {
      if (i > 0) out += "\n";
      const value = (rows[i] as Record<string, unknown>)[name];
      const absent =
        value === null ||
        value === undefined ||
        (type === "jsonb list" && Array.isArray(value) && value.length === 0);
      out += absent ? jsonNullLine : JSON.stringify(value);
    }
    return out;
  }
  let out = "{";
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out += ",";
    const value = (rows[i] as Record<string, unknown>)[name];
    if (value === null || value === undefined) out += "NULL";
    else if (type === "text") out += quotedElement(String(value));
    else if (type === "boolean") out += value ? "t" : "f";
    else out += String(value);
  }
  return `${out}}`;
}

/** The SQL that turns a column's parameter `$Pn` into an array of its type (see `columnParam`). */
function columnArray([, type]: Column, n: number): string {
  return type === "jsonb" || type === "jsonb list"
    ? `string_to_array($P${n}, E'\\n', '${jsonNullLine}')::jsonb[]`
    : `$P${n}::${type}[]`;
}

/**
 * `unnest(<array 1>, <array 2>, …) AS r(c1, c2, …)`: the rows of a columnar part, one
 * parameter per column (`$Pn` stands for the part's n-th parameter).
 */
function unnestOf(columns: readonly Column[]): string {
  const arrays = columns.map((column, i) => columnArray(column, i + 1));
  const names = columns.map(([name]) => `"${name}"`).join(", ");
  return `unnest(${arrays.join(", ")}) AS r(${names})`;
}

const channelRowColumns = [
  ["id", "text"],
  ["name", "text"],
  ["kind", "text"],
  ["topic", "text"],
  ["createdBy", "text"],
  ["createdAt", "bigint"],
  ["archived", "boolean"],
  ["lastSeq", "bigint"],
] as const satisfies readonly Column[];

const eventRowColumns = [
  ["channelId", "text"],
  ["seq", "bigint"],
  ["type", "text"],
  ["data", "jsonb"],
  ["at", "bigint"],
] as const satisfies readonly Column[];

const messageRowColumns = [
  ["id", "text"],
  ["channelId", "text"],
  ["seq", "bigint"],
  ["authorId", "text"],
  ["text", "text"],
  ["clientMsgId", "text"],
  ["createdAt", "bigint"],
  ["editedAt", "bigint"],
  ["deletedAt", "bigint"],
  ["threadRootId", "text"],
  ["replyCount", "integer"],
  ["lastReplyAt", "bigint"],
  ["threadParticipants", "jsonb list"],
  ["mentions", "jsonb list"],
  ["broadcast", "text"],
  ["reactions", "jsonb list"],
  ["pinnedAt", "bigint"],
  ["pinnedBy", "text"],
  ["files", "jsonb list"],
] as const satisfies readonly Column[];

/**
 * The parts of the commit statement whose rows travel as one array parameter per column
 * (`unnest`) rather than as one JSON parameter: the tables every send writes. Arrays of
 * typed scalars cost both sides less than a JSON document the server parses to jsonb and
 * then takes apart field by field.
 */
const columnarParts: Partial<Record<CommitPart, readonly Column[]>> = {
  channels: channelRowColumns,
  events: eventRowColumns,
  newMessages: messageRowColumns,
};

/**
 * One data-modifying CTE of the commit statement; `$P` stands for its JSON parameter, or
 * `$P1…$Pn` for the array parameters of a part listed in `columnarParts`.
 * Each table appears in at most one CTE per row: `mergeWrites` gives every row one
 * final action, since the CTEs of one statement all see the same snapshot.
 */
const commitParts = {
  channels: `INSERT INTO channels (id, name, kind, topic, created_by, created_at, archived, last_seq)
    SELECT r.id, r.name, r.kind, coalesce(r.topic, ''), r."createdBy", r."createdAt", r.archived, r."lastSeq"
    FROM ${unnestOf(channelRowColumns)}
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, topic = excluded.topic, archived = excluded.archived,
      last_seq = excluded.last_seq`,
  events: `INSERT INTO channel_events (channel_id, seq, type, data, created_at)
    SELECT r."channelId", r.seq, r.type, coalesce(r.data, '{}'::jsonb), r.at
    FROM ${unnestOf(eventRowColumns)}`,
  newMessages: `INSERT INTO messages (id, channel_id, seq, author_id, text, client_msg_id, created_at, edited_at,
      deleted_at, thread_root_id, reply_count, last_reply_at, thread_participants, mentions, broadcast, reactions,
      pinned_at, pinned_by, files)
    SELECT r.id, r."channelId", r.seq, r."authorId", r.text, r."clientMsgId", r."createdAt", r."editedAt",
      r."deletedAt", r."threadRootId", coalesce(r."replyCount", 0), r."lastReplyAt",
      coalesce(r."threadParticipants", '[]'::jsonb), coalesce(r.mentions, '[]'::jsonb), r.broadcast,
      coalesce(r.reactions, '[]'::jsonb), r."pinnedAt", r."pinnedBy", coalesce(r.files, '[]'::jsonb)
    FROM ${unnestOf(messageRowColumns)}`,
  changedMessages: `UPDATE messages AS m SET text = r.text, edited_at = r."editedAt", deleted_at = r."deletedAt",
      reply_count = coalesce(r."replyCount", 0), last_reply_at = r."lastReplyAt",
      thread_participants = coalesce(r."threadParticipants", '[]'::jsonb), mentions = coalesce(r.mentions, '[]'::jsonb),
      broadcast = r.broadcast, reactions = coalesce(r.reactions, '[]'::jsonb), pinned_at = r."pinnedAt",
      pinned_by = r."pinnedBy", files = coalesce(r.files, '[]'::jsonb)
    FROM jsonb_to_recordset($P::text::jsonb) AS r(${messageRecord})
    WHERE m.id = r.id AND m.channel_id = r."channelId"`,
  // An existing member keeps its read marker (the user's actor moves it) and join time.
  upsertMembers: `INSERT INTO channel_members (channel_id, user_id, role, joined_at, last_read_seq)
    SELECT r."channelId", r."userId", r.role, r."joinedAt", coalesce(r."lastReadSeq", 0)
    FROM jsonb_to_recordset($P::text::jsonb) AS r(${memberRecord})
    ON CONFLICT (channel_id, user_id) DO UPDATE SET role = excluded.role`,
  // Removed and added back within one commit: the row is replaced as a fresh join would be.
  rejoinedMembers: `INSERT INTO channel_members (channel_id, user_id, role, joined_at, last_read_seq)
    SELECT r."channelId", r."userId", r.role, r."joinedAt", coalesce(r."lastReadSeq", 0)
    FROM jsonb_to_recordset($P::text::jsonb) AS r(${memberRecord})
    ON CONFLICT (channel_id, user_id) DO UPDATE SET role = excluded.role, joined_at = excluded.joined_at,
      last_read_seq = excluded.last_read_seq`,
  removedMembers: `DELETE FROM channel_members AS m
    USING jsonb_to_recordset($P::text::jsonb) AS r("channelId" text, "userId" text)
    WHERE m.channel_id = r."channelId" AND m.user_id = r."userId"`,
  addedReactions: `INSERT INTO reactions (message_id, user_id, emoji, created_at)
    SELECT r."messageId", r."userId", r.emoji, r.at FROM jsonb_to_recordset($P::text::jsonb) AS r(${reactionRecord})
    ON CONFLICT (message_id, user_id, emoji) DO NOTHING`,
  // Removed and added back within one commit: the reaction is as new as its last addition.
  readdedReactions: `INSERT INTO reactions (message_id, user_id, emoji, created_at)
    SELECT r."messageId", r."userId", r.emoji, r.at FROM jsonb_to_recordset($P::text::jsonb) AS r(${reactionRecord})
    ON CONFLICT (message_id, user_id, emoji) DO UPDATE SET created_at = excluded.created_at`,
  // Only reactions on this channel's messages (a reaction cannot predate its message,
  // so one created in this same statement has none to remove).
  removedReactions: `DELETE FROM reactions AS x
    USING jsonb_to_recordset($P::text::jsonb) AS r(${reactionRecord}), messages AS m
    WHERE x.message_id = r."messageId" AND x.user_id = r."userId" AND x.emoji = r.emoji
      AND m.id = x.message_id AND m.channel_id = r."channelId"`,
  versions: `INSERT INTO message_versions (message_id, version, text, edited_at)
    SELECT r."messageId", r.version, r.text, r."editedAt"
    FROM jsonb_to_recordset($P::text::jsonb) AS r("messageId" text, version integer, text text, "editedAt" bigint)`,
  follows: `INSERT INTO thread_follows (root_id, user_id, channel_id, following)
    SELECT r."rootId", r."userId", r."channelId", r.following
    FROM jsonb_to_recordset($P::text::jsonb) AS r("channelId" text, "rootId" text, "userId" text, following boolean)
    ON CONFLICT (root_id, user_id) DO UPDATE SET following = excluded.following
      WHERE thread_follows.channel_id = excluded.channel_id`,
  schedules: `INSERT INTO scheduled_messages (id, channel_id, author_id, text, client_msg_id, thread_root_id, send_at,
      status, message_id, created_at)
    SELECT r.id, r."channelId", r."authorId", r.text, r."clientMsgId", r."threadRootId", r."sendAt", r.status,
      r."messageId", r."createdAt"
    FROM jsonb_to_recordset($P::text::jsonb) AS r(id text, "channelId" text, "authorId" text, text text,
      "clientMsgId" text, "threadRootId" text, "sendAt" bigint, status text, "messageId" text, "createdAt" bigint)
    ON CONFLICT (id) DO UPDATE SET text = excluded.text, send_at = excluded.send_at, status = excluded.status,
      message_id = excluded.message_id
      WHERE scheduled_messages.channel_id = excluded.channel_id`,
} as const;

type CommitPart = keyof typeof commitParts;

/** The parts of the commit statement, in the order they run. */
const commitPartNames = Object.keys(commitParts) as CommitPart[];

/** Each table's rows of one commit, merged over all channels. */
type CommitRows = Record<CommitPart, unknown[]>;

/** The final action of one commit on a member row. */
type MemberChange =
  | { kind: "upsert"; member: Member }
  | { kind: "rejoin"; member: Member }
  | { kind: "remove" };

/** The final action of one commit on a reaction row. */
type ReactionChange = { kind: "add" | "readd" | "remove"; row: ReactionRow };

/** A channel's writes after merging every `ChannelWrite` of that channel in one commit. */
interface MergedWrite {
  channel: ChannelRecord;
  events: ChannelEvent[];
  newMessages: Map<string, StoredMessage>;
  changedMessages: Map<string, StoredMessage>;
  members: Map<string, MemberChange>;
  reactions: Map<string, ReactionChange>;
  versions: Map<string, MessageVersion>;
  follows: Map<string, ThreadFollow>;
  schedules: Map<string, Scheduled>;
}

/** A map key of several strings. */
const keyOf = (...parts: string[]) => parts.join("\u0000");

function emptyMerge(channel: ChannelRecord): MergedWrite {
  return {
    channel,
    events: [],
    newMessages: new Map(),
    changedMessages: new Map(),
    members: new Map(),
    reactions: new Map(),
    versions: new Map(),
    follows: new Map(),
    schedules: new Map(),
  };
}

/** Folds one write into its channel's merge; later writes win. */
function mergeOne(m: MergedWrite, w: ChannelWrite): void {
  m.channel = w.channel;
  for (const e of w.events) m.events.push(e);
  for (const msg of w.newMessages) m.newMessages.set(msg.id, msg);
  for (const msg of w.changedMessages) {
    // A message created earlier in this same commit is still an insert.
    if (m.newMessages.has(msg.id)) m.newMessages.set(msg.id, msg);
    else m.changedMessages.set(msg.id, msg);
  }
  for (const member of w.upsertMembers) {
    const prev = m.members.get(member.userId)?.kind;
    const kind = prev === "remove" || prev === "rejoin" ? "rejoin" : "upsert";
    m.members.set(member.userId, { kind, member });
  }
  // Within one write a user in both lists counts as removed: denying access is the safe side.
  for (const userId of w.removedMembers) m.members.set(userId, { kind: "remove" });
  for (const row of w.addedReactions) {
    const key = keyOf(row.messageId, row.userId, row.emoji);
    const prev = m.reactions.get(key)?.kind;
    m.reactions.set(key, { kind: prev === "remove" || prev === "readd" ? "readd" : "add", row });
  }
  // Likewise a reaction both added and removed in one write counts as removed.
  for (const row of w.removedReactions) {
    m.reactions.set(keyOf(row.messageId, row.userId, row.emoji), { kind: "remove", row });
  }
  for (const v of w.versions) m.versions.set(keyOf(v.messageId, String(v.version)), v);
  for (const f of w.follows) m.follows.set(keyOf(f.rootId, f.userId), f);
  for (const s of w.schedules) m.schedules.set(s.id, s);
}

/**
 * Merges the writes of one commit per channel so that no statement touches a row
 * twice, and checks that no two new messages (or scheduled messages) share an
 * idempotency key.
 */
function mergeWrites(writes: ChannelWrite[], now: number): CommitRows {
  const byChannel = new Map<string, MergedWrite>();
  for (const w of writes) {
    let m = byChannel.get(w.channel.id);
    if (!m) {
      m = emptyMerge(w.channel);
      byChannel.set(w.channel.id, m);
    }
    mergeOne(m, w);
  }

  const rows = Object.fromEntries(commitPartNames.map((part) => [part, []])) as unknown as CommitRows;
  const duplicates: Array<SendKey & { channelId: string }> = [];
  const checkKey = (seen: Set<string>, channelId: string, authorId: string, clientMsgId: string) => {
    const key = keyOf(channelId, authorId, clientMsgId);
    if (seen.has(key)) duplicates.push({ channelId, authorId, clientMsgId });
    seen.add(key);
  };
  const seenSends = new Set<string>();
  const seenSchedules = new Set<string>();
  for (const [channelId, m] of byChannel) {
    rows.channels.push(m.channel);
    // A write only ever touches its own channel, whatever its rows say.
    for (const e of m.events) rows.events.push(e.channelId === channelId ? e : { ...e, channelId });
    for (const msg of m.newMessages.values()) {
      checkKey(seenSends, channelId, msg.authorId, msg.clientMsgId);
      rows.newMessages.push(msg.channelId === channelId ? msg : { ...msg, channelId });
    }
    for (const msg of m.changedMessages.values()) {
      rows.changedMessages.push(msg.channelId === channelId ? msg : { ...msg, channelId });
    }
    for (const [userId, change] of m.members) {
      if (change.kind === "remove") rows.removedMembers.push({ channelId, userId });
      else if (change.kind === "rejoin") rows.rejoinedMembers.push({ ...change.member, channelId });
      else rows.upsertMembers.push({ ...change.member, channelId });
    }
    for (const { kind, row } of m.reactions.values()) {
      const part =
        kind === "add" ? "addedReactions" : kind === "readd" ? "readdedReactions" : "removedReactions";
      rows[part].push({ ...row, channelId });
    }
    for (const v of m.versions.values()) rows.versions.push({ ...v, channelId });
    for (const f of m.follows.values()) rows.follows.push({ ...f, channelId });
    for (const s of m.schedules.values()) {
      checkKey(seenSchedules, channelId, s.authorId, s.clientMsgId);
      rows.schedules.push({ ...s, channelId, createdAt: now });
    }
  }
  if (duplicates.length > 0) throw new DuplicateSendError(duplicates);
  return rows;
}

/**
 * The fence check of a clustered commit: fails the statement (SQLSTATE C0409) when a
 * shard's stored epoch is not the one the writer owns it under, and share-locks the rows
 * so that a node taking the shard waits for this commit.
 */
const fenceCheck = `SELECT colink_check_fence(s.shard, s.epoch, r.epoch) AS ok
    FROM shard_epochs s JOIN jsonb_to_recordset($P::text::jsonb) AS r(shard integer, epoch bigint)
      ON s.shard = r.shard
    FOR SHARE OF s`;

/** SQLSTATE raised by colink_check_fence. */
const staleShard = "C0409";

/** The distinct fences of a commit's writes. */
function fencesOf(writes: ChannelWrite[]): ShardFence[] {
  const byShard = new Map<number, ShardFence>();
  for (const w of writes) if (w.fence) byShard.set(w.fence.shard, w.fence);
  return [...byShard.values()];
}

/**
 * Statement texts by the parts they hold and whether they are fenced: a part's SQL never
 * changes, only which parts a commit needs, so each text is built once (a handful of
 * combinations in practice: sends alone, sends with edits, …).
 */
const statementTexts = new Map<string, string>();

/** The text of a commit statement over `parts` (each with its parameters, in order). */
function statementText(parts: CommitPart[], fenced: boolean): string {
  const ctes: string[] = [];
  let params = 0;
  for (const part of parts) {
    const first = params;
    params += columnarParts[part]?.length ?? 1;
    // `$Pn` is the part's n-th parameter; a bare `$P` its only one.
    const sql = commitParts[part].replace(
      /\$P(\d*)/g,
      (_, n: string) => `$${first + (n === "" ? 1 : Number(n))}`,
    );
    ctes.push(`${part} AS (${sql})`);
  }
  if (!fenced) return `WITH ${ctes.join(",\n")}\nSELECT 1 AS ok`;
  ctes.push(`fences AS (${fenceCheck.replace("$P", () => `$${params + 1}`)})`);
  // Reading the check's value makes it run for every row.
  return `WITH ${ctes.join(",\n")}\nSELECT (SELECT count(*) FROM fences WHERE ok) AS ok`;
}

/** Builds the single commit statement for the non-empty tables, and its parameters. */
function commitStatement(rows: CommitRows, fences: ShardFence[] = []): { text: string; params: string[] } {
  const parts: CommitPart[] = [];
  const params: string[] = [];
  for (const part of commitPartNames) {
    const list = rows[part];
    if (list.length === 0) continue;
    parts.push(part);
    const columns = columnarParts[part];
    if (columns) for (const column of columns) params.push(columnParam(list, column));
    else params.push(JSON.stringify(list));
  }
  const fenced = fences.length > 0;
  if (fenced) params.push(JSON.stringify(fences));
  const key = fenced ? `${parts.join(",")}+fences` : parts.join(",");
  let text = statementTexts.get(key);
  if (text === undefined) {
    text = statementText(parts, fenced);
    statementTexts.set(key, text);
  }
  return { text, params };
}

/** Raw row of `loadChannel`'s single query. */
interface SnapshotRow extends ChannelRecord {
  members: MemberRecord[];
  events: ChannelEvent[];
  keys: Array<SendKey & { messageId: string }>;
  schedules: Scheduled[];
}

/** The settings of a user who never saved any. */
const defaultSettings: UserSettings = { theme: "system", language: "en", notify: {} };

/** Options of `SqlStore`. */
export interface SqlStoreOptions {
  /** The migrations to run; every one by default. */
  migrations?: readonly Migration[];
}

/** The `Store` port over any `SqlDriver`. */
export class SqlStore implements Store {
  private readonly db: SqlDriver;
  private readonly migrations: readonly Migration[];

  constructor(db: SqlDriver, opts: SqlStoreOptions = {}) {
    this.db = guarded(db);
    this.migrations = opts.migrations ?? allMigrations;
  }

  async migrate(): Promise<void> {
    const applied = await this.db.transaction(async (q) => {
      await q.query(migrationLock);
      await q.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at bigint NOT NULL)",
      );
      const rows = await q.query<{ id: string }>("SELECT id FROM schema_migrations");
      return new Set(rows.map((r) => r.id));
    });
    for (const m of this.migrations) {
      if (applied.has(m.id)) continue;
      // Each migration in its own transaction, re-checked under the lock: another
      // process may have applied it while this one waited.
      await this.db.transaction(async (q) => {
        await q.query(migrationLock);
        const done = await q.query("SELECT 1 FROM schema_migrations WHERE id = $1", [m.id]);
        if (done.length > 0) return;
        await q.exec(m.sql);
        await q.query("INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)", [m.id, Date.now()]);
      });
    }
  }

  async ping(): Promise<void> {
    await this.db.query("SELECT 1 AS ok");
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // ---- ChannelLog ----

  async commit(writes: ChannelWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const rows = mergeWrites(writes, Date.now());
    const { text, params } = commitStatement(rows, fencesOf(writes));
    try {
      await this.db.query(text, params);
    } catch (err) {
      const info = sqlErrorOf(err);
      if (info?.code === staleShard) {
        const shard = Number(info.detail);
        throw new StoreConflict(
          "staleOwner",
          writes.filter((w) => w.fence?.shard === shard).map((w) => w.channel.id),
        );
      }
      if (info?.code === uniqueViolation) {
        if (info.constraint !== undefined && seqConstraints.has(info.constraint)) {
          throw new StoreConflict("seqTaken", await this.takenSeqChannels(rows, writes));
        }
        if (info.constraint === "messages_send_key") {
          const keys = await this.storedSendKeys(rows.newMessages as StoredMessage[]);
          if (keys.length > 0) throw new DuplicateSendError(keys);
        }
        if (info.constraint === "scheduled_messages_send_key") {
          const keys = await this.storedScheduleKeys(rows.schedules as Scheduled[]);
          if (keys.length > 0) throw new DuplicateSendError(keys);
        }
      }
      throw err;
    }
  }

  async sharedDevIssuerKey(candidate: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.db.query(
      `INSERT INTO dev_issuer_keys (id, private_jwk, created_at) VALUES ('dev', $1::text::jsonb, $2)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(candidate), Date.now()],
    );
    const rows = await this.db.query<{ jwk: Record<string, unknown> }>(
      `SELECT private_jwk AS jwk FROM dev_issuer_keys WHERE id = 'dev'`,
    );
    return rows[0]!.jwk;
  }

  async takeShards(shards: number[]): Promise<ShardFence[]> {
    if (shards.length === 0) return [];
    const rows = await this.db.query<{ shard: number; epoch: string | number }>(
      `INSERT INTO shard_epochs (shard, epoch)
         SELECT s::integer, 1 FROM jsonb_array_elements_text($1::text::jsonb) AS s
       ON CONFLICT (shard) DO UPDATE SET epoch = shard_epochs.epoch + 1
       RETURNING shard, epoch`,
      [JSON.stringify(shards)],
    );
    return rows.map((r) => ({ shard: Number(r.shard), epoch: Number(r.epoch) }));
  }

  /** After a seq collision (the statement rolled back): the channels whose log positions are taken. */
  private async takenSeqChannels(rows: CommitRows, writes: ChannelWrite[]): Promise<string[]> {
    const eventKeys = (rows.events as ChannelEvent[]).map((e) => ({ channelId: e.channelId, seq: e.seq }));
    const messageKeys = (rows.newMessages as StoredMessage[]).map((m) => ({
      channelId: m.channelId,
      seq: m.seq,
    }));
    const found = await this.db.query<{ channelId: string }>(
      `SELECT e.channel_id AS "channelId" FROM channel_events e
         JOIN jsonb_to_recordset($1::text::jsonb) AS k("channelId" text, seq bigint)
           ON e.channel_id = k."channelId" AND e.seq = k.seq
       UNION
       SELECT m.channel_id FROM messages m
         JOIN jsonb_to_recordset($2::text::jsonb) AS k("channelId" text, seq bigint)
           ON m.channel_id = k."channelId" AND m.seq = k.seq
       UNION
       SELECT k."channelId" FROM message_versions v
         JOIN jsonb_to_recordset($3::text::jsonb) AS k("channelId" text, "messageId" text, version integer)
           ON v.message_id = k."messageId" AND v.version = k.version`,
      [JSON.stringify(eventKeys), JSON.stringify(messageKeys), JSON.stringify(rows.versions)],
    );
    const ids = found.map((r) => r.channelId).sort();
    // The collision was certain; if the rows are not visible now, blame every channel.
    return ids.length > 0 ? ids : [...new Set(writes.map((w) => w.channel.id))];
  }

  /** After a send-key collision (the statement rolled back): the keys already stored. */
  private async storedSendKeys(
    newMessages: StoredMessage[],
  ): Promise<Array<SendKey & { channelId: string }>> {
    const keys = newMessages.map((m) => ({
      channelId: m.channelId,
      authorId: m.authorId,
      clientMsgId: m.clientMsgId,
    }));
    return this.db.query<SendKey & { channelId: string }>(
      `SELECT m.channel_id AS "channelId", m.author_id AS "authorId", m.client_msg_id AS "clientMsgId"
       FROM messages m
       JOIN jsonb_to_recordset($1::text::jsonb) AS k("channelId" text, "authorId" text, "clientMsgId" text)
         ON m.channel_id = k."channelId" AND m.author_id = k."authorId" AND m.client_msg_id = k."clientMsgId"`,
      [JSON.stringify(keys)],
    );
  }

  /** After a schedule-key collision: the keys stored by another scheduled message. */
  private async storedScheduleKeys(schedules: Scheduled[]): Promise<Array<SendKey & { channelId: string }>> {
    const keys = schedules.map((s) => ({
      id: s.id,
      channelId: s.channelId,
      authorId: s.authorId,
      clientMsgId: s.clientMsgId,
    }));
    return this.db.query<SendKey & { channelId: string }>(
      `SELECT s.channel_id AS "channelId", s.author_id AS "authorId", s.client_msg_id AS "clientMsgId"
       FROM scheduled_messages s
       JOIN jsonb_to_recordset($1::text::jsonb) AS k(id text, "channelId" text, "authorId" text, "clientMsgId" text)
         ON s.channel_id = k."channelId" AND s.author_id = k."authorId" AND s.client_msg_id = k."clientMsgId"
           AND s.id <> k.id AND s.status = 'pending'`,
      [JSON.stringify(keys)],
    );
  }

  async loadChannel(
    channelId: string,
    opts: { recentEvents: number; recentKeys: number },
  ): Promise<ChannelSnapshot | null> {
    // One statement, so the channel row, its members, its log and its schedules come
    // from one snapshot.
    const rows = await this.db.query<SnapshotRow>(
      `SELECT ${channelColumns},
         (SELECT coalesce(jsonb_agg(jsonb_build_object('userId', x.user_id, 'role', x.role,
                   'joinedAt', x.joined_at, 'lastReadSeq', x.last_read_seq) ORDER BY x.joined_at, x.user_id),
                 '[]'::jsonb)
            FROM channel_members x WHERE x.channel_id = c.id) AS members,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('channelId', e.channel_id, 'seq', e.seq, 'type', e.type,
                   'data', e.data, 'at', e.created_at) ORDER BY e.seq), '[]'::jsonb)
            FROM (SELECT * FROM channel_events WHERE channel_id = c.id ORDER BY seq DESC LIMIT $2) e) AS events,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('authorId', k.author_id, 'clientMsgId', k.client_msg_id,
                   'messageId', k.id) ORDER BY k.seq), '[]'::jsonb)
            FROM (SELECT id, author_id, client_msg_id, seq FROM messages WHERE channel_id = c.id
                  ORDER BY seq DESC LIMIT $3) k) AS keys,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'channelId', s.channel_id,
                   'authorId', s.author_id, 'text', s.text, 'clientMsgId', s.client_msg_id,
                   'threadRootId', s.thread_root_id, 'sendAt', s.send_at, 'status', s.status,
                   'messageId', s.message_id) ORDER BY s.send_at, s.id), '[]'::jsonb)
            FROM scheduled_messages s WHERE s.channel_id = c.id AND s.status = 'pending') AS schedules
       FROM channels c WHERE c.id = $1`,
      [channelId, nonNegative(opts.recentEvents), nonNegative(opts.recentKeys)],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      channel: toChannelRecord(row),
      members: row.members,
      recentEvents: row.events,
      recentKeys: row.keys,
      pendingSchedules: row.schedules.map(toScheduled),
    };
  }

  async readEvents(channelId: string, afterSeq: number, limit: number): Promise<ChannelEvent[]> {
    if (limit <= 0) return [];
    const rows = await this.db.query<ChannelEvent>(
      `SELECT channel_id AS "channelId", seq, type, data, created_at AS at FROM channel_events
       WHERE channel_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [channelId, afterSeq, Math.floor(limit)],
    );
    return rows.map(toEvent);
  }

  async readMessages(channelId: string, page: MessagePage): Promise<StoredMessage[]> {
    const limit = Math.floor(page.limit);
    if (limit <= 0) return [];
    // Only `afterSeq`: paging forward, the oldest above it. Otherwise the newest below
    // `beforeSeq` (and above `afterSeq` when both are given).
    const oldestFirst = page.afterSeq !== undefined && page.beforeSeq === undefined;
    // Every message (an actor's window), one thread's replies, or the top level.
    const thread = page.allThreads ? undefined : page.thread;
    const scope = page.allThreads
      ? "true"
      : thread === undefined
        ? "m.thread_root_id IS NULL"
        : "m.thread_root_id = $5";
    const params: unknown[] = [
      channelId,
      page.afterSeq ?? -1,
      page.beforeSeq ?? Number.MAX_SAFE_INTEGER,
      limit,
    ];
    if (thread !== undefined) params.push(thread);
    const rows = await this.db.query<StoredMessage>(
      `SELECT ${messageColumns} FROM messages m
       WHERE m.channel_id = $1 AND ${scope} AND m.seq > $2 AND m.seq < $3
       ORDER BY m.seq ${oldestFirst ? "ASC" : "DESC"} LIMIT $4`,
      params,
    );
    const messages = rows.map(toMessage);
    return oldestFirst ? messages : messages.reverse();
  }

  async getMessage(channelId: string, messageId: string): Promise<StoredMessage | null> {
    const rows = await this.db.query<StoredMessage>(
      `SELECT ${messageColumns} FROM messages m WHERE m.id = $1 AND m.channel_id = $2`,
      [messageId, channelId],
    );
    return rows[0] ? toMessage(rows[0]) : null;
  }

  async findSends(channelId: string, keys: SendKey[]): Promise<StoredMessage[]> {
    if (keys.length === 0) return [];
    const rows = await this.db.query<StoredMessage>(
      `SELECT ${messageColumns} FROM messages m
       JOIN jsonb_to_recordset($2::text::jsonb) AS k("authorId" text, "clientMsgId" text)
         ON m.author_id = k."authorId" AND m.client_msg_id = k."clientMsgId"
       WHERE m.channel_id = $1 ORDER BY m.seq`,
      [channelId, JSON.stringify(keys.map((k) => ({ authorId: k.authorId, clientMsgId: k.clientMsgId })))],
    );
    return rows.map(toMessage);
  }

  async listPinned(channelId: string, limit: number): Promise<StoredMessage[]> {
    if (limit <= 0) return [];
    const rows = await this.db.query<StoredMessage>(
      `SELECT ${messageColumns} FROM messages m
       WHERE m.channel_id = $1 AND m.pinned_at IS NOT NULL
       ORDER BY m.pinned_at DESC, m.seq DESC LIMIT $2`,
      [channelId, Math.floor(limit)],
    );
    return rows.map(toMessage);
  }

  async readVersions(channelId: string, messageId: string): Promise<MessageVersion[]> {
    const rows = await this.db.query<MessageVersion>(
      `SELECT v.message_id AS "messageId", v.version, v.text, v.edited_at AS "editedAt"
       FROM messages m JOIN message_versions v ON v.message_id = m.id
       WHERE m.id = $2 AND m.channel_id = $1 ORDER BY v.version`,
      [channelId, messageId],
    );
    return rows.map((r) => ({
      messageId: r.messageId,
      version: r.version,
      text: r.text,
      editedAt: r.editedAt,
    }));
  }

  async threadFollows(channelId: string, rootId: string): Promise<ThreadFollow[]> {
    const rows = await this.db.query<ThreadFollow>(
      `SELECT root_id AS "rootId", user_id AS "userId", following FROM thread_follows
       WHERE root_id = $2 AND channel_id = $1 ORDER BY user_id`,
      [channelId, rootId],
    );
    return rows.map((r) => ({ rootId: r.rootId, userId: r.userId, following: r.following }));
  }

  async dueSchedules(now: number, limit: number): Promise<Scheduled[]> {
    if (limit <= 0) return [];
    const rows = await this.db.query<Scheduled>(
      `SELECT ${scheduleColumns} FROM scheduled_messages s
       WHERE s.status = 'pending' AND s.send_at <= $1 ORDER BY s.send_at, s.id LIMIT $2`,
      [seqArg(now), Math.floor(limit)],
    );
    return rows.map(toScheduled);
  }

  // ---- Directory ----

  async upsertUser(user: {
    id: string;
    username: string;
    displayName: string;
    role: SiteRole;
  }): Promise<User> {
    try {
      // The display name is the user's to change after creation (updateProfile).
      const rows = await this.db.query<User>(
        `INSERT INTO users (id, username, display_name, role, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username, role = excluded.role
         RETURNING ${userColumns}`,
        [user.id, user.username, user.displayName, user.role, Date.now()],
      );
      return toUser(rows[0]!);
    } catch (err) {
      const info = sqlErrorOf(err);
      if (info?.code === uniqueViolation && info.constraint === "users_username_key") {
        throw fail.conflict(`username ${user.username} is taken`);
      }
      throw err;
    }
  }

  async getUser(userId: string): Promise<User | null> {
    const rows = await this.db.query<User>(`SELECT ${userColumns} FROM users WHERE id = $1`, [userId]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async getUsersByUsername(usernames: string[]): Promise<User[]> {
    if (usernames.length === 0) return [];
    // ARRAY(...) is computed once, so `= ANY` can use the lower(username) index.
    const rows = await this.db.query<User>(
      `SELECT ${userColumns} FROM users
       WHERE lower(username) = ANY (ARRAY(SELECT lower(x) FROM jsonb_array_elements_text($1::text::jsonb) AS t(x)))
       ORDER BY username, id`,
      [JSON.stringify(usernames)],
    );
    return rows.map(toUser);
  }

  async updateProfile(
    userId: string,
    patch: { displayName?: string; title?: string; timeZone?: string },
  ): Promise<User | null> {
    const rows = await this.db.query<User>(
      `UPDATE users SET display_name = coalesce($2, display_name), title = coalesce($3, title),
         time_zone = coalesce($4, time_zone)
       WHERE id = $1 RETURNING ${userColumns}`,
      [userId, patch.displayName ?? null, patch.title ?? null, patch.timeZone ?? null],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  async searchUsers(prefix: string, limit: number): Promise<User[]> {
    if (limit <= 0) return [];
    // lower() on the SQL side, so the pattern and the indexed expression fold case alike.
    // Not prepared: only a plan that sees the prefix can turn LIKE into index ranges.
    const pattern = `${escapeLike(prefix)}%`;
    const rows = await this.db.query<User>(
      `SELECT ${userColumns} FROM users
       WHERE NOT deactivated AND (lower(username) LIKE lower($1) OR lower(display_name) LIKE lower($1))
       ORDER BY username, id LIMIT $2`,
      [pattern, Math.floor(limit)],
      { prepare: false },
    );
    return rows.map(toUser);
  }

  async locateMessage(messageId: string): Promise<string | null> {
    const rows = await this.db.query<{ channelId: string }>(
      `SELECT channel_id AS "channelId" FROM messages WHERE id = $1`,
      [messageId],
    );
    return rows[0]?.channelId ?? null;
  }

  async listChannels(
    userId: string,
    opts: { includePublic: boolean; includeArchived: boolean },
  ): Promise<ChannelListing[]> {
    // Two indexed halves (the user's memberships, the public channels) rather than one
    // OR that would scan every channel.
    const rows = await this.db.query<ChannelListing>(
      `WITH mine AS (SELECT channel_id, role FROM channel_members WHERE user_id = $1),
       listed AS (
         SELECT c.*, mine.role AS my_role FROM mine JOIN channels c ON c.id = mine.channel_id
         UNION ALL
         SELECT c.*, NULL AS my_role FROM channels c
         WHERE $2::boolean AND c.kind = 'public' AND NOT EXISTS (SELECT 1 FROM mine WHERE mine.channel_id = c.id)
       )
       SELECT ${channelColumns},
         (SELECT count(*) FROM channel_members x WHERE x.channel_id = c.id) AS "memberCount",
         c.my_role AS "myRole"
       FROM listed c
       WHERE $3::boolean OR NOT c.archived
       ORDER BY c.name, c.id`,
      [userId, opts.includePublic, opts.includeArchived],
    );
    return rows.map((r) => ({ ...toChannelRecord(r), memberCount: r.memberCount, myRole: r.myRole ?? null }));
  }

  // ---- UserState ----

  async getSettings(userId: string): Promise<UserSettings> {
    const rows = await this.db.query<{ settings: Partial<UserSettings> | null }>(
      "SELECT settings FROM user_settings WHERE user_id = $1",
      [userId],
    );
    const stored = rows[0]?.settings ?? {};
    // Keys a newer version stored pass through; the known ones fall back to defaults.
    return {
      ...stored,
      theme: stored.theme ?? defaultSettings.theme,
      language: stored.language ?? defaultSettings.language,
      notify: { ...defaultSettings.notify, ...(stored.notify ?? {}) },
    };
  }

  async saveSettings(userId: string, settings: UserSettings): Promise<void> {
    await this.db.query(
      `INSERT INTO user_settings (user_id, settings, updated_at) VALUES ($1, $2::text::jsonb, $3)
       ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
      [userId, JSON.stringify(settings), Date.now()],
    );
  }

  async markRead(userId: string, channelId: string, seq: number): Promise<number | null> {
    const rows = await this.db.query<{ lastReadSeq: number }>(
      `UPDATE channel_members AS m SET last_read_seq = GREATEST(m.last_read_seq, LEAST($3::bigint, c.last_seq))
       FROM channels c
       WHERE m.channel_id = $2 AND m.user_id = $1 AND c.id = m.channel_id
       RETURNING m.last_read_seq AS "lastReadSeq"`,
      [userId, channelId, seqArg(seq)],
    );
    return rows[0]?.lastReadSeq ?? null;
  }

  async markThreadRead(
    userId: string,
    channelId: string,
    rootId: string,
    seq: number,
  ): Promise<number | null> {
    // A marker stored under another channel (a root id of a different channel) is left alone.
    const rows = await this.db.query<{ lastReadSeq: number }>(
      `INSERT INTO thread_reads (user_id, root_id, channel_id, last_read_seq)
       SELECT m.user_id, $3, m.channel_id, GREATEST(0, LEAST($4::bigint, c.last_seq))
       FROM channel_members m JOIN channels c ON c.id = m.channel_id
       WHERE m.channel_id = $2 AND m.user_id = $1
       ON CONFLICT (user_id, root_id) DO UPDATE
         SET last_read_seq = GREATEST(thread_reads.last_read_seq, excluded.last_read_seq)
         WHERE thread_reads.channel_id = excluded.channel_id
       RETURNING last_read_seq AS "lastReadSeq"`,
      [userId, channelId, rootId, seqArg(seq)],
    );
    return rows[0]?.lastReadSeq ?? null;
  }

  async unreadSummary(userId: string): Promise<Unread[]> {
    // The followed threads are the explicit follows plus the roots the user takes part
    // in (GIN index on thread_participants) unless explicitly unfollowed. Unread counts
    // scan only the messages after each marker.
    const rows = await this.db.query<Unread>(
      `WITH mine AS (
         SELECT channel_id, last_read_seq FROM channel_members WHERE user_id = $1
       ),
       explicit AS (
         SELECT f.root_id, f.channel_id, f.following FROM thread_follows f
         JOIN mine ON mine.channel_id = f.channel_id
         WHERE f.user_id = $1
       ),
       followed AS (
         SELECT root_id, channel_id FROM explicit WHERE following
         UNION
         SELECT r.id, r.channel_id FROM messages r JOIN mine ON mine.channel_id = r.channel_id
         WHERE r.thread_participants <> '[]'::jsonb AND r.thread_participants @> jsonb_build_array($1::text)
           AND NOT EXISTS (SELECT 1 FROM explicit e WHERE e.root_id = r.id AND NOT e.following)
       ),
       unread AS (
         SELECT m.channel_id, count(*) AS unread,
           count(*) FILTER (WHERE m.broadcast IS NOT NULL OR m.mentions @> jsonb_build_array($1::text)) AS mentions
         FROM mine JOIN messages m ON m.channel_id = mine.channel_id AND m.seq > mine.last_read_seq
         WHERE m.author_id <> $1 AND m.deleted_at IS NULL
           AND (m.thread_root_id IS NULL
             OR EXISTS (SELECT 1 FROM followed f WHERE f.root_id = m.thread_root_id AND f.channel_id = m.channel_id))
         GROUP BY m.channel_id
       ),
       threads AS (
         SELECT f.channel_id, count(*) AS threads
         FROM followed f
         LEFT JOIN thread_reads tr ON tr.user_id = $1 AND tr.root_id = f.root_id AND tr.channel_id = f.channel_id
         JOIN messages m ON m.channel_id = f.channel_id AND m.thread_root_id = f.root_id
           AND m.seq > coalesce(tr.last_read_seq, 0)
         WHERE m.author_id <> $1 AND m.deleted_at IS NULL
         GROUP BY f.channel_id
       )
       SELECT mine.channel_id AS "channelId", mine.last_read_seq AS "lastReadSeq",
         coalesce(u.unread, 0) AS unread, coalesce(u.mentions, 0) AS mentions, coalesce(t.threads, 0) AS threads
       FROM mine
       LEFT JOIN unread u ON u.channel_id = mine.channel_id
       LEFT JOIN threads t ON t.channel_id = mine.channel_id
       ORDER BY mine.channel_id`,
      [userId],
    );
    return rows.map((r) => ({
      channelId: r.channelId,
      lastReadSeq: Number(r.lastReadSeq),
      unread: Number(r.unread),
      mentions: Number(r.mentions),
      threads: Number(r.threads),
    }));
  }

  async presenceAudience(
    userId: string,
    maxChannelMembers: number,
  ): Promise<{ users: string[]; largeChannels: string[] }> {
    // Member counts stop at max + 1: a huge channel is known to be large without counting it.
    const rows = await this.db.query<{ users: string[]; largeChannels: string[] }>(
      `WITH mine AS (
         SELECT m.channel_id, c.kind IN ('dm', 'group_dm') AS direct,
           (SELECT count(*) FROM (SELECT 1 FROM channel_members x WHERE x.channel_id = m.channel_id
                                  LIMIT $2::bigint + 1) q) AS n
         FROM channel_members m JOIN channels c ON c.id = m.channel_id
         WHERE m.user_id = $1
       )
       SELECT
         (SELECT coalesce(jsonb_agg(u.user_id ORDER BY u.user_id), '[]'::jsonb) FROM (
            SELECT DISTINCT x.user_id FROM mine JOIN channel_members x ON x.channel_id = mine.channel_id
            WHERE (mine.direct OR mine.n <= $2) AND x.user_id <> $1) u) AS users,
         (SELECT coalesce(jsonb_agg(mine.channel_id ORDER BY mine.channel_id), '[]'::jsonb) FROM mine
          WHERE NOT mine.direct AND mine.n > $2) AS "largeChannels"`,
      [userId, nonNegative(maxChannelMembers)],
    );
    const row = rows[0];
    return { users: row?.users ?? [], largeChannels: row?.largeChannels ?? [] };
  }

  async sharingWith(userId: string, others: string[]): Promise<string[]> {
    if (others.length === 0) return [];
    const rows = await this.db.query<{ id: string }>(
      `SELECT o.id FROM (SELECT DISTINCT x AS id FROM jsonb_array_elements_text($2::text::jsonb) AS t(x)) o
       WHERE o.id = $1 OR EXISTS (
         SELECT 1 FROM channel_members theirs
         JOIN channel_members mine ON mine.channel_id = theirs.channel_id AND mine.user_id = $1
         WHERE theirs.user_id = o.id)`,
      [userId, JSON.stringify(others)],
    );
    // In the order asked, once each.
    const sharing = new Set(rows.map((r) => r.id));
    return [...new Set(others)].filter((id) => sharing.has(id));
  }
}

/** Opens the shared `Store` over a driver. */
export function createSqlStore(driver: SqlDriver, opts: SqlStoreOptions = {}): Store {
  return new SqlStore(driver, opts);
}

/**
 * Escapes LIKE's wildcards (`%`, `_`) and its escape character (`\`) so that `text`
 * matches only itself.
 */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function nonNegative(n: number): number {
  return n > 0 ? Math.floor(n) : 0;
}

/** A seq or time as a safe bigint parameter (the caller's number may be fractional or unbounded). */
function seqArg(n: number): number {
  if (Number.isNaN(n)) return 0;
  return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(n)));
}

// Rows are aliased to the domain's field names in SQL; these copy them into plain
// objects with exactly the domain's fields (drivers may add hidden properties).

function toChannelRecord(r: ChannelRecord): ChannelRecord {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    topic: r.topic,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    archived: r.archived,
    lastSeq: r.lastSeq,
  };
}

function toEvent(r: ChannelEvent): ChannelEvent {
  return { channelId: r.channelId, seq: r.seq, type: r.type, data: r.data, at: r.at };
}

function toMessage(r: StoredMessage): StoredMessage {
  return {
    id: r.id,
    channelId: r.channelId,
    seq: r.seq,
    authorId: r.authorId,
    text: r.text,
    clientMsgId: r.clientMsgId,
    createdAt: r.createdAt,
    editedAt: r.editedAt,
    deletedAt: r.deletedAt,
    threadRootId: r.threadRootId,
    replyCount: r.replyCount,
    lastReplyAt: r.lastReplyAt,
    threadParticipants: r.threadParticipants,
    mentions: r.mentions,
    broadcast: r.broadcast,
    reactions: r.reactions,
    pinnedAt: r.pinnedAt,
    pinnedBy: r.pinnedBy,
    files: r.files,
  };
}

function toUser(r: User): User {
  return {
    id: r.id,
    username: r.username,
    displayName: r.displayName,
    role: r.role,
    title: r.title,
    timeZone: r.timeZone,
    avatarFileId: r.avatarFileId,
    deactivated: r.deactivated,
    createdAt: r.createdAt,
  };
}

function toScheduled(r: Scheduled): Scheduled {
  return {
    id: r.id,
    channelId: r.channelId,
    authorId: r.authorId,
    text: r.text,
    clientMsgId: r.clientMsgId,
    threadRootId: r.threadRootId,
    sendAt: r.sendAt,
    status: r.status,
    messageId: r.messageId,
  };
}
