/**
 * The Kafka event stream against a real broker (test/support/kafka.ts): topics made on
 * open, records consumed back in order per key with their id header and JSON, a publish
 * that rejects in bounded time while the broker is down, and publishing again once it is
 * back.
 */
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../../core/logger.js";
import type { EventStream } from "../../core/ports.js";
import { type StreamRecord, streamRecordOf, streamTopics } from "../../core/stream-records.js";
import type { ChannelEvent, ChannelEventType } from "../../core/types.js";
import {
  dedupedStream,
  readStream,
  startKafka,
  subjectOf,
  type TestKafka,
} from "../../test/support/kafka.js";
import { eventIdHeader, kafkajsLogCreator, openKafkaStream } from "./kafka-stream.js";

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line, for the assertions on what the adapter logs. */
function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void =>
      void lines.push({ level, message, fields });
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => logger,
    isLevelEnabled: () => true,
  };
  return logger;
}

/** Channel `channelId`'s events `from`..`to` as records, alternating messages and reactions. */
function recordsOf(channelId: string, from: number, to: number): StreamRecord[] {
  const records: StreamRecord[] = [];
  for (let seq = from; seq <= to; seq++) {
    const type: ChannelEventType = seq % 4 === 0 ? "reaction.added" : "message.created";
    const data =
      type === "message.created"
        ? { message: { id: `m${seq}`, channelId, authorId: "u_alice", text: `text ${seq}`, seq } }
        : { messageId: `m${seq - 1}`, userId: "u_bob", emoji: "+1" };
    const event: ChannelEvent = { channelId, seq, type, data, at: 1_700_000_000_000 + seq };
    records.push(streamRecordOf(event));
  }
  return records;
}

describe("kafkajs' logs", () => {
  it("go to the project's logger at kafkajs' level, with the harmless ones at debug", () => {
    const lines: LogLine[] = [];
    const write = kafkajsLogCreator(recordingLogger(lines))(logLevel.DEBUG);
    const entry = (level: logLevel, namespace: string, message: string) =>
      write({
        namespace,
        level,
        label: logLevel[level],
        log: { timestamp: "2026-01-01T00:00:00.000Z", logger: "kafkajs", message, broker: "b:9092" },
      });
    entry(logLevel.ERROR, "Admin", "Failed to execute listener: boom");
    entry(logLevel.WARN, "RequestQueue", "Response without match");
    entry(logLevel.INFO, "Producer", "Starting");
    entry(logLevel.DEBUG, "Connection", "Request Produce(key: 0, version: 7)");
    entry(logLevel.ERROR, "Connection", "Connection error: connect ECONNREFUSED 127.0.0.1:9092");
    entry(
      logLevel.ERROR,
      "BrokerPool",
      "Failed to connect to seed broker, trying another broker from the list",
    );
    entry(logLevel.ERROR, "Producer", "Failed to send messages: Connection error");
    entry(
      logLevel.WARN,
      "Producer",
      "Limiting retries for the idempotent producer may invalidate EoS guarantees",
    );
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ["error", "kafka: Failed to execute listener: boom"],
      ["warn", "kafka: Response without match"],
      ["info", "kafka: Starting"],
      ["debug", "kafka: Request Produce(key: 0, version: 7)"],
      ["debug", "kafka: Connection error: connect ECONNREFUSED 127.0.0.1:9092"],
      ["debug", "kafka: Failed to connect to seed broker, trying another broker from the list"],
      ["debug", "kafka: Failed to send messages: Connection error"],
      ["debug", "kafka: Limiting retries for the idempotent producer may invalidate EoS guarantees"],
    ]);
    expect(lines[0]!.fields).toEqual({ broker: "b:9092", kafkaNamespace: "Admin" });
  });
});

