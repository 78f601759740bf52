/**
 * Search that survives its primary index: OpenSearch answers while it can; when it fails,
 * Postgres full-text (which the indexer keeps as well) answers, marked `degraded`, so
 * people can still search during an outage. Writes go to the primary only: each index has
 * its own log follower.
 */
import type { Logger } from "../../core/logger.js";
import type { SearchIndex, SearchRequest, SearchResult, UserSearchResult } from "../../core/ports.js";

/** A SearchIndex whose searches fall back from `primary` to `fallback`. */
export class FailoverSearch implements SearchIndex {
  private failing = false;

  constructor(
    private readonly primary: SearchIndex,
    private readonly fallback: Pick<SearchIndex, "search" | "searchUsers">,
    private readonly logger: Logger,
  ) {}

  /** The last search failed over to Postgres. */
  get degraded(): boolean {
    return this.failing;
  }

  index: SearchIndex["index"] = (docs) => this.primary.index(docs);
  remove: SearchIndex["remove"] = (ids) => this.primary.remove(ids);

  indexUsers: SearchIndex["indexUsers"] = (users) => this.primary.indexUsers(users);

  async search(req: SearchRequest): Promise<SearchResult> {
    return this.answer((index) => index.search(req));
  }

  async searchUsers(query: string, limit: number): Promise<UserSearchResult> {
    return this.answer((index) => index.searchUsers(query, limit));
  }

  private async answer<T extends { degraded?: boolean }>(
    ask: (index: Pick<SearchIndex, "search" | "searchUsers">) => Promise<T>,
  ): Promise<T> {
    try {
      const result = await ask(this.primary);
      if (this.failing) this.logger.info({}, "search index answers again");
      this.failing = false;
      return result;
    } catch (err) {
      if (!this.failing) this.logger.warn({ err }, "search index failed; answering from Postgres full-text");
      this.failing = true;
      return { ...(await ask(this.fallback)), degraded: true };
    }
  }
}
