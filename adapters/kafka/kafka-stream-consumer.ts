/**
 * The stream consumer port over Kafka (kafkajs): one consumer in a group that every node
 * joins (the search index fed from the stream, COLINK_SEARCH_FEED=kafka), so Kafka spreads
 * the topics' partitions over the nodes and a channel's events (one key, one partition)
 * reach one of them, in order.
 *
 * A batch (one partition's records) is handed over whole; its offsets are resolved and
 * committed only after the handler resolved, so nothing is skipped: while the handler
 * rejects (OpenSearch down) the same batch is tried again with backoff, heartbeating so that
 * the group keeps this member, and a rebalance or a restart starts again from the last
 * commit (a batch may then come twice; the handler is idempotent). A consumer that cannot
 * connect, or that kafkajs gave up on, is started again with backoff.
 */
import { type Admin, type Consumer, type EachBatchPayload, Kafka } from "kafkajs";
import type { Logger } from "../../core/logger.js";
import type { HandleStreamEvents, StreamConsumer } from "../../core/ports.js";
import { parseStreamEvent, type StreamEvent } from "../../core/stream-records.js";
import { createMissingTopics, kafkajsLevelFor, kafkajsLogCreator } from "./kafka-stream.js";

/** How a consumer joins the group. */
export interface KafkaStreamConsumerOptions {
  /** `host:port` of one or more brokers to bootstrap from. */
  brokers: string[];
  clientId: string;
  /** The group every node's consumer joins. */
  groupId: string;
  topics: readonly string[];
  logger: Logger;
  /** How often the group's lag is measured (default 2 s). */
  lagIntervalMs?: number;
  /** The longest wait between tries of a failing batch or connection (default 30 s). */
  maxBackoffMs?: number;
}

/** The first wait after a failure; it doubles up to `maxBackoffMs`. */
const firstBackoffMs = 500;
/** Longest stretch without a heartbeat while a batch waits to be tried again. */
const heartbeatEveryMs = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records of the group's topics not committed yet: high watermark minus committed offset (or the low one), summed. */
async function groupLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  const byPartition = new Map<string, number>();
  for (const { topic, partitions } of committed) {
    for (const p of partitions) byPartition.set(`${topic}/${p.partition}`, Number(p.offset));
  }
  let lag = 0;
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const done = byPartition.get(`${topic}/${p.partition}`) ?? -1;
      lag += Math.max(0, Number(p.high) - (done >= 0 ? done : Number(p.low)));
    }
  }
  return lag;
}

