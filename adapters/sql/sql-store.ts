/**
 * The one implementation of the `Store` port, written against a tiny SQL driver so that
 * PGlite (embedded) and Postgres (production) share every statement.
 *
 * The group-commit hot path (`commit`) sends ONE statement whatever the number of
 * channels: each table's rows travel as one JSON parameter expanded by
 * `jsonb_to_recordset`, and the per-table inserts, updates and deletes are chained as
 * data-modifying CTEs. A single statement is its own transaction (all or nothing), so no
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
  type MessagePage,
  type SendKey,
  SeqConflictError,
  type Store,
} from "../../core/ports.js";
import type { ChannelEvent, Member, Message, SiteRole, User } from "../../core/types.js";
import { migrations as allMigrations, type Migration } from "./migrations.js";

/** What a statement runner offers: parameterised queries and multi-statement scripts. */
export interface SqlQuery {
  /**
   * Runs one statement with `$1…` parameters and returns its rows as objects keyed by
   * column name. Drivers return int8 as number, json/jsonb parsed and booleans as booleans.
   */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
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
    query: <R>(text: string, params?: unknown[]) =>
      inner.query<R>(text, params).catch((err: unknown) => Promise.reject(unavailableOr(err))),
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

/** Serialises concurrent `migrate()` calls on one schema (two processes starting at once). */
const migrationLock =
  "SELECT pg_advisory_xact_lock(hashtext('colink.migrate'), hashtext(coalesce(current_schema(), '')))";

const channelColumns = `c.id, c.name, c.kind, c.topic, c.created_by AS "createdBy", c.created_at AS "createdAt",
  c.archived, c.last_seq AS "lastSeq"`;

const messageColumns = `m.id, m.channel_id AS "channelId", m.seq, m.author_id AS "authorId", m.text,
  m.client_msg_id AS "clientMsgId", m.created_at AS "createdAt", m.edited_at AS "editedAt",
  m.deleted_at AS "deletedAt", m.thread_root_id AS "threadRootId", m.reply_count AS "replyCount",
  m.last_reply_at AS "lastReplyAt", m.mentions, m.files`;

const userColumns = `id, username, display_name AS "displayName", role, created_at AS "createdAt"`;

/** The record type of a `Message` serialised as JSON, for `jsonb_to_recordset`. */
const messageRecord = `id text, "channelId" text, seq bigint, "authorId" text, text text, "clientMsgId" text,
  "createdAt" bigint, "editedAt" bigint, "deletedAt" bigint, "threadRootId" text, "replyCount" integer,
  "lastReplyAt" bigint, mentions jsonb, files jsonb`;

/** One data-modifying CTE of the commit statement; `$P` stands for its JSON parameter. */
const commitParts = {
  channels: `INSERT INTO channels (id, name, kind, topic, created_by, created_at, archived, last_seq)
    SELECT r.id, r.name, r.kind, coalesce(r.topic, ''), r."createdBy", r."createdAt", r.archived, r."lastSeq"
    FROM jsonb_to_recordset($P::text::jsonb) AS r(id text, name text, kind text, topic text, "createdBy" text,
      "createdAt" bigint, archived boolean, "lastSeq" bigint)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, topic = excluded.topic, archived = excluded.archived,
      last_seq = excluded.last_seq`,
  events: `INSERT INTO channel_events (channel_id, seq, type, data, created_at)
    SELECT r."channelId", r.seq, r.type, coalesce(r.data, '{}'::jsonb), r.at
    FROM jsonb_to_recordset($P::text::jsonb) AS r("channelId" text, seq bigint, type text, data jsonb, at bigint)`,
  newMessages: `INSERT INTO messages (id, channel_id, seq, author_id, text, client_msg_id, created_at, edited_at,
      deleted_at, thread_root_id, reply_count, last_reply_at, mentions, files)
    SELECT r.id, r."channelId", r.seq, r."authorId", r.text, r."clientMsgId", r."createdAt", r."editedAt",
      r."deletedAt", r."threadRootId", coalesce(r."replyCount", 0), r."lastReplyAt",
      coalesce(r.mentions, '[]'::jsonb), coalesce(r.files, '[]'::jsonb)
    FROM jsonb_to_recordset($P::text::jsonb) AS r(${messageRecord})`,
  changedMessages: `UPDATE messages AS m SET text = r.text, edited_at = r."editedAt", deleted_at = r."deletedAt",
      reply_count = coalesce(r."replyCount", 0), last_reply_at = r."lastReplyAt",
      mentions = coalesce(r.mentions, '[]'::jsonb), files = coalesce(r.files, '[]'::jsonb)
    FROM jsonb_to_recordset($P::text::jsonb) AS r(${messageRecord})
    WHERE m.id = r.id AND m.channel_id = r."channelId"`,
  upsertMembers: `INSERT INTO channel_members (channel_id, user_id, role, joined_at, last_read_seq)
    SELECT r."channelId", r."userId", r.role, r."joinedAt", coalesce(r."lastReadSeq", 0)
    FROM jsonb_to_recordset($P::text::jsonb) AS r("channelId" text, "userId" text, role text, "joinedAt" bigint,
      "lastReadSeq" bigint)
    ON CONFLICT (channel_id, user_id) DO UPDATE SET role = excluded.role, joined_at = excluded.joined_at,
      last_read_seq = excluded.last_read_seq`,
  removedMembers: `DELETE FROM channel_members AS m
    USING jsonb_to_recordset($P::text::jsonb) AS r("channelId" text, "userId" text)
    WHERE m.channel_id = r."channelId" AND m.user_id = r."userId"`,
} as const;

type CommitPart = keyof typeof commitParts;

/** Each table's rows of one commit, merged over all channels. */
type CommitRows = Record<CommitPart, unknown[]>;

/** A channel's writes after merging every `ChannelWrite` of that channel in one commit. */
interface MergedWrite {
  channel: ChannelRecord;
  events: ChannelEvent[];
  newMessages: Map<string, Message>;
  changedMessages: Map<string, Message>;
  /** userId → the member's new state, or null when removed. */
  members: Map<string, Member | null>;
}

const sendKeyOf = (channelId: string, authorId: string, clientMsgId: string) =>
  `${channelId}\u0000${authorId}\u0000${clientMsgId}`;

/**
 * Merges the writes of one commit per channel so that no statement touches a row
 * twice, and checks that no two new messages share an idempotency key.
 */
function mergeWrites(writes: ChannelWrite[]): CommitRows {
  const byChannel = new Map<string, MergedWrite>();
  for (const w of writes) {
    let m = byChannel.get(w.channel.id);
    if (!m) {
      m = {
        channel: w.channel,
        events: [],
        newMessages: new Map(),
        changedMessages: new Map(),
        members: new Map(),
      };
      byChannel.set(w.channel.id, m);
    }
    m.channel = w.channel;
    for (const e of w.events) m.events.push(e);
    for (const msg of w.newMessages) m.newMessages.set(msg.id, msg);
    for (const msg of w.changedMessages) {
      // A message created earlier in this same commit is still an insert.
      if (m.newMessages.has(msg.id)) m.newMessages.set(msg.id, msg);
      else m.changedMessages.set(msg.id, msg);
    }
    for (const member of w.upsertMembers) m.members.set(member.userId, member);
    // Within one write a user in both lists counts as removed: denying access is the safe side.
    for (const userId of w.removedMembers) m.members.set(userId, null);
  }

  const rows: CommitRows = {
    channels: [],
    events: [],
    newMessages: [],
    changedMessages: [],
    upsertMembers: [],
    removedMembers: [],
  };
  const seen = new Set<string>();
  const duplicates: Array<SendKey & { channelId: string }> = [];
  for (const [channelId, m] of byChannel) {
    rows.channels.push(m.channel);
    // A write only ever touches its own channel, whatever its rows say.
    for (const e of m.events) rows.events.push(e.channelId === channelId ? e : { ...e, channelId });
    for (const msg of m.newMessages.values()) {
      const key = sendKeyOf(channelId, msg.authorId, msg.clientMsgId);
      if (seen.has(key)) duplicates.push({ channelId, authorId: msg.authorId, clientMsgId: msg.clientMsgId });
      seen.add(key);
      rows.newMessages.push(msg.channelId === channelId ? msg : { ...msg, channelId });
    }
    for (const msg of m.changedMessages.values()) {
      rows.changedMessages.push(msg.channelId === channelId ? msg : { ...msg, channelId });
    }
    for (const [userId, member] of m.members) {
      if (member) rows.upsertMembers.push({ ...member, channelId });
      else rows.removedMembers.push({ channelId, userId });
    }
  }
  if (duplicates.length > 0) throw new DuplicateSendError(duplicates);
  return rows;
}

/** Builds the single commit statement for the non-empty tables, and its parameters. */
function commitStatement(rows: CommitRows): { text: string; params: string[] } {
  const ctes: string[] = [];
  const params: string[] = [];
  for (const part of Object.keys(commitParts) as CommitPart[]) {
    const list = rows[part];
    if (list.length === 0) continue;
    params.push(JSON.stringify(list));
    const placeholder = `$${params.length}`;
    ctes.push(`${part} AS (${commitParts[part].replace("$P", () => placeholder)})`);
  }
  return { text: `WITH ${ctes.join(",\n")}\nSELECT 1 AS ok`, params };
}

/** Raw row of `loadChannel`'s single query. */
interface SnapshotRow extends ChannelRecord {
  members: Member[];
  events: ChannelEvent[];
  keys: Array<SendKey & { messageId: string }>;
}

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

