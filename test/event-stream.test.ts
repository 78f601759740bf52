/**
 * The event stream end to end: a Colink server on PGlite (one actor worker, the embedded
 * default) with `KAFKA_BROKERS` set relays its channel logs to a real Kafka broker
 * (test/support/kafka.ts), and a consumer that deduplicates by event id gets every
 * acknowledged message exactly once, in seq order per channel, with no gap in any
 * channel's log: first as users chat, then across a Kafka outage (sends are acknowledged
 * all along: the relay is off the send path), then across a Colink crash (SIGKILL) and
 * restart in the middle of a stream of sends.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import type { Message } from "../core/types.js";
import { connectAs, startServer, type TestServer, until } from "./harness.js";
import {
  dedupedStream,
  readStream,
  type StreamedRecord,
  startKafka,
  subjectOf,
  type TestKafka,
} from "./support/kafka.js";

/** The topics channel events go to (core/stream-records.ts). */
const channelTopics = ["channel.events", "message.events", "thread.events", "reaction.events"];

/** The log line of the relay (the "stream" log follower) failing to publish. */
const relayFailed = /"follower":"stream".*following the logs failed/;

/** How long the relay may take to deliver what was acknowledged (it polls every 500 ms). */
const relayDeadlineMs = 30_000;

describe("the event stream, end to end", () => {
  let kafka: TestKafka;
  let server: TestServer;
  const clients: ColinkClient[] = [];
  /** Every message whose send was acknowledged. */
  const acked: Message[] = [];

  beforeAll(async () => {
    // The first run fetches Kafka with Maven.
    kafka = await startKafka();
    // One actor worker: the embedded default, so the stream is opened in a worker thread.
    server = await startServer("pglite", { KAFKA_BROKERS: kafka.brokers, COLINK_WORKERS: "1" });
  }, 600_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.cleanup();
    await kafka?.cleanup();
  });

  async function connect(username: string): Promise<ColinkClient> {
    const { client } = await connectAs(server, username);
    clients.push(client);
    return client;
  }

  /** Sends `count` messages as `client` to each channel, the channels in parallel; records the acks. */
  async function chat(client: ColinkClient, channelIds: string[], count: number, label: string) {
    await Promise.all(
      channelIds.map(async (channelId) => {
        for (let i = 0; i < count; i++) {
          acked.push((await client.send(channelId, `${label} ${i}`)).message);
        }
      }),
    );
  }

  /**
   * Reads every topic from the beginning until each channel's log, up to its last seq as
   * the server reports it, is there; then checks what a deduplicating consumer keeps: per
   * channel exactly the seqs 1..last, each in one topic, and each acked message once, at
   * its seq.
   */
  async function expectStreamHoldsEverything(
    reporter: ColinkClient,
    channelIds: string[],
    what: string,
  ): Promise<StreamedRecord[]> {
    const lastSeqs = new Map<string, number>();
    for (const channelId of channelIds) {
      lastSeqs.set(channelId, (await reporter.request("ch.get", { channelId })).channel.lastSeq);
    }
    const reader = await readStream(kafka.brokers, channelTopics);
    try {
      const complete = (records: StreamedRecord[]) => {
        const ids = new Set(records.map((r) => r.eventId));
        return [...lastSeqs].every(([channelId, last]) =>
          Array.from({ length: last }, (_, i) => `${channelId}:${i + 1}`).every((id) => ids.has(id)),
        );
      };
      // On a timeout the assertions below say what is missing; the timeout is rethrown after them.
      const arrived = await reader.until(complete, relayDeadlineMs, `every channel's log (${what})`).then(
        () => null,
        (err: unknown) => err,
      );
      const records = [...reader.records];
      for (const record of records) {
        expect(record.key).toBe(subjectOf(record.event));
        expect(record.eventId).toBe(record.event.id);
      }
      const kept = dedupedStream(records);
      for (const [channelId, last] of lastSeqs) {
        const seqs = channelTopics.flatMap((topic) =>
          (kept.get(`${topic}/${channelId}`) ?? []).map((e) => e.seq),
        );
        seqs.sort((a, b) => a - b);
        expect(seqs, `channel ${channelId}'s seqs across the topics (${what})`).toEqual(
          Array.from({ length: last }, (_, i) => i + 1),
        );
      }
      for (const message of acked) {
        const events = kept.get(`message.events/${message.channelId}`) ?? [];
        const created = events.filter(
          (e) => e.type === "message.created" && (e.payload.message as Message).id === message.id,
        );
        expect(created, `message ${message.id}`).toHaveLength(1);
        expect(created[0]!.seq).toBe(message.seq);
        expect(created[0]!.actor).toBe(message.authorId);
      }
      if (arrived) throw arrived;
      return records;
    } finally {
      await reader.close();
    }
  }

  it("delivers every acknowledged message once per id, in order, across a Kafka outage and a server crash", async () => {
    const alice = await connect("stream-alice");
    const bob = await connect("stream-bob");
    const carol = await connect("stream-carol");
    const channelIds: string[] = [];
    for (const name of ["stream-general", "stream-random", "stream-dev"]) {
      const { channel } = await alice.request("ch.create", { name, kind: "public", topic: name });
      await bob.request("ch.join", { channelId: channel.id });
      await carol.request("ch.join", { channelId: channel.id });
      channelIds.push(channel.id);
    }

    // Users chat in every channel at once.
    await Promise.all([
      chat(alice, channelIds, 10, "alice"),
      chat(bob, channelIds, 10, "bob"),
      chat(carol, channelIds, 10, "carol"),
    ]);
    // The stream is opened on the relay's first publish; the adapter logs this once it has
    // connected and made the topics.
    await until(
      () => server.output().includes("event stream open"),
      15_000,
      "the server to open the event stream to KAFKA_BROKERS",
    );
    // A thread reply and a reaction fill the other two topics.
    const root = acked[0]!;
    acked.push((await bob.send(root.channelId, "a reply in the thread", { threadRootId: root.id })).message);
    await carol.request("react.add", { channelId: root.channelId, messageId: root.id, emoji: "+1" });
    const chatted = await expectStreamHoldsEverything(alice, channelIds, "as users chat");
    const topicsUsed = new Set(chatted.map((r) => r.topic));
    expect([...topicsUsed].sort()).toEqual([...channelTopics].sort());

    // Kafka goes away: sends are still acknowledged, promptly.
    await kafka.stop();
    const outageStartedAt = Date.now();
    await Promise.all([
      chat(alice, channelIds, 5, "alice (outage)"),
      chat(bob, channelIds, 5, "bob (outage)"),
    ]);
    const outageSendsMs = Date.now() - outageStartedAt;
    expect(outageSendsMs, "30 sends while Kafka is down").toBeLessThan(10_000);
    // Kafka comes back only once the relay has failed to publish (it retries on each poll).
    await until(
      () =>
        server
          .output()
          .split("\n")
          .some((line) => relayFailed.test(line)),
      20_000,
      "the relay to report that it cannot publish",
    );
    // /ready tells operators: still ready (sends go on), the relay failing and behind.
    const during = await (await fetch(`${server.baseUrl}/ready`)).json();
    expect(during).toMatchObject({ status: "ready", checks: { stream: { status: "failing" } } });
    expect(during.checks.stream.lagEvents).toBeGreaterThan(0);
    await kafka.restart();
    await expectStreamHoldsEverything(alice, channelIds, "after the Kafka outage");
    await expect
      .poll(async () => (await (await fetch(`${server.baseUrl}/ready`)).json()).checks.stream, {
        timeout: 10_000,
      })
      .toEqual({ status: "ok", lagEvents: 0 });

    // The server is killed in the middle of a stream of sends and started again: the SDK
    // resends what was not acknowledged, and the relay resumes from its last position.
    let crashPhaseAcks = 0;
    const crashLoops = [alice, bob, carol].map(async (client, i) => {
      for (let k = 0; k < 15; k++) {
        const channelId = channelIds[k % channelIds.length]!;
        acked.push((await client.send(channelId, `crash ${i}-${k}`, { timeoutMs: 30_000 })).message);
        crashPhaseAcks++;
      }
    });
    const crashAt = Date.now() + 20_000;
    while (crashPhaseAcks < 10 && Date.now() < crashAt) await new Promise((r) => setTimeout(r, 10));
    expect(crashPhaseAcks, "sends acknowledged before the crash").toBeGreaterThanOrEqual(10);
    await server.stop("SIGKILL");
    await server.restart();
    await Promise.all(crashLoops);
    await expectStreamHoldsEverything(alice, channelIds, "after the server crash");
  }, 120_000);

  it("relays users' profile and settings changes to user.events, and presence changes to presence.events", async () => {
    const dana = await connect("stream-dana");
    const { user } = await dana.request("user.me", {});
    const { user: renamed } = await dana.request("user.update", { displayName: "Dana Streams" });
    const { settings } = await dana.request("user.settings.set", { theme: "dark" });
    await dana.request("presence.set", { status: "away" });

    const reader = await readStream(kafka.brokers, ["user.events", "presence.events"]);
    try {
      const about = (topic: string) =>
        reader.records.filter((r) => r.topic === topic && r.key === user.id).map((r) => r.event);
      await reader.until(
        () =>
          about("user.events").length >= 3 &&
          about("presence.events").some((e) => e.payload.status === "away"),
        relayDeadlineMs,
        "dana's user and presence events",
      );
      // Each record keyed and identified as documented (docs/events.md).
      for (const r of reader.records) {
        expect(r.key).toBe(subjectOf(r.event));
        expect(r.eventId).toBe(r.event.id);
      }
      const userEvents = about("user.events");
      expect(userEvents.map((e) => e.type)).toEqual(["user.created", "user.updated", "settings.updated"]);
      expect(userEvents.map((e) => e.payload)).toEqual([{ user }, { user: renamed }, { settings }]);
      expect(userEvents.every((e) => e.actor === user.id && e.id === `user:${e.seq}`)).toBe(true);
      const presence = about("presence.events").map((e) => e.payload.status);
      expect(presence[0]).toBe("online");
      expect(presence.at(-1)).toBe("away");
    } finally {
      await reader.close();
    }
  });

  it("relays a completed upload to file.events, keyed by its uploader", async () => {
    const erin = await connect("stream-erin");
    const { user } = await erin.request("user.me", {});
    const { channel } = await erin.request("ch.create", { name: "uploads", kind: "public" });
    const bytes = Buffer.from("minutes of the stream meeting");
    const begun = await erin.request("file.begin", {
      channelId: channel.id,
      name: "minutes.txt",
      size: bytes.length,
      contentType: "text/plain",
    });
    const put = await fetch(new URL(begun.uploadUrl, server!.baseUrl), {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: bytes,
    });
    expect(put.status).toBeLessThan(300);
    // No scanner here: the file is unscanned once complete.
    const { file } = await erin.request("file.complete", { fileId: begun.fileId });

    const reader = await readStream(kafka.brokers, ["file.events"]);
    try {
      await reader.until(
        () => reader.records.some((r) => r.key === user.id),
        relayDeadlineMs,
        "erin's file event",
      );
      const mine = reader.records.filter((r) => r.key === user.id).map((r) => r.event);
      expect(mine.map((e) => [e.type, e.actor, e.payload])).toEqual([["file.uploaded", user.id, { file }]]);
    } finally {
      await reader.close();
    }
  });
});