/** A consumer of `options.topics` in `options.groupId`; it starts with `run`. */
export function openKafkaStreamConsumer(options: KafkaStreamConsumerOptions): StreamConsumer {
  const { logger, groupId, topics } = options;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const retry = { retries: 5, initialRetryTime: 300, maxRetryTime: 3000 };
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry,
    logLevel: kafkajsLevelFor(logger),
    logCreator: kafkajsLogCreator(logger),
  });
  const status = { failing: false, lagEvents: 0 };
  let consumer: Consumer | null = null;
  let lagAdmin: Admin | null = null;
  let lagTimer: NodeJS.Timeout | null = null;
  let closed = false;
  let starting: Promise<void> | null = null;

  const fail = (err: unknown, what: string) => {
    if (!status.failing) logger.warn({ err, groupId }, `${what}; trying again with backoff`);
    status.failing = true;
  };

  /** Waits `ms`, heartbeating, unless the consumer stops or the batch goes stale (a rebalance took it). */
  const pauseBatch = async (ms: number, batch: EachBatchPayload): Promise<void> => {
    const until = Date.now() + ms;
    while (Date.now() < until && batch.isRunning() && !batch.isStale()) {
      await sleep(Math.min(heartbeatEveryMs, until - Date.now()));
      // Rejects when the group is rebalancing: kafkajs then rejoins, and the batch comes again.
      await batch.heartbeat();
    }
  };

  const consume = async (handle: HandleStreamEvents, payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const events: StreamEvent[] = [];
    for (const message of batch.messages) {
      const event = message.value ? parseStreamEvent(message.value.toString("utf8")) : null;
      if (event) events.push(event);
      else
        logger.warn(
          { topic: batch.topic, partition: batch.partition, offset: message.offset },
          "skipping a record that is not an event of the stream",
        );
    }
    let backoff = firstBackoffMs;
    for (;;) {
      if (!payload.isRunning() || payload.isStale()) return;
      try {
        await handle(events);
        break;
      } catch (err) {
        fail(err, "handling a batch of the event stream failed");
        await pauseBatch(backoff, payload);
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
    if (status.failing) logger.info({ groupId }, "handling the event stream again");
    status.failing = false;
    payload.resolveOffset(batch.lastOffset());
    await payload.commitOffsetsIfNecessary();
  };

  /** Connects, subscribes and runs a consumer, trying again with backoff until it runs or `close` is called. */
  const start = async (handle: HandleStreamEvents): Promise<void> => {
    let backoff = firstBackoffMs;
    while (!closed) {
      const next = kafka.consumer({
        groupId,
        allowAutoTopicCreation: false,
        retry,
        // Half kafkajs' default: a node that died hands its partitions on sooner. A batch
        // waiting for OpenSearch heartbeats (pauseBatch), so only a single index write
        // hanging this long costs the membership (and then the batch is redone).
        sessionTimeout: 15_000,
        heartbeatInterval: 3000,
      });
      try {
        const admin = kafka.admin();
        await admin.connect();
        try {
          await createMissingTopics(admin, {}, logger);
        } finally {
          await admin.disconnect();
        }
        next.on(next.events.CRASH, ({ payload }) => {
          if (payload.restart || closed) return;
          fail(payload.error, "the stream consumer stopped");
          consumer = null;
          void next
            .disconnect()
            .catch((err: unknown) => logger.debug({ err }, "disconnecting the stopped consumer failed"))
            .then(() => sleep(firstBackoffMs))
            .then(() => restart(handle));
        });
        await next.connect();
        await next.subscribe({ topics: [...topics], fromBeginning: true });
        await next.run({ eachBatchAutoResolve: false, eachBatch: (payload) => consume(handle, payload) });
        consumer = next;
        logger.info({ groupId, topics }, "consuming the event stream");
        if (closed) await next.disconnect();
        return;
      } catch (err) {
        fail(err, "starting the stream consumer failed");
        await next.disconnect().catch(() => {});
        await sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  };

  const restart = (handle: HandleStreamEvents) => {
    if (closed) return Promise.resolve();
    starting = start(handle).finally(() => {
      starting = null;
    });
    return starting;
  };

  const measureLag = async () => {
    try {
      if (!lagAdmin) {
        const admin = kafka.admin();
        await admin.connect();
        lagAdmin = admin;
      }
      status.lagEvents = await groupLag(lagAdmin, groupId, topics);
    } catch (err) {
      // The last measure stands; the consumer's own failures say the rest.
      logger.debug({ err, groupId }, "measuring the stream consumer's lag failed");
      const admin = lagAdmin;
      lagAdmin = null;
      await admin?.disconnect().catch(() => {});
    }
  };

  return {
    run(handle) {
      if (consumer || starting || closed) throw new Error("the stream consumer runs already");
      void restart(handle);
      const interval = options.lagIntervalMs ?? 2000;
      lagTimer = setInterval(() => void measureLag(), interval);
      lagTimer.unref();
    },
    get status() {
      return { ...status };
    },
    async close() {
      closed = true;
      if (lagTimer) clearInterval(lagTimer);
      // A start still under way sees `closed` and disconnects what it connected.
      await consumer?.disconnect();
      await lagAdmin?.disconnect();
      logger.info({ groupId }, "stream consumer closed");
    },
  };
}
