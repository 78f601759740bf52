/**
 * Postgres full-text search: the `SearchIndex` port over the `search_messages` table
 * (a tsvector of English stems and exact words, with a GIN index). Queries use `websearch_to_tsquery`, rank with
 * `ts_rank` and cut snippets with `ts_headline`, whose marks come back as ranges.
 */
import type { SearchDocument, SearchIndex, SearchRequest, SearchResult } from "../../core/ports.js";
import { fullTextOf } from "../../core/search-query.js";
import type { SqlQuery } from "./sql-driver.js";

/** ts_headline's marks: characters a stored text never holds (the indexer removes them). */
const markStart = "\u0001";
const markEnd = "\u0002";
/** Texts up to this long are their own snippet; longer ones give up to two excerpts around the matches. */
const wholeTextChars = 400;

/** The snippet without its marks, and where the marks were. */
export function marksOf(marked: string): { snippet: string; marks: Array<[number, number]> } {
  const marks: Array<[number, number]> = [];
  let snippet = "";
  let open = -1;
  for (const ch of marked) {
    if (ch === markStart) open = snippet.length;
    else if (ch === markEnd) {
      if (open >= 0 && snippet.length > open) marks.push([open, snippet.length]);
      open = -1;
    } else snippet += ch;
  }
  return { snippet, marks };
}

interface HitRow {
  message_id: string;
  channel_id: string;
  seq: number;
  author_id: string;
  created_at: number;
  thread_root_id: string | null;
  marked: string;
}

/** The `SearchIndex` port's messages over one SQL connection (or pool); its people are the users table. */
export class SqlSearch implements Pick<SearchIndex, "index" | "remove" | "search"> {
  constructor(private readonly db: SqlQuery) {}

  async index(docs: SearchDocument[]): Promise<void> {
    if (docs.length === 0) return;
    await this.db.query(
      `INSERT INTO search_messages (message_id, channel_id, seq, author_id, text, created_at, thread_root_id,
                                    in_thread, has_link, has_reaction, version)
       SELECT d."messageId", d."channelId", d.seq, d."authorId", d.text, d."createdAt", d."threadRootId",
              d."inThread", d."hasLink", d."hasReaction", d.version
       FROM jsonb_to_recordset($1::text::jsonb) AS d("messageId" text, "channelId" text, seq bigint,
            "authorId" text, text text, "createdAt" bigint, "threadRootId" text, "inThread" boolean,
            "hasLink" boolean, "hasReaction" boolean, version bigint)
       ON CONFLICT (message_id) DO UPDATE SET
         text = excluded.text, thread_root_id = excluded.thread_root_id, in_thread = excluded.in_thread,
         has_link = excluded.has_link, has_reaction = excluded.has_reaction, version = excluded.version
       WHERE search_messages.version < excluded.version`,
      [JSON.stringify(docs)],
    );
  }

  async remove(messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await this.db.query(
      `DELETE FROM search_messages
       WHERE message_id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::text::jsonb)))`,
      [JSON.stringify(messageIds)],
    );
  }

  async search(req: SearchRequest): Promise<SearchResult> {
    if (req.channelIds.length === 0) return { hits: [], hasMore: false };
    const text = fullTextOf(req);
    const order =
      req.sort === "relevance" && text !== ""
        ? "ts_rank(s.vector, q.tq) DESC, s.created_at DESC, s.message_id DESC"
        : "s.created_at DESC, s.message_id DESC";
    const rows = await this.db.query<HitRow>(
      `WITH q AS (SELECT CASE WHEN $1 = '' THEN NULL ELSE websearch_to_tsquery('english', $1) END AS tq)
       SELECT s.message_id, s.channel_id, s.seq::float8 AS seq, s.author_id, s.created_at::float8 AS created_at,
              s.thread_root_id,
              CASE WHEN q.tq IS NULL THEN s.text
                   WHEN length(s.text) <= ${wholeTextChars}
                     THEN ts_headline('english', s.text, q.tq, 'StartSel=${markStart}, StopSel=${markEnd}, HighlightAll=true')
                   ELSE ts_headline('english', s.text, q.tq,
                     'StartSel=${markStart}, StopSel=${markEnd}, MaxWords=40, MinWords=20, MaxFragments=2, FragmentDelimiter=" … "')
              END AS marked
       FROM search_messages s, q
       WHERE s.channel_id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::text::jsonb)))
         AND (q.tq IS NULL OR s.vector @@ q.tq)
         AND ($3::text IS NULL OR s.author_id = ANY (ARRAY(SELECT jsonb_array_elements_text($3::text::jsonb))))
         AND ($4::bigint IS NULL OR s.created_at >= $4::bigint)
         AND ($5::bigint IS NULL OR s.created_at < $5::bigint)
         AND (NOT $6::boolean OR s.has_link)
         AND (NOT $7::boolean OR s.has_reaction)
         AND (NOT $8::boolean OR s.in_thread)
       ORDER BY ${order}
       LIMIT $9 OFFSET $10`,
      [
        text,
        JSON.stringify(req.channelIds),
        req.authorIds === null ? null : JSON.stringify(req.authorIds),
        req.since,
        req.until,
        req.hasLink,
        req.hasReaction,
        req.isThread,
        req.limit + 1,
        req.offset,
      ],
    );
    const hits = rows.slice(0, req.limit).map((r) => ({
      messageId: r.message_id,
      channelId: r.channel_id,
      seq: Number(r.seq),
      authorId: r.author_id,
      createdAt: Number(r.created_at),
      threadRootId: r.thread_root_id,
      ...marksOf(r.marked),
    }));
    return { hits, hasMore: rows.length > req.limit };
  }
}
