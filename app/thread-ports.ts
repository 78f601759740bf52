/**
 * What each actor thread opens (the main thread at W = 0, each worker otherwise): its
 * store, and, when configured, the OpenSearch index and the Kafka stream. Those two may be
 * down when the server starts: they are opened on first use and again after a failed
 * open, so the server starts anyway and they join when they come up (searches answer from
 * Postgres meanwhile; the relay's position waits).
 */
import type { HostPorts } from "../actors/runtime/actor-host.js";
import { openKafkaStream } from "../adapters/kafka/kafka-stream.js";
import { OpenSearchIndex } from "../adapters/opensearch/opensearch-index.js";
import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import type { EventStream, SearchIndex, Store } from "../core/ports.js";
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

/** Opens the thread's store (migrated), and the configured index and stream lazily. */
export async function openThreadPorts(
  config: Config,
  logger: Logger,
  opts: { store?: Store; maxConnections?: number; thread: string },
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
  return {
    store,
    ...(index
      ? {
          searchIndex: {
            index: async (docs) => (await index.get()).index(docs),
            remove: async (ids) => (await index.get()).remove(ids),
            search: async (req) => (await index.get()).search(req),
          } satisfies SearchIndex,
        }
      : {}),
    ...(stream
      ? {
          stream: {
            publish: async (records) => (await stream.get()).publish(records),
            close: () => stream.close(),
          } satisfies EventStream,
        }
      : {}),
    async closeExtras() {
      await Promise.all([index?.close(), stream?.close()]);
    },
  };
}
