/**
 * Presence end to end over real sockets with the SDK: who sees a user's status (only
 * those who share a small channel or a DM), sessions (online until the last one closes),
 * chosen statuses (away, dnd, kept dnd), `presence.query` and the count of large
 * channels. On both stores, and with actors in worker threads, where the presence book
 * is shared between threads through the main thread.
 */
import { describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import { until } from "./harness.js";
import { serverForBlock, threadSetups } from "./support/server-fixture.js";

interface PresenceSeen {
  topic: string;
  userId: string;
  status: string;
  since: number;
}

/** Records every `presence.updated` event a client receives. */
function presenceLog(client: ColinkClient): PresenceSeen[] {
  const seen: PresenceSeen[] = [];
  client.on("event", (topic, type, data) => {
    if (type === "presence.updated") seen.push({ topic, ...(data as Omit<PresenceSeen, "topic">) });
  });
  return seen;
}

/** The statuses of `userId` seen so far, in order. */
const statusesOf = (log: PresenceSeen[], userId: string) =>
  log.filter((e) => e.userId === userId).map((e) => e.status);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Lets the fan-outs of earlier changes finish: a connect's fan-out may still be reading
 * its audience when the test makes the users share a channel.
 */
const settle = () => sleep(300);

/** How long "nothing arrives" is watched for. */
const quietMs = 600;

/** Large channels: more than this many members get a count, not presence events. */
const fanoutMax = 3;

describe.each(threadSetups(3))("presence on $store with $workers worker(s)", ({ store, workers }) => {
  const { connect } = serverForBlock(store, {
    COLINK_WORKERS: String(workers),
    COLINK_PRESENCE_FANOUT_MAX: String(fanoutMax),
  });
  /** A private channel of `owner` with `others` invited. */
  const share = async (owner: ColinkClient, name: string, others: string[]) => {
    const { channel } = await owner.request("ch.create", { name, kind: "private" });
    for (const userId of others) await owner.request("ch.invite", { channelId: channel.id, userId });
    return channel.id;
  };

  it("shows status changes to those who share a channel and to no one else", async () => {
    const a = await connect("pa");
    const b = await connect("pb");
    const c = await connect("pc");
    const cLog = presenceLog(c.client);
    await share(a.client, "pres-ab", [b.userId]);
    await settle();
    const bLog = presenceLog(b.client);
    const aLog = presenceLog(a.client);

    const set = await a.client.request("presence.set", { status: "away" });
    expect(set.presence).toMatchObject({ userId: a.userId, status: "away" });
    await until(() => statusesOf(bLog, a.userId).includes("away"), 5000, "B sees away");
    const away = bLog.find((e) => e.userId === a.userId)!;
    expect(away).toMatchObject({ topic: `u:${b.userId}`, status: "away", since: set.presence.since });

    await a.client.request("presence.set", { status: "dnd" });
    await a.client.request("presence.set", { status: "online" });
    await until(() => statusesOf(bLog, a.userId).length === 3, 5000, "B sees dnd and online");
    expect(statusesOf(bLog, a.userId)).toEqual(["away", "dnd", "online"]);
    // The user's own sessions hear it too (a status set on one device shows on the others).
    await until(() => statusesOf(aLog, a.userId).length === 3, 5000, "A's own session");

    await a.client.close();
    await until(() => statusesOf(bLog, a.userId).length === 4, 5000, "B sees offline");
    expect(statusesOf(bLog, a.userId).at(-1)).toBe("offline");
    await a.client.connect();
    await until(() => statusesOf(bLog, a.userId).length === 5, 5000, "B sees online again");
    expect(statusesOf(bLog, a.userId).at(-1)).toBe("online");

    // presence.query: B shares a channel with A; C shares nothing with A or B.
    const fromB = await b.client.request("presence.query", { userIds: [a.userId, c.userId, "Unobody"] });
    expect(fromB.presence).toEqual([{ userId: a.userId, status: "online", since: expect.any(Number) }]);
    const fromC = await c.client.request("presence.query", { userIds: [a.userId, b.userId] });
    expect(fromC.presence).toEqual([]);
    const self = await c.client.request("presence.query", { userIds: [c.userId] });
    expect(self.presence).toEqual([{ userId: c.userId, status: "online", since: expect.any(Number) }]);

    await sleep(quietMs);
    expect(cLog.filter((e) => e.userId !== c.userId)).toEqual([]);
    // No one's presence event ever reached a topic other than the receiver's own.
    for (const [log, who] of [
      [bLog, b.userId],
      [cLog, c.userId],
    ] as const)
      expect(log.every((e) => e.topic === `u:${who}`)).toBe(true);
  });

  it("stays online until the last session closes", async () => {
    const a1 = await connect("ma");
    const b = await connect("mb");
    await share(a1.client, "pres-multi", [b.userId]);
    const a2 = await connect("ma");
    await settle();
    const bLog = presenceLog(b.client);

    await a1.client.close();
    await sleep(quietMs);
    expect(statusesOf(bLog, a1.userId)).toEqual([]);
    const still = await b.client.request("presence.query", { userIds: [a1.userId] });
    expect(still.presence[0]?.status).toBe("online");

    await a2.client.close();
    await until(() => statusesOf(bLog, a1.userId).length === 1, 5000, "offline after the last session");
    expect(statusesOf(bLog, a1.userId)).toEqual(["offline"]);
    const gone = await b.client.request("presence.query", { userIds: [a1.userId] });
    expect(gone.presence[0]?.status).toBe("offline");
  });

  it("keeps dnd across going offline, and drops away", async () => {
    const a = await connect("ka");
    const b = await connect("kb");
    await share(a.client, "pres-keep", [b.userId]);
    await settle();
    const bLog = presenceLog(b.client);

    await a.client.request("presence.set", { status: "dnd" });
    await a.client.close();
    await until(() => statusesOf(bLog, a.userId).at(-1) === "offline", 5000, "offline");
    await a.client.connect();
    await until(() => statusesOf(bLog, a.userId).length === 3, 5000, "back");
    expect(statusesOf(bLog, a.userId)).toEqual(["dnd", "offline", "dnd"]);

    await a.client.request("presence.set", { status: "away" });
    await a.client.close();
    await until(() => statusesOf(bLog, a.userId).at(-1) === "offline", 5000, "offline again");
    await a.client.connect();
    await until(() => statusesOf(bLog, a.userId).length === 6, 5000, "back again");
    expect(statusesOf(bLog, a.userId).slice(3)).toEqual(["away", "offline", "online"]);
  });

  it("gives large channels a count instead of each member's presence", async () => {
    const owner = await connect("la");
    const members = await Promise.all(["lb", "lc", "ld"].map((n) => connect(n)));
    const channelId = await share(
      owner.client,
      "pres-large",
      members.map((m) => m.userId),
    );
    // Four members > COLINK_PRESENCE_FANOUT_MAX=3: nobody shares a small channel with "la".
    const logs = members.map((m) => presenceLog(m.client));
    const counts: Array<{ online: number; members: number }> = [];
    await members[0]!.client.subscribe(channelId, () => {});
    members[0]!.client.on("event", (_topic, type, data) => {
      if (type === "presence.count") counts.push(data as { online: number; members: number });
    });

    await owner.client.close();
    await owner.client.connect();
    await owner.client.request("presence.set", { status: "away" });
    await sleep(quietMs);
    for (const log of logs) expect(statusesOf(log, owner.userId)).toEqual([]);
    // Still visible on request: they do share a channel.
    const q = await members[1]!.client.request("presence.query", { userIds: [owner.userId] });
    expect(q.presence).toEqual([{ userId: owner.userId, status: "away", since: expect.any(Number) }]);

    // The channel actor counts who is online (published at most once a second).
    await until(() => counts.length > 0, 5000, "presence.count");
    expect(counts.at(-1)!.members).toBe(4);
  });
});
