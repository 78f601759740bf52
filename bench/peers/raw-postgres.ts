/**
 * The durable-write ceiling for S3: Colink's own schema (its migrations, run in a fresh
 * Postgres schema) written from Node with the `postgres` package as fast as the database
 * takes it, without a chat server in between. Each message is the two rows a Colink send
 * writes, one in `messages` and its `message.created` event in `channel_events`, with
 * per-channel gap-free seqs over `channels` channels.
 *
 * Modes (each batch is one transaction):
 * - `insert`: one statement of two multi-row INSERTs (`INSERT … VALUES (…),(…)…`), chained
 *   as a data-modifying CTE like Colink's commit.
 * - `copy`: `COPY messages FROM STDIN` and `COPY channel_events FROM STDIN`, in text format.
 * - `jsonb`: the rows as one JSON parameter each, expanded by `jsonb_to_recordset` (Colink's
 *   way of passing rows), to tell the cost of the JSON route from the cost of the rows.
 *
 * It runs as a generator process (bench/lib/generators.ts), so its CPU is measured apart.
 */
import { once } from "node:events";
import { connect } from "node:net";
import postgres from "postgres";
import { migrations } from "../../adapters/sql/migrations.js";
import { newMessage } from "../../core/message-rules.js";

/** One run of the peer. */
export interface RawPostgresTask {
  url: string;
  mode: "insert" | "copy" | "jsonb";
  /** When the load starts (epoch ms), after the set-up, so that CPU can be measured over the window. */
  startAt: number;
  /** Messages per batch (each batch is one transaction writing 2 × batchRows rows). */
  batchRows: number;
  /** Batches in flight, each on its own connection. */
  connections: number;
  channels: number;
  warmupMs: number;
  durationMs: number;
  textBytes: number;
  /**
   * TCP_NODELAY on the connections (default true). postgres.js leaves Nagle's algorithm on,
   * and a small write behind a large one (COPY's CopyDone, the tail of a big statement)
   * can then wait for a delayed ACK, up to 40 ms on Linux.
   */
  noDelay?: boolean;
}

/** What it measured. */
export interface RawPostgresResult {
  /** Messages (a `messages` row and a `channel_events` row each) committed in the window. */
  rows: number;
  batches: number;
  elapsedMs: number;
  /** Messages committed in all, warm-up and tail included. */
  committed: number;
  /** `SELECT count(*) FROM messages` at the end: must equal `committed`. */
  persisted: number;
  /** Mean batch commit time, ms. */
  batchMs: number;
}

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

function base32(n: number, width: number): string {
  let out = "";
  for (let i = 0; i < width; i++) {
    out = alphabet[n % 32] + out;
    n = Math.floor(n / 32);
  }
  return out;
}

const messageColumns = [
  "id",
  "channel_id",
  "seq",
  "author_id",
  "text",
  "client_msg_id",
  "created_at",
] as const;
const eventColumns = ["channel_id", "seq", "type", "data", "created_at"] as const;

interface MessageRow {
  id: string;
  channel_id: string;
  seq: number;
  author_id: string;
  text: string;
  client_msg_id: string;
  created_at: number;
}

interface EventRow {
  channel_id: string;
  seq: number;
  type: string;
  data: string;
  created_at: number;
}

/** A fresh schema holding Colink's tables, and a pool on it. */
export interface RawSchema {
  sql: postgres.Sql;
  /** Ends the pool and drops the schema. */
  close(): Promise<void>;
}

/**
 * Creates a schema with Colink's migrations and opens a pool of `connections` on it, with
 * TCP_NODELAY unless `noDelay` is false (see `RawPostgresTask.noDelay`).
 */
