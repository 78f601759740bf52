/**
 * OpenSearch full-text search: the `SearchIndex` port over an index of OpenSearch 2.x,
 * with the same matching as the Postgres adapter so both give the same hits.
 *
 * Names: the index `<prefix>-messages-v1` is reached only through the alias
 * `<prefix>-messages`, so a rebuilt index (v2, other mappings) can take the alias over
 * without downtime; opening uses whatever index the alias names.
 *
 * Matching, as Postgres's `to_tsvector('english', text) || to_tsvector('simple', text)`
 * against `websearch_to_tsquery('english', q)`: a message's text is indexed as each word
 * lowercased as typed AND its English (Snowball) stem, at the same position (keyword_repeat),
 * and the query's words are stemmed with Postgres's English stop words dropped. So
 * `running` finds `run`, a code-like token such as `npm` matches as typed, phrases match
 * word for word, and a query whose words are all stop words finds nothing. One field holds
 * both forms (rather than a stemmed field and an exact sub-field) so that every word of a
 * query must match in either form, phrases see one position per word, and one highlight
 * marks both.
 *
 * Writes carry the document's version as an external version: OpenSearch refuses an older
 * one (a 409 for that document alone), and refreshes before answering, so the next search
 * sees the write.
 */
import { Client, type Types } from "@opensearch-project/opensearch";
import type {
  IndexedUser,
  SearchDocument,
  SearchIndex,
  SearchRequest,
  SearchResult,
  UserSearchResult,
} from "../../core/ports.js";
import type { SearchHit } from "../../core/types.js";
import { marksOf } from "../sql/search-queries.js";
import { type BulkItem, ensureAliasedIndex, reachable, throwBulkErrors } from "./opensearch-calls.js";
import { indexPeople, peopleMappings, peopleSettings, searchPeople } from "./people-index.js";

/** The version of the index layout: a layout change makes `<prefix>-messages-v2` and moves the alias. */
export const indexLayoutVersion = 1;

/** Highlight marks: characters a stored text never holds (the indexer removes them), the ones `marksOf` reads. */
const markStart = "\u0001";
const markEnd = "\u0002";
/** Texts up to this long are their own snippet; longer ones give up to two excerpts around the matches. */
const wholeTextChars = 400;
/** An excerpt's length in words, and how many of them come before its first match (ts_headline's MaxWords). */
const excerptWords = 40;
const wordsBeforeMatch = 10;
const excerptJoin = " … ";

/**
 * Postgres's English stop words (its `english.stop`, Snowball's list), so that the same
 * words are ignored in a query as with the Postgres adapter.
 */
const postgresEnglishStopWords = (
  "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers " +
  "herself it its itself they them their theirs themselves what which who whom this that these those am is are " +
  "was were be been being have has had having do does did doing a an the and but if or because as until while " +
  "of at by for with about against between into through during before after above below to from up down in out " +
  "on off over under again further then once here there when where why how all any both each few more most " +
  "other some such no nor not only own same so than too very s t can will just don should now"
).split(" ");

/** The index's settings: the analysis of chat text. */
export const indexSettings: Types.Indices_Common.IndexSettings = {
  number_of_shards: 1,
  // One replica once a second node joins; none on a single node (which stays green).
  auto_expand_replicas: "0-1",
  analysis: {
    char_filter: {
      // Where Postgres's parser splits words and the standard tokenizer does not: at
      // apostrophes ("don't" is "don" "t", both stop words) and underscores ("snake_case" is
      // "snake" "case", so `snake` finds it and `snake_case` is the phrase of both).
      word_breaks: { type: "mapping", mappings: ["'=>\\u0020", "\u2019=>\\u0020", "_=>\\u0020"] },
    },
    filter: {
      postgres_english_stop: { type: "stop", stopwords: postgresEnglishStopWords },
      english_snowball: { type: "snowball", language: "English" },
    },
    analyzer: {
      // Each word as typed (lowercased) and its stem, at one position; stop words kept, as the
      // simple half of the Postgres vector keeps them.
      chat_text: {
        type: "custom",
        char_filter: ["word_breaks"],
        tokenizer: "standard",
        filter: ["lowercase", "keyword_repeat", "english_snowball", "remove_duplicates"],
      },
      // A query's words: stems only, stop words dropped (their positions kept, for phrases).
      chat_query: {
        type: "custom",
        char_filter: ["word_breaks"],
        tokenizer: "standard",
        filter: ["lowercase", "postgres_english_stop", "english_snowball"],
      },
    },
  },
};

/** The index's mappings: the document's fields, no others. */
export const indexMappings = {
  dynamic: "strict",
  properties: {
    messageId: { type: "keyword" },
    channelId: { type: "keyword" },
    seq: { type: "long" },
    authorId: { type: "keyword" },
    // Offsets in the postings: highlighting reads them instead of analysing the text again.
    text: { type: "text", analyzer: "chat_text", search_analyzer: "chat_query", index_options: "offsets" },
    createdAt: { type: "long" },
    threadRootId: { type: "keyword" },
    inThread: { type: "boolean" },
    hasLink: { type: "boolean" },
    hasReaction: { type: "boolean" },
  },
} satisfies Types.Common_Mapping.TypeMapping;

