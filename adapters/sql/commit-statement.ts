/**
 * The group-commit hot path's one statement, whatever the number of channels: the rows
 * of the hot tables (channels, events, new messages) travel column by column, one array
 * parameter per column expanded by `unnest`; the rarer tables' rows travel as one JSON
 * parameter expanded by `jsonb_to_recordset`. The per-table inserts, updates and deletes
 * are chained as data-modifying CTEs. A single statement is its own transaction (all or
 * nothing), so no BEGIN/COMMIT round trips are needed.
 */
import {
  type AuditRecord,
  type ChannelRecord,
  type ChannelWrite,
  DuplicateSendError,
  type ReactionRow,
  type RemovedOriginal,
  type SendKey,
  type ShardFence,
  type StoredMessage,
  type ThreadFollow,
} from "../../core/ports.js";
import type { ChannelEvent, Flag, Member, MessageVersion, Scheduled } from "../../core/types.js";
import { auditAppend } from "./audit-queries.js";

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
  // ---- moderation (issue 23) ----
  // A flag is created open, then resolved once; only its own channel's row is changed.
  flags: `INSERT INTO message_flags (id, channel_id, message_id, reporter_id, reason, created_at, status, resolution,
      resolved_by, resolved_at, note)
    SELECT r.id, r."channelId", r."messageId", r."reporterId", r.reason, r."createdAt", r.status, r.resolution,
      r."resolvedBy", r."resolvedAt", r.note
    FROM jsonb_to_recordset($P::text::jsonb) AS r(id text, "channelId" text, "messageId" text, "reporterId" text,
      reason text, "createdAt" bigint, status text, resolution text, "resolvedBy" text, "resolvedAt" bigint, note text)
    ON CONFLICT (id) DO UPDATE SET status = excluded.status, resolution = excluded.resolution,
      resolved_by = excluded.resolved_by, resolved_at = excluded.resolved_at, note = excluded.note
      WHERE message_flags.channel_id = excluded.channel_id`,
  // A message is removed once (it is deleted from then on): the first original stays.
  removals: `INSERT INTO removed_messages (message_id, channel_id, removed_by, reason, removed_at, original)
    SELECT r."messageId", r."channelId", r."removedBy", r.reason, r."removedAt", r.original
    FROM jsonb_to_recordset($P::text::jsonb) AS r("messageId" text, "channelId" text, "removedBy" text,
      reason text, "removedAt" bigint, original jsonb)
    ON CONFLICT (message_id) DO NOTHING`,
  // The audit entries of the batch's removals and resolutions, chained by the audit log's
  // trigger (audit-queries.ts): they commit with the change or not at all.
  audit: auditAppend("$P"),
} as const;

type CommitPart = keyof typeof commitParts;

/** The parts of the commit statement, in the order they run. */
const commitPartNames = Object.keys(commitParts) as CommitPart[];

/** Each table's rows of one commit, merged over all channels. */
export type CommitRows = Record<CommitPart, unknown[]>;

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
  flags: Map<string, Flag>;
  removals: Map<string, RemovedOriginal>;
  audit: AuditRecord[];
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
    flags: new Map(),
    removals: new Map(),
    audit: [],
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
  for (const f of w.flags ?? []) m.flags.set(f.id, f);
  for (const r of w.removals ?? []) if (!m.removals.has(r.messageId)) m.removals.set(r.messageId, r);
  for (const a of w.audit ?? []) m.audit.push(a);
}

/**
 * Merges the writes of one commit per channel so that no statement touches a row
 * twice, and checks that no two new messages (or scheduled messages) share an
 * idempotency key.
 */
export function mergeWrites(writes: ChannelWrite[], now: number): CommitRows {
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
    for (const f of m.flags.values()) {
      const { message: _view, ...row } = f;
      rows.flags.push({ ...row, channelId });
    }
    for (const r of m.removals.values()) rows.removals.push({ ...r, channelId });
    for (const a of m.audit) rows.audit.push(a);
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
export const staleShard = "C0409";

/** The distinct fences of a commit's writes. */
export function fencesOf(writes: ChannelWrite[]): ShardFence[] {
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
export function commitStatement(
  rows: CommitRows,
  fences: ShardFence[] = [],
): { text: string; params: string[] } {
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