export async function openRawSchema(url: string, connections: number, noDelay = true): Promise<RawSchema> {
  const schema = `raw_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const { hostname, port } = new URL(url);
  const sql = postgres(url, {
    max: connections,
    onnotice: () => {},
    ...(noDelay
      ? {
          socket: async () => {
            const socket = connect(Number(port || 5432), hostname || "127.0.0.1");
            socket.setNoDelay(true);
            await once(socket, "connect");
            return socket;
          },
        }
      : {}),
    connection: { application_name: "colink-bench-raw", search_path: schema },
  });
  const close = async () => {
    await sql.end({ timeout: 5 });
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end({ timeout: 5 });
  };
  try {
    for (const m of migrations) await sql.unsafe(m.sql);
  } catch (err) {
    await close();
    throw err;
  }
  return { sql, close };
}

/** Rows of some messages: each a `messages` row and its event. */
export interface MessageBatch {
  messages: MessageRow[];
  events: EventRow[];
}

/**
 * Builds messages the way a Colink send stores them, round-robin over `channels` channels
 * with gap-free seqs, ids shaped like Colink's (a prefix and 20 time-ordered base32
 * characters), and the event carrying the message as Colink's does (its client view).
 */
export class MessageRows {
  private readonly channelIds: string[];
  private readonly authors: string[];
  private readonly lastSeq: number[];
  private readonly text: string;
  private readonly idStem = `M${base32(Date.now(), 10)}`;
  private counter = 0;
  private nextChannel = 0;

  constructor(channels: number, textBytes: number) {
    this.channelIds = Array.from(
      { length: channels },
      (_, i) => `C${base32(Date.now(), 10)}${base32(i, 10)}`,
    );
    this.authors = this.channelIds.map((_, i) => `U${base32(Date.now(), 10)}${base32(i, 10)}`);
    this.lastSeq = new Array<number>(channels).fill(0);
    this.text = "x".repeat(textBytes);
  }

  /** The next `count` messages. */
  next(count: number): MessageBatch {
    const messages: MessageRow[] = new Array(count);
    const events: EventRow[] = new Array(count);
    const now = Date.now();
    const text = this.text;
    for (let i = 0; i < count; i++) {
      const c = this.nextChannel++ % this.channelIds.length;
      const seq = ++this.lastSeq[c]!;
      const id = `${this.idStem}${base32(this.counter++, 10)}`;
      const m: MessageRow = {
        id,
        channel_id: this.channelIds[c]!,
        seq,
        author_id: this.authors[c]!,
        text,
        client_msg_id: `r${this.counter}`,
        created_at: now,
      };
      messages[i] = m;
      events[i] = {
        channel_id: m.channel_id,
        seq,
        type: "message.created",
        data: JSON.stringify({
          message: newMessage({
            id,
            channelId: m.channel_id,
            seq,
            authorId: m.author_id,
            text,
            clientMsgId: m.client_msg_id,
            createdAt: now,
          }),
        }),
        created_at: now,
      };
    }
    return { messages, events };
  }
}

/** Writes a batch as one statement of two multi-row INSERTs, chained as a data-modifying CTE like Colink's commit. */
export async function insertBatch(sql: postgres.Sql, b: MessageBatch): Promise<void> {
  await sql`WITH m AS (INSERT INTO messages ${sql(b.messages, messageColumns)})
    INSERT INTO channel_events ${sql(b.events, eventColumns)}`;
}

export default async function rawPostgres(task: RawPostgresTask): Promise<RawPostgresResult> {
  const { sql, close } = await openRawSchema(task.url, task.connections, task.noDelay !== false);
  try {
    const rowsOf = new MessageRows(task.channels, task.textBytes);
    const batch = () => rowsOf.next(task.batchRows);

    const tsv = (rows: ReadonlyArray<object>, columns: readonly string[]) => {
      // Text format: tab-separated, newline-terminated; the values here hold no tab,
      // newline or backslash, so nothing needs escaping.
      let out = "";
      for (const r of rows as ReadonlyArray<Record<string, unknown>>) {
        out += `${columns.map((c) => String(r[c])).join("\t")}\n`;
      }
      return out;
    };

    const write = async (b: MessageBatch): Promise<void> => {
      if (task.mode === "insert") {
        await insertBatch(sql, b);
      } else if (task.mode === "jsonb") {
        await sql.unsafe(
          `WITH m AS (INSERT INTO messages (id, channel_id, seq, author_id, text, client_msg_id, created_at)
             SELECT r.id, r.channel_id, r.seq, r.author_id, r.text, r.client_msg_id, r.created_at
             FROM jsonb_to_recordset($1::text::jsonb) AS r(id text, channel_id text, seq bigint, author_id text,
               text text, client_msg_id text, created_at bigint))
           INSERT INTO channel_events (channel_id, seq, type, data, created_at)
             SELECT r.channel_id, r.seq, r.type, r.data, r.created_at
             FROM jsonb_to_recordset($2::text::jsonb) AS r(channel_id text, seq bigint, type text, data jsonb,
               created_at bigint)`,
          [
            JSON.stringify(b.messages),
            // data as JSON, not a string holding JSON.
            `[${b.events.map((e) => `{"channel_id":"${e.channel_id}","seq":${e.seq},"type":"${e.type}","data":${e.data},"created_at":${e.created_at}}`).join(",")}]`,
          ],
        );
      } else {
        await sql.begin(async (tx) => {
          for (const [table, columns, rows] of [
            ["messages", messageColumns, b.messages],
            ["channel_events", eventColumns, b.events],
          ] as const) {
            const stream = await tx.unsafe(`COPY ${table} (${columns.join(", ")}) FROM STDIN`).writable();
            await new Promise<void>((resolve, reject) => {
              stream.once("error", reject);
              stream.end(tsv(rows, columns), () => resolve());
            });
          }
        });
      }
    };

    await new Promise((r) => setTimeout(r, Math.max(0, task.startAt - Date.now())));
    let rows = 0;
    let batches = 0;
    let committed = 0;
    let batchMsTotal = 0;
    const start = performance.now();
    const measureFrom = start + task.warmupMs;
    const stopAt = measureFrom + task.durationMs;
    await Promise.all(
      Array.from({ length: task.connections }, async () => {
        while (performance.now() < stopAt) {
          const b = batch();
          const at = performance.now();
          await write(b);
          const now = performance.now();
          committed += task.batchRows;
          if (now >= measureFrom && now < stopAt) {
            rows += task.batchRows;
            batches++;
            batchMsTotal += now - at;
          }
        }
      }),
    );
    const elapsedMs = stopAt - measureFrom;
    const [count] = await sql<Array<{ n: string }>>`SELECT count(*)::text AS n FROM messages`;
    return {
      rows,
      batches,
      elapsedMs,
      committed,
      persisted: Number(count!.n),
      batchMs: batches > 0 ? Math.round((batchMsTotal / batches) * 100) / 100 : 0,
    };
  } finally {
    await close();
  }
}
