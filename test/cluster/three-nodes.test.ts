/**
 * Scale-out, part 1: three nodes share Postgres and Redis; clients connect to different
 * nodes and send to one channel concurrently; every client sees the same order, seq 1..N
 * with no gap. Also: a token from one node works on every node; requests for channels
 * owned elsewhere are forwarded and answered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerOfShard } from "../../actors/runtime/cluster/rendezvous.js";
import { shardOf } from "../../actors/runtime/placement.js";
import type { ColinkClient } from "../../client/index.js";
import { until } from "../harness.js";
import {
  clusterClient,
  clusterSettled,
  clusterToken,
  startCluster,
  storedEventSeqs,
  storedMessages,
  type TestCluster,
} from "./cluster-harness.js";

describe("three nodes, one channel", () => {
  let cluster: TestCluster;
  const clients: ColinkClient[] = [];

  beforeAll(async () => {
    cluster = await startCluster(3);
    await clusterSettled(cluster.nodes, cluster.redis.url);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.cleanup();
  });

  it("gives every client, on whichever node, the same gap-free log", async () => {
    const { nodes } = cluster;
    // Tokens from node 0 only: the dev key is shared through the database.
    const people = await Promise.all(
      Array.from({ length: 6 }, (_, i) => clusterToken(nodes[0]!, `user${i}`)),
    );
    for (let i = 0; i < people.length; i++) {
      clients.push(await clusterClient([nodes[i % 3]!.wsUrl], people[i]!.token));
    }
    const { channel } = await clients[0]!.request("ch.create", { name: "cluster", kind: "public" });
    for (const c of clients.slice(1)) await c.request("ch.join", { channelId: channel.id });

    const seen: number[][] = clients.map(() => []);
    await Promise.all(
      clients.map((c, i) =>
        c.subscribe(channel.id, (type, data) => {
          if (type === "message.created") seen[i]!.push(data.seq as number);
        }),
      ),
    );
    const perClient = 40;
    const acks = await Promise.all(
      clients.map(async (c, i) => {
        const seqs: number[] = [];
        for (let k = 0; k < perClient; k++) seqs.push((await c.send(channel.id, `c${i} m${k}`)).message.seq);
        return seqs;
      }),
    );
    const total = perClient * clients.length;
    await until(() => seen.every((s) => s.length >= total), 20_000, "every client to see every message");

    const stored = await storedMessages(cluster.schema, channel.id);
    expect(stored).toHaveLength(total);
    const order = stored.map((m) => m.seq);
    for (const s of seen) expect(s).toEqual(order);
    expect(acks.flat().sort((a, b) => a - b)).toEqual(order);
    const events = await storedEventSeqs(cluster.schema, channel.id);
    expect(events).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
  }, 60_000);

  it("answers requests forwarded from any node, over HTTP too", async () => {
    const { nodes } = cluster;
    const { token } = await clusterToken(nodes[1]!, "httpuser");
    const created = await fetch(`${nodes[2]!.baseUrl}/v1/channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "over-http", kind: "public" }),
    });
    expect(created.status).toBe(201);
    const { channel } = (await created.json()) as { channel: { id: string } };
    for (const node of nodes) {
      const res = await fetch(`${node.baseUrl}/v1/channels/${channel.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    }
  });

  it("shares presence across nodes and ends the sessions of a node that dies", async () => {
    const { nodes } = cluster;
    const live = ["node-0", "node-1", "node-2"];
    const actorNode = (userId: string) => ownerOfShard(shardOf(userId, 64), live);
    // Two users connected only to node 2, which dies: one whose actor lives on node 2
    // too (a new owner must settle her presence), one whose actor lives elsewhere (it
    // must end the sessions the dead node held).
    const pick = async (onNode2: boolean) => {
      for (let i = 0; ; i++) {
        const t = await clusterToken(nodes[0]!, `presence-${onNode2 ? "in" : "out"}-${i}`);
        if ((actorNode(t.userId) === "node-2") === onNode2) return t;
      }
    };
    const leavers = [await pick(true), await pick(false)];
    const bob = await clusterToken(nodes[0]!, "presence-bob");
    const carol = await clusterToken(nodes[0]!, "presence-carol");
    const bobClient = await clusterClient([nodes[0]!.wsUrl], bob.token);
    const carolClient = await clusterClient([nodes[1]!.wsUrl], carol.token);
    clients.push(bobClient, carolClient);
    const { channel } = await bobClient.request("ch.create", { name: "presence", kind: "public" });
    await carolClient.request("ch.join", { channelId: channel.id });
    const seen = new Map<string, string[]>(leavers.map((l) => [l.userId, []]));
    bobClient.on("event", (_topic, type, data) => {
      if (type === "presence.updated") seen.get(data.userId as string)?.push(data.status as string);
    });
    for (const l of leavers) {
      const c = await clusterClient([nodes[2]!.wsUrl], l.token);
      clients.push(c);
      await c.request("ch.join", { channelId: channel.id });
      // The next change of their sessions reaches Bob (they share a channel now).
      await c.request("presence.set", { status: "away" });
    }
    await until(() => [...seen.values()].every((s) => s.includes("away")), 10_000, "bob to see both away");
    const ids = leavers.map((l) => l.userId);
    const asked = await carolClient.request("presence.query", { userIds: ids });
    expect(asked.presence.map((p) => p.status)).toEqual(["away", "away"]);

    // No clean close: the node dies under their connections.
    await nodes[2]!.stop("SIGKILL");
    await until(
      () => [...seen.values()].every((s) => s.at(-1) === "offline"),
      20_000,
      "both offline after their node died",
    );
    const later = await carolClient.request("presence.query", { userIds: ids });
    expect(later.presence.map((p) => p.status)).toEqual(["offline", "offline"]);

    // A node that starts now knows who is online before anyone's next change: asked by a
    // user whose actor lives on the new node, it answers from what it loaded.
    const fresh = await cluster.addNode();
    await clusterSettled([nodes[0]!, nodes[1]!, fresh], cluster.redis.url);
    const now = ["node-0", "node-1", "node-3"];
    let dave = await clusterToken(nodes[0]!, "presence-dave-0");
    for (let i = 1; ownerOfShard(shardOf(dave.userId, 64), now) !== "node-3"; i++) {
      dave = await clusterToken(nodes[0]!, `presence-dave-${i}`);
    }
    const daveClient = await clusterClient([fresh.wsUrl], dave.token);
    clients.push(daveClient);
    await daveClient.request("ch.join", { channelId: channel.id });
    const onFresh = await daveClient.request("presence.query", { userIds: [bob.userId, ...ids] });
    expect(onFresh.presence.map((p) => p.status)).toEqual(["online", "offline", "offline"]);
  }, 60_000);
});
