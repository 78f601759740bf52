/**
 * What each actor thread opens (the main thread at W = 0, each worker otherwise): its
 * store, the files' ports (app/file-ports.ts), and, when configured, the OpenSearch index and the Kafka stream. Those two may be
 * down when the server starts: they are opened on first use and again after a failed
 * open, so the server starts anyway and they join when they come up (searches answer from
 * Postgres meanwhile; the relay's position waits).
 */
import type { HostPorts, StreamFedIndex } from "../actors/runtime/actor-host.js";
import { searchFeedTopics } from "../actors/runtime/search-indexer.js";
import { openKafkaStream } from "../adapters/kafka/kafka-stream.js";
import { openKafkaStreamConsumer } from "../adapters/kafka/kafka-stream-consumer.js";
import { OpenSearchIndex } from "../adapters/opensearch/opensearch-index.js";
import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import type { EventStream, SearchIndex, Store } from "../core/ports.js";
import { openBlobStore, openFileScanning } from "./file-ports.js";
import { openConfiguredStore } from "./stores.js";

/** A port opened on first use, and opened again on the next use after its open failed. */
class OpenedOnUse<T extends { close(): Promise<void> }> {
  private opening: Promise<T> | null = null;

  constructor(private readonly open: () => Promise<T>) {}

  get(): Promise<T> {
    this.opening ??= this.open().catch((err: unknown) => {
      this.opening = null;
      throw err;
    });
    return this.opening;
  }

  async close(): Promise<void> {
    const opened = this.opening;
    this.opening = null;
    // An open that failed has nothing to close (its failure was reported to whoever used it).
    if (opened) await (await opened.catch(() => null))?.close();
  }
}

/** The consumer group that feeds the search index from the event stream: one per index prefix, every node in it. */
export function searchFeedGroupOf(config: Pick<Config, "searchIndexPrefix">): string {
  return `${config.searchIndexPrefix}-search-indexer`;
}

/**
 * Opens the thread's store (migrated), and the configured index and stream lazily. With
 * COLINK_SEARCH_FEED=kafka, the thread that `runsSearchFeed` (one per node) also gets the
 * node's consumer in the search indexer's group.
 */
export async function openThreadPorts(
  config: Config,
  logger: Logger,
  opts: { store?: Store; maxConnections?: number; thread: string; runsSearchFeed: boolean },
): Promise<HostPorts> {
  const store =
    opts.store ??
    (await openConfiguredStore(
      config,
      opts.maxConnections === undefined ? {} : { maxConnections: opts.maxConnections },
    ));
  const { opensearchUrl, kafkaBrokers } = config;
  const index = opensearchUrl
    ? new OpenedOnUse(() => OpenSearchIndex.open({ url: opensearchUrl, prefix: config.searchIndexPrefix }))
    : null;
  const stream = kafkaBrokers
    ? new OpenedOnUse(() =>
        openKafkaStream({
          brokers: kafkaBrokers,
          clientId: `colink-${config.nodeId}-${opts.thread}`.replace(/[^\w.-]/g, "_"),
          logger: logger.child({ module: "kafka" }),
        }),
      )
    : null;
  const streamFedIndex: StreamFedIndex | null =
    config.searchFeed === "kafka" && kafkaBrokers
      ? {
          consumer: opts.runsSearchFeed
            ? openKafkaStreamConsumer({
                brokers: kafkaBrokers,
                clientId: `colink-${config.nodeId}-search`.replace(/[^\w.-]/g, "_"),
                groupId: searchFeedGroupOf(config),
                topics: searchFeedTopics,
                logger: logger.child({ module: "search", index: "external", feed: "kafka" }),
              })
            : null,
        }
      : null;
  const blobs = await openBlobStore(config.files);
  const scanning = openFileScanning(config.files, logger.child({ module: "clamav" }));
  return {
    store,
    files: { blobs, policy: config.files.policy, scanning },
    ...(index
      ? {
          searchIndex: {
            index: async (docs) => (await index.get()).index(docs),
            remove: async (ids) => (await index.get()).remove(ids),
            search: async (req) => (await index.get()).search(req),
            indexUsers: async (users) => (await index.get()).indexUsers(users),
            searchUsers: async (q, limit) => (await index.get()).searchUsers(q, limit),
          } satisfies SearchIndex,
        }
      : {}),
    ...(streamFedIndex ? { streamFedIndex } : {}),
    ...(stream
      ? {
          stream: {
            publish: async (records) => (await stream.get()).publish(records),
            close: () => stream.close(),
          } satisfies EventStream,
        }
      : {}),
    async closeExtras() {
      await Promise.all([
        index?.close(),
        stream?.close(),
        streamFedIndex?.consumer?.close(),
        blobs.close(),
        scanning?.scanner.close(),
        scanning?.thumbnails.close(),
      ]);
    },
  };
}
