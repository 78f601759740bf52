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
];