  async commit(writes: ChannelWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const rows = mergeWrites(writes);
    const { text, params } = commitStatement(rows);
    try {
      await this.db.query(text, params);
    } catch (err) {
      const info = sqlErrorOf(err);
      if (info?.code === uniqueViolation) {
        if (info.constraint === "channel_events_pkey" || info.constraint === "messages_seq_key") {
          throw new SeqConflictError(await this.takenSeqChannels(rows, writes));
        }
        if (info.constraint === "messages_send_key") {
          const keys = await this.storedSendKeys(rows.newMessages as Message[]);
          if (keys.length > 0) throw new DuplicateSendError(keys);
        }
      }
      throw err;
    }
  }

  /** After a seq collision (the statement rolled back): the channels whose log positions are taken. */
  private async takenSeqChannels(rows: CommitRows, writes: ChannelWrite[]): Promise<string[]> {
    const eventKeys = (rows.events as ChannelEvent[]).map((e) => ({ channelId: e.channelId, seq: e.seq }));
    const messageKeys = (rows.newMessages as Message[]).map((m) => ({ channelId: m.channelId, seq: m.seq }));
    const found = await this.db.query<{ channelId: string }>(
      `SELECT e.channel_id AS "channelId" FROM channel_events e
         JOIN jsonb_to_recordset($1::text::jsonb) AS k("channelId" text, seq bigint)
           ON e.channel_id = k."channelId" AND e.seq = k.seq
       UNION
       SELECT m.channel_id FROM messages m
         JOIN jsonb_to_recordset($2::text::jsonb) AS k("channelId" text, seq bigint)
           ON m.channel_id = k."channelId" AND m.seq = k.seq`,
      [JSON.stringify(eventKeys), JSON.stringify(messageKeys)],
    );
    const ids = found.map((r) => r.channelId).sort();
    // The collision was certain; if the rows are not visible now, blame every channel.
    return ids.length > 0 ? ids : [...new Set(writes.map((w) => w.channel.id))];
  }

