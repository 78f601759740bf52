/**
 * What both OpenSearch indices (messages, people) share: opening an index behind its alias,
 * telling an unreachable cluster from a refused request, and reading bulk answers.
 */
import { type Client, errors, type Types } from "@opensearch-project/opensearch";
import { fail } from "../../core/errors.js";

/** One entry of a bulk response. */
export interface BulkItem {
  _id?: string;
  status: number;
  error?: { type?: string; reason?: string | null };
}

/** Throws for the failed entries of a bulk response, except those `tolerated`. */
export function throwBulkErrors(
  items: Array<Record<string, BulkItem>>,
  tolerated: (item: BulkItem) => boolean,
): void {
  const failed = items
    .map((entry) => Object.values(entry)[0]!)
    .filter((item) => item.error && !tolerated(item));
  if (failed.length > 0) {
    const first = failed[0]!;
    throw new Error(
      `OpenSearch refused ${failed.length} of ${items.length} writes; first: ${first._id} ${first.status} ` +
        `${first.error?.type}: ${first.error?.reason}`,
    );
  }
}

/**
 * Makes sure `alias` names an index: creates `index` (with `settings` and `mappings`) and
 * points the alias at it unless the alias exists, then waits until its shard can answer.
 */
export async function ensureAliasedIndex(
  client: Client,
  alias: string,
  index: string,
  body: { settings: Types.Indices_Common.IndexSettings; mappings: Types.Common_Mapping.TypeMapping },
): Promise<void> {
  const { body: aliasExists } = await client.indices.existsAlias({ name: alias });
  if (!aliasExists) {
    try {
      await client.indices.create({
        index,
        body: { ...body, aliases: { [alias]: { is_write_index: true } } },
      });
    } catch (err) {
      // Created meanwhile by another node, or left without its alias: (re)point the alias.
      if (errorType(err) !== "resource_already_exists_exception") throw err;
      await client.indices.putAlias({ index, name: alias, body: { is_write_index: true } });
    }
  }
  // A search of a new index whose shards are not allocated yet fails: wait until they are.
  await client.cluster.health({ index: alias, wait_for_status: "yellow", timeout: "30s" });
}

/** HTTP statuses by which a cluster says it cannot answer now (overloaded, no master, restarting). */
const busyStatuses = new Set([429, 502, 503, 504]);

/**
 * Resolves as `call` does, but an OpenSearch that cannot be reached or cannot answer now
 * rejects with the retryable ColinkError `unavailable` (the cause attached), as an
 * unreachable database does; any other error passes as it is.
 */
export async function reachable<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    const down =
      err instanceof errors.ConnectionError ||
      err instanceof errors.TimeoutError ||
      err instanceof errors.NoLivingConnectionsError ||
      (err instanceof errors.ResponseError && busyStatuses.has(err.statusCode ?? 0));
    if (!down) throw err;
    const e = fail.unavailable("search index unavailable");
    e.cause = err;
    throw e;
  }
}

/** The `error.type` of an OpenSearch error response, if `err` is one. */
function errorType(err: unknown): string | undefined {
  const body = (err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body;
  return body?.error?.type;
}
