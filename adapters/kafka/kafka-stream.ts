/**
 * The event stream port over Kafka (kafkajs): the channel logs' relay (the "stream" log
 * follower) publishes each run of a channel's events here (docs/events.md).
 *
 * One idempotent producer with one request in flight and acks from all in-sync replicas,
 * so a resolved publish is durable and a channel's records (one key, one partition) are
 * written in order without gaps or duplicates from kafkajs' own retries. Those retries are
 * bounded, so that while Kafka is unreachable a publish rejects within seconds and the
 * follower, whose position has not moved, sends the run again on its next poll. After a
 * failed publish the producer's sequence numbers may no longer match the broker's, so the
 * next publish starts a new producer session (a new producer id): what the failed one
 * wrote may then be written again, which the stable event ids let consumers drop.
 */
import {
  type Admin,
  type ITopicConfig,
  Kafka,
  type LogEntry,
  type logCreator,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
} from "kafkajs";
import type { Logger } from "../../core/logger.js";
import type { EventStream } from "../../core/ports.js";
import { type AuditStreamRecord, type StreamRecord, streamTopics } from "../../core/stream-records.js";

/** The header that carries a record's event id (`<channelId>:<seq>`, `user:<id>`, …). */
export const eventIdHeader = "event-id";

export interface KafkaStreamOptions {
  /** `host:port` of one or more brokers to bootstrap from. */
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Partitions of a topic that open creates (default 3). Topics that exist are left as they are. */
  partitions?: number;
  /** Replicas of a topic that open creates (default: 3, or fewer when the cluster has fewer brokers). */
  replicationFactor?: number;
  /** How long one request to a broker may take (default 5 s). */
  requestTimeoutMs?: number;
  /** How often kafkajs retries a failed request before the publish rejects (default 3). */
  retries?: number;
  /**
   * The most a publish waits before it rejects (default 15 s): kafkajs' retries are bounded,
   * but connection timeouts nested in them add up where packets are dropped, not refused.
   */
  publishTimeoutMs?: number;
  /** The most record bytes (values) one produce request carries (default 512 KiB); a bigger publish is sent in several, in order. */
  maxBytesPerSend?: number;
}

/** kafkajs messages that say nothing the caller does not hear anyway, written at debug. */
const harmless: readonly { namespace: string; message: RegExp }[] = [
  // A failed request rejects the publish (and the follower logs that); kafkajs logs each
  // refused connection and each retry of it on the way.
  { namespace: "Connection", message: /./ },
  { namespace: "BrokerPool", message: /./ },
  { namespace: "Producer", message: /^Failed to send messages/ },
  // Bounded on purpose: the follower retries, and consumers deduplicate by event id.
  { namespace: "Producer", message: /^Limiting retries for the idempotent producer/ },
];

/** The project logger's method for a kafkajs entry. */
function levelOf(entry: LogEntry): "debug" | "info" | "warn" | "error" {
  if (harmless.some((h) => h.namespace === entry.namespace && h.message.test(entry.log.message))) {
    return "debug";
  }
  switch (entry.level) {
    case logLevel.ERROR:
      return "error";
    case logLevel.WARN:
      return "warn";
    case logLevel.INFO:
      return "info";
    default:
      return "debug";
  }
}

/** A kafkajs log creator that writes to `logger`, at kafkajs' level (the harmless lines at debug), with its fields. */
export function kafkajsLogCreator(logger: Logger): logCreator {
  // kafkajs' own level is set from `logger` (kafkajsLevelFor); the entry's level decides the method.
  return () => (entry: LogEntry) => {
    const { message, timestamp: _timestamp, logger: _name, ...fields } = entry.log;
    const level = levelOf(entry);
    if (!logger.isLevelEnabled(level)) return;
    logger[level]({ ...fields, kafkaNamespace: entry.namespace }, `kafka: ${message}`);
  };
}

/** kafkajs' level for `logger`: it builds no entries that `logger` would drop. */
export function kafkajsLevelFor(logger: Logger): logLevel {
  if (logger.isLevelEnabled("debug")) return logLevel.DEBUG;
  if (logger.isLevelEnabled("info")) return logLevel.INFO;
  if (logger.isLevelEnabled("warn")) return logLevel.WARN;
  return logger.isLevelEnabled("error") ? logLevel.ERROR : logLevel.NOTHING;
}

/** The Kafka message of a record: the event as JSON, keyed by channel, its id in a header. */
function messageOf(record: StreamRecord | AuditStreamRecord): Message {
  return {
    key: record.key,
    value: JSON.stringify(record.event),
    headers: { [eventIdHeader]: record.event.id },
  };
}

