/**
 * The `search` op, handled by the caller's user actor: parse the query, decide which
 * channels the caller may read (their channels of any kind, archived ones included, and
 * public channels unless they are a guest; a channel they left is not theirs any more),
 * narrow them by `in:` and `channelId`, resolve `from:` usernames, then ask the index.
 * Access is decided here, before the index is asked, so a hit in a channel the caller
 * cannot read never exists, not even in a count.
 */
import type { ArgsOf, ResultOf } from "../../core/ops.js";
import type { Directory, SearchIndex } from "../../core/ports.js";
import { parseSearchQuery } from "../../core/search-query.js";
import type { Principal } from "../../core/types.js";

/** Hits per page unless asked. */
const defaultLimit = 20;
/** How deep the pages go: cursors are offsets. */
const maxOffset = 1000;

/** Runs `search` for `caller`. */
export async function searchMessages(
  ports: { directory: Directory; search: SearchIndex },
  caller: Principal,
  args: ArgsOf<"search">,
): Promise<ResultOf<"search">> {
  const query = parseSearchQuery(args.q);
  const listed = await ports.directory.listChannels(caller.userId, {
    includePublic: caller.role !== "guest",
    includeArchived: true,
  });
  const named = new Set(query.in.map((n) => n.toLowerCase()));
  const channelIds = listed
    .filter((c) => c.myRole !== null || c.kind === "public")
    .filter((c) => named.size === 0 || named.has(c.name) || named.has(c.id.toLowerCase()))
    .filter((c) => args.channelId === undefined || c.id === args.channelId)
    .map((c) => c.id);
  let authorIds: string[] | null = null;
  if (query.from.length > 0) {
    authorIds = (await ports.directory.getUsersByUsername(query.from)).map((u) => u.id);
  }
  const offset = Math.min(Number(args.cursor ?? 0), maxOffset);
  const limit = args.limit ?? defaultLimit;
  if (channelIds.length === 0 || authorIds?.length === 0) return { hits: [], nextCursor: null };
  const { hits, hasMore, degraded } = await ports.search.search({
    words: query.words,
    phrases: query.phrases,
    excluded: query.excluded,
    channelIds,
    authorIds,
    since: query.since,
    until: query.until,
    hasLink: query.hasLink,
    hasReaction: query.hasReaction,
    isThread: query.isThread,
    sort: args.sort ?? "recent",
    limit,
    offset,
  });
  const next = offset + hits.length;
  const nextCursor = hasMore && next < maxOffset ? String(next) : null;
  return degraded ? { hits, nextCursor, degraded } : { hits, nextCursor };
}
