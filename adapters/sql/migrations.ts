/**
 * The SQL migrations, in order. PGlite and Postgres run the very same list. They are
 * TypeScript strings so that the build needs no asset copying. Never edit a migration
 * that has shipped: append a new one.
 *
 * Times are Unix epoch milliseconds in `bigint` columns. Constraint names are given
 * explicitly where `SqlStore` maps a violation to a domain error.
 */

/** One migration: a stable id (recorded in `schema_migrations`) and its SQL script. */
export interface Migration {
  id: string;
  sql: string;
}

/** Every migration, oldest first. */
export const migrations: readonly Migration[] = [
  {
    id: "0001_init",
    sql: `
CREATE TABLE users (
  id text PRIMARY KEY,
  username text NOT NULL CONSTRAINT users_username_key UNIQUE,
  display_name text NOT NULL DEFAULT '',
  role text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'moderator', 'member', 'guest')),
  created_at bigint NOT NULL,
  deactivated boolean NOT NULL DEFAULT false
);

CREATE TABLE user_settings (
  user_id text PRIMARY KEY,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at bigint NOT NULL DEFAULT 0
);

CREATE TABLE channels (
  id text PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('public', 'private', 'dm', 'group_dm')),
  topic text NOT NULL DEFAULT '',
  created_by text NOT NULL,
  created_at bigint NOT NULL,
  archived boolean NOT NULL DEFAULT false,
  last_seq bigint NOT NULL DEFAULT 0
);
CREATE INDEX channels_public_idx ON channels (name) WHERE kind = 'public';

CREATE TABLE channel_members (
  channel_id text NOT NULL,
  user_id text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'moderator', 'member')),
  joined_at bigint NOT NULL,
  last_read_seq bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user_idx ON channel_members (user_id);

-- The idempotency key and the log position are both unique per channel: a retried
-- send cannot create a second row, and a stale writer cannot reuse a seq.
CREATE TABLE messages (
  id text PRIMARY KEY,
  channel_id text NOT NULL,
  seq bigint NOT NULL,
  author_id text NOT NULL,
  text text NOT NULL,
  client_msg_id text NOT NULL,
  created_at bigint NOT NULL,
  edited_at bigint,
  deleted_at bigint,
  thread_root_id text,
  reply_count integer NOT NULL DEFAULT 0,
  last_reply_at bigint,
  mentions jsonb NOT NULL DEFAULT '[]'::jsonb,
  files jsonb NOT NULL DEFAULT '[]'::jsonb,
  CONSTRAINT messages_send_key UNIQUE (channel_id, author_id, client_msg_id),
  CONSTRAINT messages_seq_key UNIQUE (channel_id, seq)
);
CREATE INDEX messages_thread_idx ON messages (thread_root_id, seq) WHERE thread_root_id IS NOT NULL;

-- The gap-free log of each channel: the resume log and the Kafka outbox. Its primary
-- key is the fence against a stale owner.
CREATE TABLE channel_events (
  channel_id text NOT NULL,
  seq bigint NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  created_at bigint NOT NULL,
  CONSTRAINT channel_events_pkey PRIMARY KEY (channel_id, seq)
);

CREATE TABLE reactions (
  message_id text NOT NULL,
  user_id text NOT NULL,
  emoji text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE files (
  id text PRIMARY KEY,
  uploader text NOT NULL,
  channel_id text NOT NULL,
  name text NOT NULL,
  size bigint NOT NULL,
  content_type text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'clean', 'infected', 'failed', 'unscanned')),
  created_at bigint NOT NULL
);
CREATE INDEX files_channel_idx ON files (channel_id);

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at bigint NOT NULL,
  actor_id text NOT NULL,
  action text NOT NULL,
  target text NOT NULL DEFAULT '',
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
`,
  },
  {
    id: "0002_collaboration",
    sql: `
-- Threads, reactions, mentions and pins on messages. The column messages.reactions is the
-- denormalised who-reacted list (StoredReaction[], in reaction order) that every read
-- returns; the reactions table keeps one row per reaction for per-user queries.
ALTER TABLE messages
  ADD COLUMN thread_participants jsonb NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN broadcast text CONSTRAINT messages_broadcast_check CHECK (broadcast IN ('channel', 'here')),
  ADD COLUMN reactions jsonb NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN pinned_at bigint,
  ADD COLUMN pinned_by text;

-- Every thread query names the channel too; this one replaces 0001's (thread_root_id, seq).
DROP INDEX messages_thread_idx;
CREATE INDEX messages_thread_replies_idx ON messages (channel_id, thread_root_id, seq)
  WHERE thread_root_id IS NOT NULL;
-- History pages show top-level messages only; replies must not be scanned past.
CREATE INDEX messages_top_level_idx ON messages (channel_id, seq) WHERE thread_root_id IS NULL;
CREATE INDEX messages_pinned_idx ON messages (channel_id, pinned_at DESC) WHERE pinned_at IS NOT NULL;
-- The threads a user takes part in (unread counts), found without scanning every root.
CREATE INDEX messages_thread_participants_idx ON messages USING gin (thread_participants jsonb_path_ops)
  WHERE thread_participants <> '[]'::jsonb;

ALTER TABLE users
  ADD COLUMN title text NOT NULL DEFAULT '',
  ADD COLUMN time_zone text NOT NULL DEFAULT '',
  ADD COLUMN avatar_file_id text;
-- Case-insensitive lookups and prefix searches (LIKE 'abc%') on both names.
CREATE INDEX users_username_lower_idx ON users (lower(username) text_pattern_ops);
CREATE INDEX users_display_name_lower_idx ON users (lower(display_name) text_pattern_ops);

CREATE TABLE message_versions (
  message_id text NOT NULL,
  version integer NOT NULL,
  text text NOT NULL,
  edited_at bigint NOT NULL,
  CONSTRAINT message_versions_pkey PRIMARY KEY (message_id, version)
);

-- Explicit follows and unfollows only: a thread's participants follow it unless they
-- have a row here with following = false.
CREATE TABLE thread_follows (
  root_id text NOT NULL,
  user_id text NOT NULL,
  channel_id text NOT NULL,
  following boolean NOT NULL,
  PRIMARY KEY (root_id, user_id)
);
CREATE INDEX thread_follows_user_idx ON thread_follows (user_id);

CREATE TABLE thread_reads (
  user_id text NOT NULL,
  root_id text NOT NULL,
  channel_id text NOT NULL,
  last_read_seq bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, root_id)
);

CREATE TABLE scheduled_messages (
  id text PRIMARY KEY,
  channel_id text NOT NULL,
  author_id text NOT NULL,
  text text NOT NULL,
  client_msg_id text NOT NULL,
  thread_root_id text,
  send_at bigint NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'cancelled')),
  message_id text,
  created_at bigint NOT NULL
);
-- The idempotency key of msg.schedule holds among pending schedules: once a schedule is
-- sent (the message then holds the key) or cancelled, its key may be used again.
CREATE UNIQUE INDEX scheduled_messages_send_key ON scheduled_messages (channel_id, author_id, client_msg_id)
  WHERE status = 'pending';
-- Only pending rows are ever looked up by time: the due sweep across channels, and a
-- channel's own on activation.
CREATE INDEX scheduled_messages_due_idx ON scheduled_messages (status, send_at) WHERE status = 'pending';
CREATE INDEX scheduled_messages_channel_idx ON scheduled_messages (channel_id, send_at) WHERE status = 'pending';
`,
  },
  {
    id: "0003_cluster",
    sql: `
-- Scale-out fencing. A node that wins a shard's Redis lease raises the shard's epoch here
-- (takeShards) before it serves the shard; every commit of a clustered node carries the
-- epochs it owns its shards under and fails when one has moved on, so a node that lost a
-- shard without noticing cannot write to it any more. Commits hold FOR SHARE locks on the
-- rows they check, so a taking node waits for the commits still running under the old epoch.
CREATE TABLE shard_epochs (
  shard integer PRIMARY KEY,
  epoch bigint NOT NULL
);
CREATE FUNCTION colink_check_fence(shard integer, stored bigint, mine bigint) RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
  IF stored <> mine THEN
    RAISE EXCEPTION 'colink: shard % has a newer owner', shard USING ERRCODE = 'C0409', DETAIL = shard::text;
  END IF;
  RETURN true;
END
$fn$;
-- The dev issuer's key pair, shared by the nodes of a cluster so that a token one node
-- issued is accepted by every node.
CREATE TABLE dev_issuer_keys (
  id text PRIMARY KEY,
  private_jwk jsonb NOT NULL,
  created_at bigint NOT NULL
);
`,
  },
  {
    id: "0004_search",
    sql: `
-- Full-text search (the SearchIndex port's Postgres adapter). One row per message that
-- is not deleted, written by the search indexer as it follows the channel log, never by
-- the send path, so indexing costs a send nothing. The vector holds English stems (so
-- "running" finds "run") and the exact words (so code-like tokens match as typed).
CREATE TABLE search_messages (
  message_id text PRIMARY KEY,
  channel_id text NOT NULL,
  seq bigint NOT NULL,
  author_id text NOT NULL,
  text text NOT NULL,
  created_at bigint NOT NULL,
  thread_root_id text,
  in_thread boolean NOT NULL,
  has_link boolean NOT NULL,
  has_reaction boolean NOT NULL,
  version bigint NOT NULL,
  vector tsvector GENERATED ALWAYS AS (to_tsvector('english', text) || to_tsvector('simple', text)) STORED
);
CREATE INDEX search_messages_vector_idx ON search_messages USING gin (vector);
CREATE INDEX search_messages_channel_idx ON search_messages (channel_id, created_at DESC);

-- How far each follower of the channel logs (the search indexer, the Kafka relay) has
-- handled each channel.
CREATE TABLE log_feed_positions (
  follower text NOT NULL,
  channel_id text NOT NULL,
  seq bigint NOT NULL,
  CONSTRAINT log_feed_positions_pkey PRIMARY KEY (follower, channel_id)
);
`,
  },
  {
    id: "0005_user_events",
    sql: `
-- The user-event outbox (user.events on the event stream): each change to a user's profile
-- or settings inserts its event in the same statement as the change. The relay reads it by
-- id; ids are handed out before commit, so it waits a little at a gap (UserEventRelay).
CREATE TABLE user_events (
  id bigserial PRIMARY KEY,
  user_id text NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  at bigint NOT NULL
);
`,
  },
  {
    id: "0006_files",
    sql: `
-- Files (the bytes live in a blob store). A file is uploaded to one channel and shared in
-- that channel's messages (messages.files), or is a user's avatar (no channel). Scans are claimed with a lease (next_scan_at),
-- so each pending file is scanned by one scanner at a time, cluster-wide.
ALTER TABLE files DROP CONSTRAINT files_status_check;
ALTER TABLE files RENAME COLUMN uploader TO uploader_id;
-- An avatar is in no channel.
ALTER TABLE files ALTER COLUMN channel_id DROP NOT NULL;
ALTER TABLE files
  ADD CONSTRAINT files_status_check
    CHECK (status IN ('uploading', 'pending', 'clean', 'infected', 'failed', 'unscanned')),
  ADD COLUMN thumbnails jsonb NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN signature text,
  ADD COLUMN scan_attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN next_scan_at bigint,
  ADD COLUMN quarantined_at bigint,
  ADD COLUMN purged_at bigint;
CREATE INDEX files_scan_due_idx ON files (next_scan_at) WHERE status = 'pending';
CREATE INDEX files_quarantined_idx ON files (quarantined_at) WHERE quarantined_at IS NOT NULL AND purged_at IS NULL;
-- Which messages carry a file; only messages with files are in it.
CREATE INDEX messages_files_idx ON messages USING gin (files) WHERE files <> '[]'::jsonb;
`,
  },
  {
    id: "0007_usernames_unique_ignoring_case",
    sql: `
-- Usernames are unique regardless of case: mentions (@name) and user search ignore case,
-- so "P1ALICE" and "p1alice" must not be two people. Of the users whose usernames differ
-- only in case, the first created keeps the name; each other one gets the first free
-- "<name>-2", "<name>-3", ... (as a sign-in whose username is taken does; see upsertUser in
-- adapters/sql/directory-queries.ts), with a user.updated event for the event stream.
DO $$
DECLARE
  dup record;
  n integer;
  candidate text;
BEGIN
  FOR dup IN
    SELECT id, username FROM (
      SELECT id, username, row_number() OVER (PARTITION BY lower(username) ORDER BY created_at, id) AS rank
      FROM users) ranked
    WHERE rank > 1
    ORDER BY lower(username), rank
  LOOP
    n := 2;
    LOOP
      candidate := dup.username || '-' || n;
      EXIT WHEN NOT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower(candidate));
      n := n + 1;
    END LOOP;
    UPDATE users SET username = candidate WHERE id = dup.id;
    INSERT INTO user_events (user_id, type, data, at)
    SELECT u.id, 'user.updated', jsonb_build_object('user', to_jsonb(u)),
           (extract(epoch FROM clock_timestamp()) * 1000)::bigint
    FROM (SELECT id, username, display_name AS "displayName", role, title, time_zone AS "timeZone",
                 avatar_file_id AS "avatarFileId", deactivated, created_at AS "createdAt"
          FROM users WHERE id = dup.id) u;
  END LOOP;
END $$;
ALTER TABLE users DROP CONSTRAINT users_username_key;
-- The unique index also serves the case-insensitive lookups and prefix searches the
-- index it replaces served.
DROP INDEX users_username_lower_idx;
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username) text_pattern_ops);
`,
  },
  // ---- 0008: the tamper-evident audit log and account administration (issue 23, users/audit) ----
  {
    id: "0008_audit_chain",
    sql: `
-- The audit log becomes a hash chain: each row carries the hash of the row before it (in id
-- order) and its own hash over its fields and that one (colink_audit_hash), so editing or
-- deleting a row breaks the chain at that row (audit.verify). Appends are serialised by a
-- BEFORE INSERT trigger that locks the one row of audit_chain (the chain's head), takes the
-- id under that lock (so id order is append order, whatever order transactions began in)
-- and fills prev_hash and hash: every INSERT INTO audit_log, from any statement of the
-- store, is chained, and concurrent writers wait for each other instead of forking it.
ALTER TABLE audit_log
  ADD COLUMN ip text NOT NULL DEFAULT '',
  ADD COLUMN request_id text NOT NULL DEFAULT '',
  ADD COLUMN prev_hash text NOT NULL DEFAULT '',
  ADD COLUMN hash text NOT NULL DEFAULT '';
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_target_idx ON audit_log (target, id);

-- The head of the chain: the newest row's id and hash, and how many rows the chain holds,
-- so that deleting the newest rows is seen too.
CREATE TABLE audit_chain (
  one boolean PRIMARY KEY DEFAULT true CONSTRAINT audit_chain_one CHECK (one),
  last_id bigint NOT NULL,
  last_hash text NOT NULL,
  entries bigint NOT NULL
);

-- sha256 (hex) of the text of the JSON array [id, at, actor, action, target, details, ip,
-- request id, previous hash] as Postgres renders jsonb (id and at as decimal strings).
CREATE FUNCTION colink_audit_hash(bigint, bigint, text, text, text, jsonb, text, text, text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT encode(sha256(convert_to(
    jsonb_build_array($1::text, $2::text, $3, $4, $5, $6, $7, $8, $9)::text, 'UTF8')), 'hex')
$fn$;

CREATE FUNCTION colink_audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  head record;
BEGIN
  SELECT last_hash INTO head FROM audit_chain FOR UPDATE;
  NEW.id := nextval('audit_log_id_seq');
  NEW.prev_hash := head.last_hash;
  NEW.hash := colink_audit_hash(NEW.id, NEW.at, NEW.actor_id, NEW.action, NEW.target, NEW.details,
                                NEW.ip, NEW.request_id, NEW.prev_hash);
  UPDATE audit_chain SET last_id = NEW.id, last_hash = NEW.hash, entries = entries + 1;
  RETURN NEW;
END
$fn$;

-- The rows written before this migration (file quarantines) start the chain; the action is
-- named as the other audit actions are (a verb's noun, like the op that did it).
UPDATE audit_log SET action = 'file.quarantine' WHERE action = 'file.quarantined';
DO $$
DECLARE
  r record;
  prev text := repeat('0', 64);
  n bigint := 0;
  last bigint := 0;
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
    UPDATE audit_log SET prev_hash = prev,
      hash = colink_audit_hash(r.id, r.at, r.actor_id, r.action, r.target, r.details, r.ip, r.request_id, prev)
    WHERE id = r.id RETURNING hash INTO prev;
    n := n + 1;
    last := r.id;
  END LOOP;
  INSERT INTO audit_chain (last_id, last_hash, entries) VALUES (last, prev, n);
END $$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION colink_audit_chain();

-- A role an admin set (role.set) wins over the token's role claim from then on. role.set
-- counts up role_admin_sets with the role; any other update of the row (a sign-in's upsert,
-- Directory.upsertUser) keeps the role once an admin has set it.
ALTER TABLE users ADD COLUMN role_admin_sets integer NOT NULL DEFAULT 0;
CREATE FUNCTION colink_keep_admin_role() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF OLD.role_admin_sets > 0 AND NEW.role_admin_sets = OLD.role_admin_sets THEN
    NEW.role := OLD.role;
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER users_keep_admin_role BEFORE UPDATE OF role ON users
  FOR EACH ROW EXECUTE FUNCTION colink_keep_admin_role();
`,
  },
  // ---- moderation (issue 23, helper C) ----
  {
    id: "0009_moderation",
    sql: `
-- Flags: reports of messages to the moderators. A channel's actor writes its flags in its
-- group commit (never a log event: members do not see who reported what). The id names
-- the channel (core/ids.ts newFlagId) and is time-ordered, so the moderators' queue pages
-- by id. One open flag per message and reporter.
CREATE TABLE message_flags (
  id text PRIMARY KEY,
  channel_id text NOT NULL,
  message_id text NOT NULL,
  reporter_id text NOT NULL,
  reason text NOT NULL,
  created_at bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'resolved')),
  resolution text CHECK (resolution IN ('removed', 'dismissed')),
  resolved_by text,
  resolved_at bigint,
  note text
);
CREATE UNIQUE INDEX message_flags_open_key ON message_flags (message_id, reporter_id) WHERE status = 'open';
CREATE INDEX message_flags_status_idx ON message_flags (status, id COLLATE "C");
CREATE INDEX message_flags_id_c_idx ON message_flags (id COLLATE "C");

-- The original of every message a moderator removed, for audit and the moderators' view
-- of its flags; members see the message deleted.
CREATE TABLE removed_messages (
  message_id text PRIMARY KEY,
  channel_id text NOT NULL,
  removed_by text NOT NULL,
  reason text NOT NULL,
  removed_at bigint NOT NULL,
  original jsonb NOT NULL
);
`,
  },
];