  /** After a send-key collision (the statement rolled back): the keys already stored. */
  private async storedSendKeys(newMessages: Message[]): Promise<Array<SendKey & { channelId: string }>> {
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

  async loadChannel(
    channelId: string,
    opts: { recentEvents: number; recentKeys: number },
  ): Promise<ChannelSnapshot | null> {
    // One statement, so the channel row, its members and its log come from one snapshot.
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
                  ORDER BY seq DESC LIMIT $3) k) AS keys
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

  async readMessages(channelId: string, page: MessagePage): Promise<Message[]> {
    const limit = Math.floor(page.limit);
    if (limit <= 0) return [];
    const before = page.beforeSeq ?? Number.MAX_SAFE_INTEGER;
    if (page.afterSeq !== undefined) {
      // Paging forward (or a window between two seqs): the oldest ones above afterSeq.
      const rows = await this.db.query<Message>(
        `SELECT ${messageColumns} FROM messages m
         WHERE m.channel_id = $1 AND m.seq > $2 AND m.seq < $3 ORDER BY m.seq LIMIT $4`,
        [channelId, page.afterSeq, before, limit],
      );
      return rows.map(toMessage);
    }
    const rows = await this.db.query<Message>(
      `SELECT ${messageColumns} FROM messages m
       WHERE m.channel_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3`,
      [channelId, before, limit],
    );
    return rows.map(toMessage).reverse();
  }

  async getMessage(channelId: string, messageId: string): Promise<Message | null> {
    const rows = await this.db.query<Message>(
      `SELECT ${messageColumns} FROM messages m WHERE m.id = $1 AND m.channel_id = $2`,
      [messageId, channelId],
    );
    return rows[0] ? toMessage(rows[0]) : null;
  }

  async findSends(channelId: string, keys: SendKey[]): Promise<Message[]> {
    if (keys.length === 0) return [];
    const rows = await this.db.query<Message>(
      `SELECT ${messageColumns} FROM messages m
       JOIN jsonb_to_recordset($2::text::jsonb) AS k("authorId" text, "clientMsgId" text)
         ON m.author_id = k."authorId" AND m.client_msg_id = k."clientMsgId"
       WHERE m.channel_id = $1 ORDER BY m.seq`,
      [channelId, JSON.stringify(keys.map((k) => ({ authorId: k.authorId, clientMsgId: k.clientMsgId })))],
    );
    return rows.map(toMessage);
  }

  async upsertUser(user: {
    id: string;
    username: string;
    displayName: string;
    role: SiteRole;
  }): Promise<User> {
    try {
      const rows = await this.db.query<User>(
        `INSERT INTO users (id, username, display_name, role, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username, display_name = excluded.display_name,
           role = excluded.role
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
}

/** Opens the shared `Store` over a driver. */
export function createSqlStore(driver: SqlDriver, opts: SqlStoreOptions = {}): Store {
  return new SqlStore(driver, opts);
}

function nonNegative(n: number): number {
  return n > 0 ? Math.floor(n) : 0;
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

function toMessage(r: Message): Message {
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
    mentions: r.mentions,
    files: r.files,
  };
}

function toUser(r: User): User {
  return { id: r.id, username: r.username, displayName: r.displayName, role: r.role, createdAt: r.createdAt };
}