/** A document as stored: the port's document without its version, which is OpenSearch's own. */
type StoredDocument = Omit<SearchDocument, "version">;

/** One hit of a search response. */
interface SearchResponseHit {
  _id: string;
  _source?: StoredDocument;
  highlight?: Record<string, string[]>;
}

type Query = Record<string, unknown>;

/** A phrase (or one word, which may analyse into several tokens) of the query, over the text. */
function phraseQuery(text: string, ifOnlyStopWords: "all" | "none"): Query {
  return { match_phrase: { text: { query: text, zero_terms_query: ifOnlyStopWords } } };
}

/**
 * The full-text part of a search, or null when it has none. Every word and phrase must
 * match (one that is only stop words is ignored), no excluded one may. As with
 * `websearch_to_tsquery`, a query left with no word at all once stop words are gone finds
 * nothing: `anyTerm` fails for every document when no term is left (zero_terms_query none),
 * and its negation, with zero_terms_query all, too; with a term left, one or the other holds.
 */
function fullTextQuery(req: SearchRequest): { must: Query[]; mustNot: Query[]; filter: Query } | null {
  const all = [...req.words, ...req.phrases, ...req.excluded];
  if (all.length === 0) return null;
  const joined = all.join(" ");
  const anyTerm = (ifOnlyStopWords: "all" | "none"): Query => ({
    match: { text: { query: joined, operator: "or", zero_terms_query: ifOnlyStopWords } },
  });
  return {
    must: [...req.words, ...req.phrases].map((w) => phraseQuery(w, "all")),
    mustNot: req.excluded.map((w) => phraseQuery(w, "none")),
    filter: {
      bool: { should: [anyTerm("none"), { bool: { must_not: [anyTerm("all")] } }], minimum_should_match: 1 },
    },
  };
}

/** The filters of a search: channels, authors, time, link, reaction, thread. */
function filtersOf(req: SearchRequest): Query[] {
  const filters: Query[] = [{ terms: { channelId: req.channelIds } }];
  if (req.authorIds !== null) filters.push({ terms: { authorId: req.authorIds } });
  if (req.since !== null || req.until !== null) {
    filters.push({
      range: {
        createdAt: {
          ...(req.since !== null && { gte: req.since }),
          ...(req.until !== null && { lt: req.until }),
        },
      },
    });
  }
  if (req.hasLink) filters.push({ term: { hasLink: true } });
  if (req.hasReaction) filters.push({ term: { hasReaction: true } });
  if (req.isThread) filters.push({ term: { inThread: true } });
  return filters;
}

/**
 * The snippet of a long text: up to two excerpts of `excerptWords` words, each starting a
 * few words before a match not in an earlier excerpt (the first words when nothing
 * matched), joined by " … ", with the marks moved along.
 */
export function excerptsOf(text: string, marks: SearchHit["marks"]): Pick<SearchHit, "snippet" | "marks"> {
  const words = [...text.matchAll(/\S+/g)].map((m) => [m.index, m.index + m[0].length] as const);
  if (words.length === 0) return { snippet: "", marks: [] };
  const wordAt = (offset: number) => {
    const i = words.findIndex(([, end]) => end > offset);
    return i < 0 ? words.length - 1 : i;
  };
  const spans: Array<[number, number]> = [];
  for (const [start] of marks) {
    if (spans.length === 2) break;
    const w = wordAt(start);
    if (spans.some(([a, b]) => w >= a && w < b)) continue;
    const end = Math.min(words.length, Math.max(0, w - wordsBeforeMatch) + excerptWords);
    const first = Math.max(spans.at(-1)?.[1] ?? 0, end - excerptWords);
    spans.push([first, end]);
  }
  if (spans.length === 0) spans.push([0, Math.min(words.length, excerptWords)]);
  // Excerpts that touch are one.
  if (spans.length === 2 && spans[0]![1] === spans[1]![0]) spans.splice(0, 2, [spans[0]![0], spans[1]![1]]);
  let snippet = "";
  const moved: SearchHit["marks"] = [];
  for (const [a, b] of spans) {
    if (snippet !== "") snippet += excerptJoin;
    const from = words[a]![0];
    const to = words[b - 1]![1];
    for (const [s, e] of marks)
      if (s >= from && e <= to) moved.push([s - from + snippet.length, e - from + snippet.length]);
    snippet += text.slice(from, to);
  }
  return { snippet, marks: moved };
}

