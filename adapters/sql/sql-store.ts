/**
 * The one implementation of the `Store` port, written against a tiny SQL driver
 * (sql-driver.ts) so that PGlite (embedded) and Postgres (production) share every
 * statement. It runs the migrations and composes the ports' queries, one file each:
 * channel-log-queries.ts (with the commit statement in commit-statement.ts),
 * message-history-queries.ts, schedule-queue-queries.ts, directory-queries.ts,
 * user-state-queries.ts and cluster-queries.ts, all over one guarded connection.
 */
import type {
  AccountState,
  AuditFilter,
  AuditOrigin,
  AuditRecord,
  ChannelListing,
  ChannelLog,
  ChannelSnapshot,
  ChannelWrite,
  FileRecord,
  FlagStore,
  IndexedUser,
  MessageHistory,
  MessagePage,
  ScanOutcome,
  ScheduleQueue,
  SearchDocument,
  SearchRequest,
  SearchResult,
  SendKey,
  ShardFence,
  ShardFencing,
  SharedSecrets,
  Store,
  StoredMessage,
  ThreadFollow,
  UserSearchResult,
  UserState,
} from "../../core/ports.js";
import type {
  AuditEntry,
  AuditVerdict,
  ChannelEvent,
  FileInfo,
  Flag,
  MessageVersion,
  Scheduled,
  SiteRole,
  Unread,
  User,
  UserEvent,
  UserSettings,
} from "../../core/types.js";
import { SqlAccounts } from "./account-queries.js";
import { SqlAuditLog } from "./audit-queries.js";
import { SqlChannelLog } from "./channel-log-queries.js";
import { SqlShardFencing, SqlSharedSecrets } from "./cluster-queries.js";
import { SqlDirectory } from "./directory-queries.js";
import { SqlFileStore } from "./file-queries.js";
import { SqlFlagStore } from "./flag-queries.js";
import { SqlLogFeed } from "./log-feed-queries.js";
import { SqlMessageHistory } from "./message-history-queries.js";
import { migrations as allMigrations, type Migration } from "./migrations.js";
import { SqlScheduleQueue } from "./schedule-queue-queries.js";
import { SqlSearch } from "./search-queries.js";
import { guarded, type SqlDriver } from "./sql-driver.js";
import { SqlUserEventLog } from "./user-event-queries.js";
import { SqlUserState } from "./user-state-queries.js";

// Declared in sql-driver.ts; the PGlite adapter imports them from here.
export type { SqlDriver, SqlQuery } from "./sql-driver.js";

/** Serialises concurrent `migrate()` calls on one schema (two processes starting at once). */
const migrationLock =
  "SELECT pg_advisory_xact_lock(hashtext('colink.migrate'), hashtext(coalesce(current_schema(), '')))";

/** Options of `SqlStore`. */
export interface SqlStoreOptions {
  /** The migrations to run; every one by default. */
  migrations?: readonly Migration[];
}

/** The `Store` port over any `SqlDriver`: each port's queries over one guarded connection. */
export class SqlStore implements Store {
  private readonly db: SqlDriver;
  private readonly migrations: readonly Migration[];
  private readonly log: ChannelLog;
  private readonly history: MessageHistory;
  private readonly schedules: ScheduleQueue;
  private readonly directory: SqlDirectory;
  private readonly userState: UserState;
  private readonly fencing: ShardFencing;
  private readonly secrets: SharedSecrets;
  private readonly searching: SqlSearch;
  private readonly feed: SqlLogFeed;
  private readonly userEvents: SqlUserEventLog;
  private readonly files: SqlFileStore;
  private readonly audit: SqlAuditLog;
  private readonly accounts: SqlAccounts;
  private readonly flags: FlagStore;

