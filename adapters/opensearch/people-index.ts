/**
 * The people half of the OpenSearch search adapter: an index of users (`<prefix>-users`,
 * behind its alias as the messages' index is) that matches as the users table does on
 * Postgres: each word of a query starts the username or a word of the display name, case
 * folded, wildcard characters taken literally; deactivated users are kept but never found.
 * Each document is the whole user (the answer needs no second read) at the version of the
 * user-event outbox entry that carried it.
 */
import type { Client, Types } from "@opensearch-project/opensearch";
import type { IndexedUser, UserSearchResult } from "../../core/ports.js";
import { maxUserSearchWords } from "../../core/search-query.js";
import type { User } from "../../core/types.js";
import { type BulkItem, reachable, throwBulkErrors } from "./opensearch-calls.js";

/** The people index's settings: one shard; the matching is by keyword patterns, no analysis. */
export const peopleSettings: Types.Indices_Common.IndexSettings = {
  number_of_shards: 1,
  auto_expand_replicas: "0-1",
};

/** The people index's mappings: what the query reads, and the user as stored (not indexed). */
export const peopleMappings = {
  dynamic: "strict",
  properties: {
    id: { type: "keyword" },
    username: { type: "keyword" },
    displayName: { type: "keyword" },
    deactivated: { type: "boolean" },
    user: { type: "object", enabled: false },
  },
} satisfies Types.Common_Mapping.TypeMapping;

/** A people document as stored. */
interface PersonDocument {
  id: string;
  username: string;
  displayName: string;
  deactivated: boolean;
  user: User;
}

/** `word` for a wildcard pattern: its `*`, `?` and `\` as themselves. */
function literal(word: string): string {
  return word.replace(/[\\*?]/g, "\\$&");
}

/** Writes people, each unless the index holds a newer version of them. */
export async function indexPeople(client: Client, alias: string, users: IndexedUser[]): Promise<void> {
  if (users.length === 0) return;
  const body = users.flatMap(({ user, version }) => [
    { index: { _index: alias, _id: user.id, version, version_type: "external" } },
    {
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      deactivated: user.deactivated,
      user,
    } satisfies PersonDocument,
  ]);
  const { body: res } = await reachable(client.bulk({ body, refresh: "true" }));
  // An older version than the one held is not written, by design.
  throwBulkErrors(
    res.items as Array<Record<string, BulkItem>>,
    (item) => item.error?.type === "version_conflict_engine_exception",
  );
}

/** Active people matched by every word of `query`: an exact username first, then by username. */
export async function searchPeople(
  client: Client,
  alias: string,
  query: string,
  limit: number,
): Promise<UserSearchResult> {
  const words = query.split(/\s+/).filter(Boolean).slice(0, maxUserSearchWords);
  if (limit <= 0 || words.length === 0) return { users: [] };
  const pattern = (field: string, value: string) => ({
    wildcard: { [field]: { value, case_insensitive: true } },
  });
  const must = words.map((word) => ({
    bool: {
      should: [
        pattern("username", `${literal(word)}*`),
        pattern("displayName", `${literal(word)}*`),
        pattern("displayName", `* ${literal(word)}*`),
      ],
      minimum_should_match: 1,
    },
  }));
  const { body: res } = await reachable(
    client.search({
      index: alias,
      body: {
        query: {
          bool: {
            filter: [...must, { term: { deactivated: false } }],
            // Scores only the exact username, which sorts first.
            should: [{ term: { username: { value: query.trim(), case_insensitive: true } } }],
          },
        },
        sort: ["_score", { username: "asc" }, { id: "asc" }],
        size: Math.floor(limit),
        track_total_hits: false,
      },
    }),
  );
  const hits = res.hits.hits as Array<{ _source?: PersonDocument }>;
  return { users: hits.map((hit) => hit._source!.user) };
}
