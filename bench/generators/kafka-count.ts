/**
 * Generator for S10 (the Kafka relay): a consumer of the event stream's topics that counts
 * the records arriving in Kafka and how long each took, light enough to share the machine
 * with the load: it reads the `event-id` header and, from the value, only the event's
 * `time` field (found in the bytes, not parsed as JSON).
 *
 * One consumer group of its own, from the latest offsets: the scenario starts it after the
 * previous run has been relayed completely, so every record it reads is this run's (older
 * events, by their `time`, are counted apart and left out). Per record it keeps three
 * clocks of this machine: the event's `time` (the server's clock when the channel actor
 * appended it to the batch that was then committed), the record's timestamp (the broker's
 * append time: S10 creates the topics with `message.timestamp.type=LogAppendTime`) and
 * when it was consumed here.
 *
 * Rendezvous notes (bench/lib/rendezvous.ts): posts `consumer-ready` once its first fetch
 * has answered (its offsets are set: what is appended from then on is read); waits for
 * `expect` (the events the run logged and the load's measuring window), then stops once it
 * has read that many distinct events, or `drainTimeoutMs` after the note.
 */
import { type EachBatchPayload, Kafka, logLevel } from "kafkajs";
import { Rendezvous } from "../lib/rendezvous.js";
import { encodeHistogram, newHistogram } from "../lib/stats.js";

export interface KafkaCountTask {
  brokers: string;
  topics: string[];
  rendezvous: string;
  /** Events whose `time` is before this (epoch ms) are a previous run's: counted apart, left out. */
  sinceMs: number;
  /** The channel of the probe sends: its records' times are returned one by one. */
  probeChannelId: string;
  /** Longest wait, after `expect`, for the records still missing. */
  drainTimeoutMs: number;
}

/** The note the scenario posts once the run is over and relayed. */
export interface KafkaCountExpect {
  /** Events the run logged (the sum of the channels' log positions, after less before). */
  events: number;
  /** The load's measuring window (epoch ms). */
  measureFrom: number;
  stopAt: number;
}

export interface KafkaCountResult {
  /** Records read, duplicates included. */
  records: number;
  /** Records at or below the seq already read for their topic and channel (resent by the relay). */
  duplicates: number;
  /** Records of events from before `sinceMs`. */
  older: number;
  /** Distinct events read (records less duplicates and older ones). */
  events: number;
  /** Whether every expected event was read. */
  complete: boolean;
  /** Records appended to Kafka inside the measuring window (by their append time). */
  appendedInWindow: number;
  /** Records appended after the window (the relay catching up once the load stopped). */
  appendedAfterStop: number;
  /** The most records appended in one second, from the window's start to the last record. */
  peakPerSec: number;
  /** Append time of the last record (epoch ms). */
  lastAppendAt: number;
  /** When the last record was consumed (epoch ms). */
  lastConsumedAt: number;
  /** Event `time` → append to Kafka, for the events of the window, µs (compressed histogram). */
  toKafka: string;
  /** Event `time` → consumed here, for the events of the window, µs (compressed histogram). */
  toConsumer: string;
  /** The probe channel's records: [seq, append time, consumed at]. */
  probes: Array<[number, number, number]>;
}

const timeKey = Buffer.from('"time":');

/**
 * The top-level `time` of an event record's value (`{"id":…,"type":…,"time":N,…}`: the
 * first `"time":` in the bytes, as core/stream-records.ts builds the event); NaN if absent.
 */
export function eventTimeOf(value: Buffer): number {
  let i = value.indexOf(timeKey);
  if (i < 0) return Number.NaN;
  i += timeKey.length;
  let n = 0;
  let digits = 0;
  for (; i < value.length; i++) {
    const c = value[i]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    digits++;
  }
  return digits > 0 ? n : Number.NaN;
}