/** The records' messages in parts of at most `maxBytes` of values each (a bigger record alone), in order. */
function partsOf(
  records: readonly (StreamRecord | AuditStreamRecord)[],
  maxBytes: number,
): Array<Array<{ topic: string; message: Message }>> {
  const parts: Array<Array<{ topic: string; message: Message }>> = [];
  let part: Array<{ topic: string; message: Message }> = [];
  let bytes = 0;
  for (const record of records) {
    const message = messageOf(record);
    const size = Buffer.byteLength(message.value as string) + record.key.length + record.event.id.length;
    if (part.length > 0 && bytes + size > maxBytes) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push({ topic: record.topic, message });
    bytes += size;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/** Creates the stream's topics that are missing (the relay when it opens; the search feed's consumer before it subscribes). */
export async function createMissingTopics(
  admin: Admin,
  options: Pick<KafkaStreamOptions, "partitions" | "replicationFactor">,
  logger: Logger,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = streamTopics.filter((topic) => !existing.has(topic));
  if (missing.length === 0) return;
  const replicationFactor =
    options.replicationFactor ?? Math.min(3, (await admin.describeCluster()).brokers.length);
  const topics: ITopicConfig[] = missing.map((topic) => ({
    topic,
    numPartitions: options.partitions ?? 3,
    replicationFactor,
  }));
  // False when another node created them first: they exist, which is all that is asked.
  await admin.createTopics({ topics, waitForLeaders: true });
  logger.info({ topics: missing, partitions: options.partitions ?? 3, replicationFactor }, "created topics");
}

/**
 * `sent`, or a rejection once `timeoutMs` have passed. A send that is given up on may
 * still end later; its session is replaced before the next publish either way.
 */
async function withDeadline(sent: Promise<unknown>, timeoutMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`publishing to Kafka took more than ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([sent, deadline]);
  } catch (err) {
    sent.catch((late: unknown) => logger.debug({ err: late }, "a publish given up on failed"));
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connects to Kafka, creates the stream's topics that are missing and resolves with the
 * stream; rejects when Kafka cannot be reached (within the bounded retries).
 */
export async function openKafkaStream(options: KafkaStreamOptions): Promise<EventStream> {
  const logger = options.logger;
  const publishTimeoutMs = options.publishTimeoutMs ?? 15_000;
  // Bounded, so that a publish to an unreachable Kafka rejects in seconds, not minutes
  // (an idempotent producer's default is to retry forever).
  const retry = { retries: options.retries ?? 3, initialRetryTime: 300, maxRetryTime: 3000 };
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3000,
    requestTimeout: options.requestTimeoutMs ?? 5000,
    retry,
    logLevel: kafkajsLevelFor(logger),
    logCreator: kafkajsLogCreator(logger),
  });

  const admin = kafka.admin();
  await admin.connect();
  try {
    await createMissingTopics(admin, options, logger);
  } finally {
    await admin.disconnect();
  }

  const newProducer = () =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry,
      // Topics are made above, on purpose; a record for another topic is an error.
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  let producer: Producer = newProducer();
  await producer.connect();
  /** Set when a publish failed: the next one starts a new producer session. */
  let broken = false;
  let closed = false;

  const renewProducer = async () => {
    const old = producer;
    producer = newProducer();
    await old.disconnect().catch((err: unknown) => {
      // The old session is dropped either way; this only says its sockets may linger.
      logger.debug({ err }, "disconnecting the failed producer session failed");
    });
    await producer.connect();
    broken = false;
    logger.info({}, "new producer session after a failed publish");
  };

  logger.info({ brokers: options.brokers, topics: streamTopics }, "event stream open");
  return {
    async publish(records) {
      if (closed) throw new Error("the event stream is closed");
      if (records.length === 0) return;
      try {
        if (broken) await renewProducer();
        // A broker refuses a partition's batch above its message.max.bytes (1 MiB by
        // default), and would refuse the same batch on every retry, stopping the relay for
        // good (S10 at a fixed rate found it: a backlog of 16 channels × 325 events). So a
        // big publish goes in several requests, one after the other: order per key holds,
        // and a failure part way re-sends the earlier parts (at least once).
        for (const part of partsOf(records, options.maxBytesPerSend ?? 512 * 1024)) {
          const byTopic = new Map<string, Message[]>();
          for (const message of part) {
            const messages = byTopic.get(message.topic) ?? [];
            messages.push(message.message);
            byTopic.set(message.topic, messages);
          }
          const sent = producer.sendBatch({
            acks: -1,
            topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
          });
          await withDeadline(sent, publishTimeoutMs, logger);
        }
      } catch (err) {
        broken = true;
        throw err;
      }
    },
    async close() {
      closed = true;
      await producer.disconnect();
      logger.info({}, "event stream closed");
    },
  };
}
