/**
 * The one contract suite of the cluster ports (`NodeBus`, `ClusterRegistry`). Every
 * adapter runs it against its real backing service:
 * `describeClusterContract("redis", async () => ({ join, cleanup }))`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterRegistry, NodeBus } from "../core/ports.js";

/** One node's handles on the cluster ports. */
export interface ClusterPorts {
  bus: NodeBus;
  registry: ClusterRegistry;
}

/** A backing service the suite may open nodes on. */
export interface ClusterBackend {
  /** Connects a node with this id. */
  join(nodeId: string): Promise<ClusterPorts>;
  cleanup(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let counter = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${counter++}`;

/** Collects what a bus hears, by topic. */
function listen(bus: NodeBus): Array<[string, string]> {
  const heard: Array<[string, string]> = [];
  bus.onMessage((topic, payload) => heard.push([topic, Buffer.from(payload).toString()]));
  return heard;
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(10);
  }
}

/** Registers the suite for one adapter. */
export function describeClusterContract(name: string, open: () => Promise<ClusterBackend>): void {
  describe(`cluster ports contract: ${name}`, () => {
    let backend: ClusterBackend;
    const opened: ClusterPorts[] = [];
    const join = async (id: string) => {
      const ports = await backend.join(id);
      opened.push(ports);
      return ports;
    };

    beforeAll(async () => {
      backend = await open();
    });
    afterAll(async () => {
      await Promise.all(opened.map((p) => p.registry.close()));
      await backend.cleanup();
    });

    it("lists live nodes; a node that stops beating lapses, one that leaves goes at once", async () => {
      const [a, b, c] = [fresh("a"), fresh("b"), fresh("c")];
      const pa = await join(a);
      const pb = await join(b);
      const pc = await join(c);
      await pa.registry.heartbeat(a, 300);
      await pb.registry.heartbeat(b, 60_000);
      expect(await pc.registry.heartbeat(c, 60_000)).toEqual(expect.arrayContaining([a, b, c]));
      await sleep(400);
      const live = await pc.registry.heartbeat(c, 60_000);
      expect(live).not.toContain(a);
      expect(live).toEqual(expect.arrayContaining([b, c]));
      await pb.registry.leave(b);
      expect(await pc.registry.heartbeat(c, 60_000)).not.toContain(b);
    });

    it("leases a shard to one node at a time, until it is released or lapses", async () => {
      const [a, b] = [fresh("a"), fresh("b")];
      const pa = await join(a);
      const pb = await join(b);
      const s = [900_001, 900_002, 900_003].map((x) => x + Math.floor(Math.random() * 1e6) * 10);
      const [wonA, wonB] = await Promise.all([
        pa.registry.acquire(a, s, 60_000),
        pb.registry.acquire(b, s, 60_000),
      ]);
      expect([...wonA, ...wonB].sort()).toEqual([...s].sort());
      expect(wonA.filter((x) => wonB.includes(x))).toEqual([]);
      // The holder stamps its epoch and keeps renewing; the other cannot renew what it lacks.
      const holder = wonA.length > 0 ? { id: a, p: pa, won: wonA } : { id: b, p: pb, won: wonB };
      const other = holder.id === a ? { id: b, p: pb } : { id: a, p: pa };
      await holder.p.registry.stamp(holder.id, [{ shard: holder.won[0]!, epoch: 7 }], 60_000);
      expect(await holder.p.registry.renew(holder.id, holder.won, 60_000)).toEqual(holder.won);
      expect(await other.p.registry.renew(other.id, holder.won, 60_000)).toEqual([]);
      expect(await other.p.registry.acquire(other.id, holder.won, 60_000)).toEqual([]);
      // Taking again a shard it holds (after losing track of it) succeeds.
      expect(await holder.p.registry.acquire(holder.id, holder.won, 60_000)).toEqual(holder.won);
      // Released: free for the other. Another node's release does nothing.
      await other.p.registry.release(other.id, holder.won);
      expect(await holder.p.registry.renew(holder.id, holder.won, 200)).toEqual(holder.won);
      await holder.p.registry.release(holder.id, [holder.won[0]!]);
      expect(await other.p.registry.acquire(other.id, [holder.won[0]!], 60_000)).toEqual([holder.won[0]]);
      // Lapsed (renewed for 200 ms above, then left alone): free too.
      const rest = holder.won.slice(1);
      await sleep(300);
      expect((await other.p.registry.acquire(other.id, rest, 60_000)).sort()).toEqual([...rest].sort());
      expect(await holder.p.registry.renew(holder.id, rest, 60_000)).toEqual([]);
    });

    it("delivers to the other subscribed nodes only, in the sender's order across topics", async () => {
      const [a, b, c] = [fresh("a"), fresh("b"), fresh("c")];
      const pa = await join(a);
      const pb = await join(b);
      const pc = await join(c);
      const [t1, t2] = [fresh("t1"), fresh("t2")];
      const heardA = listen(pa.bus);
      const heardB = listen(pb.bus);
      const heardC = listen(pc.bus);
      await pa.bus.subscribe(t1);
      await pb.bus.subscribe(t1);
      await pb.bus.subscribe(t2);
      const sent: Array<[string, string]> = [];
      for (let i = 0; i < 50; i++) {
        const topic = i % 3 === 0 ? t2 : t1;
        sent.push([topic, `m${i}`]);
        void pa.bus.publish(topic, Buffer.from(`m${i}`));
      }
      expect(await pa.bus.publish(t1, Buffer.from("last"))).toBe(2); // a and b subscribe; a skips its own
      sent.push([t1, "last"]);
      await until(() => heardB.length === sent.length);
      expect(heardB).toEqual(sent);
      expect(heardA).toEqual([]);
      expect(heardC).toEqual([]);
      expect(await pc.bus.publish(fresh("nobody"), Buffer.from("x"))).toBe(0);

      await pb.bus.unsubscribe(t1);
      await pc.bus.publish(t1, Buffer.from("after"));
      await until(() => heardA.length === 1);
      await sleep(50);
      expect(heardB).toHaveLength(sent.length);
      expect(heardA).toEqual([[t1, "after"]]);
    });

    it("keeps users' latest presence for nodes that start later", async () => {
      const a = fresh("a");
      const pa = await join(a);
      const [u1, u2] = [fresh("u"), fresh("u")];
      await pa.registry.savePresence([
        { userId: u1, status: "online", since: 1, kept: null },
        { userId: u2, status: "dnd", since: 2, kept: "dnd" },
      ]);
      await pa.registry.savePresence([
        { userId: u1, status: "offline", since: 3, kept: null },
        { userId: u2, status: "offline", since: 4, kept: "dnd" },
      ]);
      const later = await join(fresh("b"));
      const mine = (await later.registry.loadPresence()).filter((p) => p.userId === u1 || p.userId === u2);
      expect(mine).toEqual([{ userId: u2, status: "offline", since: 4, kept: "dnd" }]);
    });

    it("carries binary payloads byte for byte", async () => {
      const [a, b] = [fresh("a"), fresh("b")];
      const pa = await join(a);
      const pb = await join(b);
      const got: Uint8Array[] = [];
      pb.bus.onMessage((_t, p) => got.push(new Uint8Array(p)));
      const topic = fresh("bin");
      await pb.bus.subscribe(topic);
      const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256);
      await pa.bus.publish(topic, payload);
      await until(() => got.length === 1);
      expect([...got[0]!]).toEqual([...payload]);
    });
  });
}