  constructor(db: SqlDriver, opts: SqlStoreOptions = {}) {
    this.db = guarded(db);
    this.migrations = opts.migrations ?? allMigrations;
    this.log = new SqlChannelLog(this.db);
    this.history = new SqlMessageHistory(this.db);
    this.schedules = new SqlScheduleQueue(this.db);
    this.directory = new SqlDirectory(this.db);
    this.userState = new SqlUserState(this.db);
    this.fencing = new SqlShardFencing(this.db);
    this.secrets = new SqlSharedSecrets(this.db);
    this.searching = new SqlSearch(this.db);
    this.feed = new SqlLogFeed(this.db);
    this.userEvents = new SqlUserEventLog(this.db);
    this.files = new SqlFileStore(this.db);
    this.audit = new SqlAuditLog(this.db);
    this.accounts = new SqlAccounts(this.db);
    this.flags = new SqlFlagStore(this.db);
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

  loadChannel(
    channelId: string,
    opts: { recentEvents: number; recentKeys: number },
  ): Promise<ChannelSnapshot | null> {
    return this.log.loadChannel(channelId, opts);
  }

  commit(writes: ChannelWrite[]): Promise<void> {
    return this.log.commit(writes);
  }

  readEvents(channelId: string, afterSeq: number, limit: number): Promise<ChannelEvent[]> {
    return this.log.readEvents(channelId, afterSeq, limit);
  }

  findSends(channelId: string, keys: SendKey[]): Promise<StoredMessage[]> {
    return this.log.findSends(channelId, keys);
  }

  // ---- MessageHistory ----

  readMessages(channelId: string, page: MessagePage): Promise<StoredMessage[]> {
    return this.history.readMessages(channelId, page);
  }

  getMessage(channelId: string, messageId: string): Promise<StoredMessage | null> {
    return this.history.getMessage(channelId, messageId);
  }

  listPinned(channelId: string, limit: number): Promise<StoredMessage[]> {
    return this.history.listPinned(channelId, limit);
  }

  readVersions(channelId: string, messageId: string): Promise<MessageVersion[]> {
    return this.history.readVersions(channelId, messageId);
  }

  threadFollows(channelId: string, rootId: string): Promise<ThreadFollow[]> {
    return this.history.threadFollows(channelId, rootId);
  }

  // ---- ScheduleQueue ----

  dueSchedules(now: number, limit: number): Promise<Scheduled[]> {
    return this.schedules.dueSchedules(now, limit);
  }

  // ---- Directory ----

  upsertUser(user: { id: string; username: string; displayName: string; role: SiteRole }): Promise<User> {
    return this.directory.upsertUser(user);
  }

  getUser(userId: string): Promise<User | null> {
    return this.directory.getUser(userId);
  }

  listUsers(afterId: string, limit: number): Promise<User[]> {
    return this.directory.listUsers(afterId, limit);
  }

  getUsersByUsername(usernames: string[]): Promise<User[]> {
    return this.directory.getUsersByUsername(usernames);
  }

  updateProfile(
    userId: string,
    patch: { displayName?: string; title?: string; timeZone?: string },
  ): Promise<User | null> {
    return this.directory.updateProfile(userId, patch);
  }

  locateMessage(messageId: string): Promise<string | null> {
    return this.directory.locateMessage(messageId);
  }

  listChannels(
    userId: string,
    opts: { includePublic: boolean; includeArchived: boolean },
  ): Promise<ChannelListing[]> {
    return this.directory.listChannels(userId, opts);
  }

  // ---- UserState ----

  getSettings(userId: string): Promise<UserSettings> {
    return this.userState.getSettings(userId);
  }

  saveSettings(userId: string, settings: UserSettings): Promise<void> {
    return this.userState.saveSettings(userId, settings);
  }

  markRead(userId: string, channelId: string, seq: number): Promise<number | null> {
    return this.userState.markRead(userId, channelId, seq);
  }

  markThreadRead(userId: string, channelId: string, rootId: string, seq: number): Promise<number | null> {
    return this.userState.markThreadRead(userId, channelId, rootId, seq);
  }

  unreadSummary(userId: string): Promise<Unread[]> {
    return this.userState.unreadSummary(userId);
  }

  presenceAudience(
    userId: string,
    maxChannelMembers: number,
  ): Promise<{ users: string[]; largeChannels: string[] }> {
    return this.userState.presenceAudience(userId, maxChannelMembers);
  }

  sharingWith(userId: string, others: string[]): Promise<string[]> {
    return this.userState.sharingWith(userId, others);
  }

  // ---- ShardFencing, SharedSecrets ----

  takeShards(shards: number[]): Promise<ShardFence[]> {
    return this.fencing.takeShards(shards);
  }

  sharedDevIssuerKey(candidate: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.secrets.sharedDevIssuerKey(candidate);
  }

  sharedSessionKey(candidate: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.secrets.sharedSessionKey(candidate);
  }

  // ---- SearchIndex ----

  index(docs: SearchDocument[]): Promise<void> {
    return this.searching.index(docs);
  }

  remove(messageIds: string[]): Promise<void> {
    return this.searching.remove(messageIds);
  }

  search(req: SearchRequest): Promise<SearchResult> {
    return this.searching.search(req);
  }

  /** Nothing to do: the users table is the index of people here (see `searchUsers`). */
  async indexUsers(_users: IndexedUser[]): Promise<void> {}

  async searchUsers(query: string, limit: number): Promise<UserSearchResult> {
    return { users: await this.directory.searchUsers(query, limit) };
  }

  // ---- LogFeed ----

  feedBacklog(
    follower: string,
    limit: number,
  ): Promise<Array<{ channelId: string; handledSeq: number; lastSeq: number }>> {
    return this.feed.feedBacklog(follower, limit);
  }

  markFed(follower: string, positions: ReadonlyArray<{ channelId: string; seq: number }>): Promise<void> {
    return this.feed.markFed(follower, positions);
  }

  fedPosition(follower: string, key: string): Promise<number> {
    return this.feed.fedPosition(follower, key);
  }

  forgetFollower(follower: string): Promise<void> {
    return this.feed.forgetFollower(follower);
  }

  // ---- UserEventLog ----

  readUserEvents(afterId: number, limit: number): Promise<UserEvent[]> {
    return this.userEvents.readUserEvents(afterId, limit);
  }

  // ---- FileStore ----

  createFile(file: FileInfo): Promise<void> {
    return this.files.createFile(file);
  }

  getFile(fileId: string): Promise<FileRecord | null> {
    return this.files.getFile(fileId);
  }

  getFiles(fileIds: string[]): Promise<FileRecord[]> {
    return this.files.getFiles(fileIds);
  }

  completeUpload(fileId: string, status: "pending" | "unscanned", now: number): Promise<FileRecord | null> {
    return this.files.completeUpload(fileId, status, now);
  }

  claimScans(now: number, leaseMs: number, limit: number): Promise<FileRecord[]> {
    return this.files.claimScans(now, leaseMs, limit);
  }

  recordScan(fileId: string, outcome: ScanOutcome, now: number): Promise<FileRecord | null> {
    return this.files.recordScan(fileId, outcome, now);
  }

  isFileShared(fileId: string, channelId: string): Promise<boolean> {
    return this.files.isFileShared(fileId, channelId);
  }

  quarantinedBefore(cutoff: number, limit: number): Promise<FileRecord[]> {
    return this.files.quarantinedBefore(cutoff, limit);
  }

  markPurged(fileId: string): Promise<void> {
    return this.files.markPurged(fileId);
  }

  abandonedUploads(cutoff: number, limit: number): Promise<FileRecord[]> {
    return this.files.abandonedUploads(cutoff, limit);
  }

  dropUpload(fileId: string): Promise<void> {
    return this.files.dropUpload(fileId);
  }

  // ---- AuditLog ----

  recordAudit(entry: AuditRecord): Promise<AuditEntry> {
    return this.audit.recordAudit(entry);
  }

  listAudit(filter: AuditFilter): Promise<{ entries: AuditEntry[]; nextCursor?: string }> {
    return this.audit.listAudit(filter);
  }

  verifyAudit(): Promise<AuditVerdict> {
    return this.audit.verifyAudit();
  }

  readAudit(afterId: number, limit: number): Promise<Array<AuditEntry & { seq: number }>> {
    return this.audit.readAudit(afterId, limit);
  }

  // ---- Accounts ----

  setDeactivated(userId: string, deactivated: boolean, origin: AuditOrigin): Promise<User | null> {
    return this.accounts.setDeactivated(userId, deactivated, origin);
  }

  setRole(userId: string, role: SiteRole, origin: AuditOrigin): Promise<User | null> {
    return this.accounts.setRole(userId, role, origin);
  }

  listAccounts(opts: { q?: string; after?: string; limit: number }): Promise<User[]> {
    return this.accounts.listAccounts(opts);
  }

  accountOf(userId: string): Promise<AccountState | null> {
    return this.accounts.accountOf(userId);
  }

  // ---- FlagStore (moderation, issue 23) ----

  getFlag(channelId: string, flagId: string): Promise<Flag | null> {
    return this.flags.getFlag(channelId, flagId);
  }

  openFlagsOf(channelId: string, messageId: string): Promise<Flag[]> {
    return this.flags.openFlagsOf(channelId, messageId);
  }

  listFlags(opts: { status?: "open" | "resolved"; before?: string; limit: number }): Promise<Flag[]> {
    return this.flags.listFlags(opts);
  }
}

/** Opens the shared `Store` over a driver. */
export function createSqlStore(driver: SqlDriver, opts: SqlStoreOptions = {}): Store {
  return new SqlStore(driver, opts);
}
