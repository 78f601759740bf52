/**
 * Search that survives its primary index: OpenSearch answers while it can; when it fails,
 * Postgres full-text (which the indexer keeps as well) answers, marked `degraded`, so
 * people can still search during an outage. Writes go to the primary only: each index has
 * its own log follower.
 */
import type { Logger } from "../../core/logger.js";
import type { SearchIndex, SearchRequest, SearchResult } from "../../core/ports.js";

/** A SearchIndex whose searches fall back from `primary` to `fallback`. */
export class FailoverSearch implements SearchIndex {
  private failing = false;

  constructor(
    private readonly primary: SearchIndex,
    private readonly fallback: Pick<SearchIndex, "search">,
    private readonly logger: Logger,
  ) {}

  index: SearchIndex["index"] = (docs) => this.primary.index(docs);
  remove: SearchIndex["remove"] = (ids) => this.primary.remove(ids);

  async search(req: SearchRequest): Promise<SearchResult> {
    try {
      const result = await this.primary.search(req);
      if (this.failing) this.logger.info({}, "search index answers again");
      this.failing = false;
      return result;
    } catch (err) {
      if (!this.failing) this.logger.warn({ err }, "search index failed; answering from Postgres full-text");
      this.failing = true;
      return { ...(await this.fallback.search(req)), degraded: true };
    }
  }
}