describe("Kafka event stream", () => {
  let kafka: TestKafka;
  let stream: EventStream;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    // The first run fetches Kafka with Maven.
    kafka = await startKafka();
    stream = await openKafkaStream({
      brokers: [kafka.brokers],
      clientId: "colink-test",
      logger: recordingLogger(lines),
    });
  }, 600_000);

  afterAll(async () => {
    await stream?.close();
    await kafka?.cleanup();
  });

  it("creates its topics on open, and opening again leaves them", async () => {
    const admin = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [...streamTopics] });
      expect(topics.map((t) => t.name).sort()).toEqual(
        [
          "audit.events",
          "channel.events",
          "file.events",
          "message.events",
          "presence.events",
          "reaction.events",
          "thread.events",
          "user.events",
        ].sort(),
      );
      for (const topic of topics) expect(topic.partitions).toHaveLength(3);
      const again = await openKafkaStream({
        brokers: [kafka.brokers],
        clientId: "colink-test-again",
        logger: recordingLogger([]),
      });
      await again.close();
      expect((await admin.fetchTopicMetadata({ topics: [...streamTopics] })).topics).toHaveLength(
        streamTopics.length,
      );
    } finally {
      await admin.disconnect();
    }
  });

  it("writes records in order per key, with the event id header and the event as JSON", async () => {
    const channels = ["c_one", "c_two", "c_three"];
    const published: StreamRecord[] = [];
    // Runs as the relay sends them: one channel's run at a time, interleaved across channels.
    for (let run = 0; run < 4; run++) {
      for (const channelId of channels) {
        const records = recordsOf(channelId, run * 25 + 1, run * 25 + 25);
        await stream.publish(records);
        published.push(...records);
      }
    }
    const reader = await readStream(kafka.brokers, ["message.events", "reaction.events"]);
    try {
      await reader.until((r) => r.length >= published.length, 30_000, "every published record");
      expect(reader.records).toHaveLength(published.length);
      for (const record of reader.records) {
        expect(record.key).toBe(subjectOf(record.event));
        expect(record.eventId).toBe(record.event.id);
        expect(record.event.id).toBe(`${record.key}:${record.event.seq}`);
      }
      // Per topic and key, the records arrive exactly as published.
      for (const topic of ["message.events", "reaction.events"]) {
        for (const channelId of channels) {
          const sent = published.filter((r) => r.topic === topic && r.key === channelId).map((r) => r.event);
          const read = reader.records
            .filter((r) => r.topic === topic && r.key === channelId)
            .map((r) => r.event);
          expect(read).toEqual(sent);
        }
      }
      // One key, one partition.
      for (const channelId of channels) {
        const partitions = new Set(
          reader.records
            .filter((r) => r.key === channelId && r.topic === "message.events")
            .map((r) => r.partition),
        );
        expect(partitions.size).toBe(1);
      }
    } finally {
      await reader.close();
    }
    expect(eventIdHeader).toBe("event-id");
  });

  it("sends a publish bigger than a broker takes in one batch (1 MiB) in parts, in order", async () => {
    // 4,000 records of ~1 KB to one key (one partition): about 4 MB in one publish.
    const big = recordsOf("c_big", 1, 4000).map((r) =>
      r.event.type === "message.created"
        ? { ...r, event: { ...r.event, payload: { ...r.event.payload, pad: "x".repeat(1000) } } }
        : r,
    );
    await stream.publish(big);
    const reader = await readStream(kafka.brokers, ["message.events", "reaction.events"]);
    try {
      const mine = () => reader.records.filter((r) => r.key === "c_big");
      await reader.until(() => mine().length >= big.length, 60_000, "every record of the big publish");
      for (const topic of ["message.events", "reaction.events"]) {
        expect(
          mine()
            .filter((r) => r.topic === topic)
            .map((r) => r.event.seq),
        ).toEqual(big.filter((r) => r.topic === topic).map((r) => r.event.seq));
      }
    } finally {
      await reader.close();
    }
  }, 120_000);

  it("gives up on a publish to a hung broker at its deadline, and publishes again once it answers", async () => {
    const hungLines: LogLine[] = [];
    const bounded = await openKafkaStream({
      brokers: [kafka.brokers],
      clientId: "colink-test-hung",
      logger: recordingLogger(hungLines),
      publishTimeoutMs: 3000,
    });
    try {
      await bounded.publish(recordsOf("c_hung", 1, 5));
      await kafka.pause();
      const startedAt = Date.now();
      try {
        await expect(bounded.publish(recordsOf("c_hung", 6, 10))).rejects.toThrow(/more than 3000 ms/);
        expect(Date.now() - startedAt).toBeLessThan(5000);
      } finally {
        kafka.resume();
      }
      await bounded.publish(recordsOf("c_hung", 6, 10));
      expect(hungLines.map((l) => l.message)).toContain("new producer session after a failed publish");
      const reader = await readStream(kafka.brokers, ["message.events", "reaction.events"]);
      try {
        const hung = () => reader.records.filter((r) => r.key === "c_hung");
        await reader.until(
          () => new Set(hung().map((r) => r.eventId)).size === 10,
          30_000,
          "c_hung's records",
        );
        const seqs = [...dedupedStream(hung()).values()].flat().map((e) => e.seq);
        expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      } finally {
        await reader.close();
      }
    } finally {
      await bounded.close();
    }
  });

  it("rejects in bounded time while Kafka is down, and publishes again once it is back", async () => {
    await stream.publish(recordsOf("c_outage", 1, 10));
    await kafka.stop();
    const startedAt = Date.now();
    await expect(stream.publish(recordsOf("c_outage", 11, 20))).rejects.toThrow();
    const rejectedAfterMs = Date.now() - startedAt;
    expect(rejectedAfterMs).toBeLessThan(20_000);
    // Another attempt while it is still down (as the follower's next poll): rejects too.
    await expect(stream.publish(recordsOf("c_outage", 11, 20))).rejects.toThrow();

    await kafka.restart();
    // The follower sends the failed run again, then goes on.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await stream.publish(recordsOf("c_outage", 11, 20));
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await stream.publish(recordsOf("c_outage", 21, 30));

    const reader = await readStream(kafka.brokers, ["message.events", "reaction.events"]);
    try {
      const outage = () => reader.records.filter((r) => r.key === "c_outage");
      await reader.until(
        () => new Set(outage().map((r) => r.eventId)).size === 30,
        30_000,
        "the records published around the outage",
      );
      const kept = dedupedStream(outage());
      const seqs = [...kept.values()].flat().map((e) => e.seq);
      expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    } finally {
      await reader.close();
    }
    // kafkajs' refused connections are debug lines; the rejection is the caller's to log.
    const loud = lines.filter((l) => l.level === "error" || l.level === "warn");
    expect(loud.map((l) => l.message)).toEqual([]);
  });
});