export default async function kafkaCount(task: KafkaCountTask): Promise<KafkaCountResult> {
  const rv = new Rendezvous(task.rendezvous);
  const kafka = new Kafka({
    clientId: "colink-bench-s10",
    brokers: [task.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const consumer = kafka.consumer({
    groupId: `colink-bench-s10-${process.pid}-${Date.now().toString(36)}`,
    maxWaitTimeInMs: 50,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  const crashes: string[] = [];
  consumer.on(consumer.events.CRASH, (e) => {
    crashes.push(String(e.payload.error));
  });
  let ready = false;
  consumer.on(consumer.events.FETCH, () => {
    if (ready) return;
    ready = true;
    rv.post("consumer-ready", { at: Date.now() });
  });

  // Per event read (duplicates and older ones left out): its three clocks.
  const eventAt: number[] = [];
  const appendAt: number[] = [];
  const consumedAt: number[] = [];
  const probes: Array<[number, number, number]> = [];
  const lastSeq = new Map<string, number>();
  const probePrefix = `${task.probeChannelId}:`;
  let records = 0;
  let duplicates = 0;
  let older = 0;

  const eachBatch = async ({ batch }: EachBatchPayload) => {
    const now = Date.now();
    for (const message of batch.messages) {
      records++;
      const header = message.headers?.["event-id"];
      const id = header === undefined ? "" : String(Array.isArray(header) ? header[0] : header);
      const colon = id.lastIndexOf(":");
      const seq = Number(id.slice(colon + 1));
      const stream = `${batch.topic}/${id.slice(0, colon)}`;
      if (seq <= (lastSeq.get(stream) ?? 0)) {
        duplicates++;
        continue;
      }
      lastSeq.set(stream, seq);
      const time = message.value ? eventTimeOf(message.value) : Number.NaN;
      if (time < task.sinceMs) {
        older++;
        continue;
      }
      const appended = Number(message.timestamp);
      eventAt.push(time);
      appendAt.push(appended);
      consumedAt.push(now);
      if (id.startsWith(probePrefix)) probes.push([seq, appended, now]);
    }
  };
  await consumer.connect();
  await consumer.subscribe({ topics: task.topics, fromBeginning: false });
  await consumer.run({ eachBatch, eachBatchAutoResolve: true });

  const expect = await rv.wait<KafkaCountExpect>("expect", 30 * 60_000, {
    pollMs: 50,
    abort: () => (crashes.length > 0 ? `consumer crashed: ${crashes.join("; ")}` : null),
  });
  const deadline = Date.now() + task.drainTimeoutMs;
  while (eventAt.length < expect.events && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await consumer.disconnect();

  const toKafka = newHistogram();
  const toConsumer = newHistogram();
  const us = (ms: number) => Math.min(60_000_000, Math.max(1, Math.round(ms * 1000)));
  let appendedInWindow = 0;
  let appendedAfterStop = 0;
  const perSecond = new Map<number, number>();
  let lastAppendAt = 0;
  let lastConsumedAt = 0;
  for (let i = 0; i < eventAt.length; i++) {
    const t = eventAt[i]!;
    const a = appendAt[i]!;
    const c = consumedAt[i]!;
    if (t >= expect.measureFrom && t < expect.stopAt) {
      toKafka.recordValue(us(a - t));
      toConsumer.recordValue(us(c - t));
    }
    if (a >= expect.measureFrom && a < expect.stopAt) appendedInWindow++;
    if (a >= expect.stopAt) appendedAfterStop++;
    if (a >= expect.measureFrom) {
      const s = Math.floor((a - expect.measureFrom) / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    lastAppendAt = Math.max(lastAppendAt, a);
    lastConsumedAt = Math.max(lastConsumedAt, c);
  }
  return {
    records,
    duplicates,
    older,
    events: eventAt.length,
    complete: eventAt.length >= expect.events,
    appendedInWindow,
    appendedAfterStop,
    peakPerSec: Math.max(0, ...perSecond.values()),
    lastAppendAt,
    lastConsumedAt,
    toKafka: encodeHistogram(toKafka),
    toConsumer: encodeHistogram(toConsumer),
    probes,
  };
}