/** The snippet and marks of a hit, from its text and its highlighted text (whole, with marks). */
function snippetOf(
  text: string,
  highlighted: string | undefined,
  hasFullText: boolean,
): Pick<SearchHit, "snippet" | "marks"> {
  // Without words to look for, the snippet is the text, as on Postgres.
  if (!hasFullText) return { snippet: text, marks: [] };
  const marked = highlighted === undefined ? { snippet: text, marks: [] } : marksOf(highlighted);
  return marked.snippet.length <= wholeTextChars ? marked : excerptsOf(marked.snippet, marked.marks);
}

/** Connection and index names of an OpenSearch search index. */
export interface OpenSearchIndexOptions {
  /** The cluster, e.g. `http://127.0.0.1:9200`. */
  url: string;
  /** What the index and alias names start with: `<prefix>-messages` (alias), `<prefix>-messages-v1`. */
  prefix: string;
}

/** The `SearchIndex` port over an OpenSearch index, reached through its alias. */
export class OpenSearchIndex implements SearchIndex {
  private constructor(
    private readonly client: Client,
    /** The alias every read and write of messages goes through. */
    readonly alias: string,
    /** The alias of the people index. */
    readonly usersAlias: string,
  ) {}

  /** Connects, and creates each versioned index and its alias unless the alias exists. */
  static async open(opts: OpenSearchIndexOptions): Promise<OpenSearchIndex> {
    const client = new Client({ node: opts.url });
    const alias = `${opts.prefix}-messages`;
    const usersAlias = `${opts.prefix}-users`;
    try {
      await reachable(
        Promise.all([
          ensureAliasedIndex(client, alias, `${alias}-v${indexLayoutVersion}`, {
            settings: indexSettings,
            mappings: indexMappings,
          }),
          ensureAliasedIndex(client, usersAlias, `${usersAlias}-v${indexLayoutVersion}`, {
            settings: peopleSettings,
            mappings: peopleMappings,
          }),
        ]),
      );
    } catch (err) {
      await client.close();
      throw err;
    }
    return new OpenSearchIndex(client, alias, usersAlias);
  }

  indexUsers(users: IndexedUser[]): Promise<void> {
    return indexPeople(this.client, this.usersAlias, users);
  }

  searchUsers(query: string, limit: number): Promise<UserSearchResult> {
    return searchPeople(this.client, this.usersAlias, query, limit);
  }

  async index(docs: SearchDocument[]): Promise<void> {
    if (docs.length === 0) return;
    const body = docs.flatMap(({ version, ...doc }) => [
      { index: { _index: this.alias, _id: doc.messageId, version, version_type: "external" } },
      doc satisfies StoredDocument,
    ]);
    const { body: res } = await reachable(this.client.bulk({ body, refresh: "true" }));
    // A version conflict is an older (or the same) version of a document held: not written, by design.
    throwBulkErrors(
      res.items as Array<Record<string, BulkItem>>,
      (item) => item.error?.type === "version_conflict_engine_exception",
    );
  }

  async remove(messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    const body = messageIds.map((id) => ({ delete: { _index: this.alias, _id: id } }));
    const { body: res } = await reachable(this.client.bulk({ body, refresh: "true" }));
    // Removing a document the index does not hold is a not_found result, not an error.
    throwBulkErrors(res.items as Array<Record<string, BulkItem>>, () => false);
  }

  async search(req: SearchRequest): Promise<SearchResult> {
    if (req.channelIds.length === 0 || req.authorIds?.length === 0) return { hits: [], hasMore: false };
    const text = fullTextQuery(req);
    const recent = [{ createdAt: "desc" }, { messageId: "desc" }];
    const body: Record<string, unknown> = {
      query: {
        bool: {
          must: text?.must ?? [],
          must_not: text?.mustNot ?? [],
          filter: [...filtersOf(req), ...(text ? [text.filter] : [])],
        },
      },
      sort: req.sort === "relevance" && text ? ["_score", ...recent] : recent,
      from: req.offset,
      size: req.limit + 1,
      track_total_hits: false,
      _source: Object.keys(indexMappings.properties),
    };
    const highlightQueries = text?.must ?? [];
    if (highlightQueries.length > 0) {
      body.highlight = {
        pre_tags: [markStart],
        post_tags: [markEnd],
        // Whole texts: the excerpts of long ones are cut here, per text (see excerptsOf).
        fields: { text: { type: "unified", number_of_fragments: 0 } },
        highlight_query: { bool: { should: highlightQueries } },
      };
    }
    const { body: res } = await reachable(this.client.search({ index: this.alias, body }));
    const found = res.hits.hits as SearchResponseHit[];
    const hits = found.slice(0, req.limit).map((hit): SearchHit => {
      const doc = hit._source!;
      return {
        messageId: doc.messageId,
        channelId: doc.channelId,
        seq: doc.seq,
        authorId: doc.authorId,
        createdAt: doc.createdAt,
        threadRootId: doc.threadRootId,
        ...snippetOf(doc.text, hit.highlight?.text?.[0], text !== null),
      };
    });
    return { hits, hasMore: found.length > req.limit };
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.client.close();
  }
}
