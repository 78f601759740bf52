/**
 * The UserActor's presence driven with no sockets: ActorHosts over a real in-memory
 * PGlite store, and an Outlet that records what the transport would receive. Two hosts
 * linked as the main thread links workers stand for W = 2.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openPgliteStore } from "../../adapters/pglite/pglite-store.js";
import { defaultLimits, type Limits } from "../../core/config.js";
import type { Store } from "../../core/ports.js";
import { decodeFrame } from "../../core/protocol.js";
import type { Principal } from "../../core/types.js";
import { type Envelope, type Grant, noReply, type Outcome, type Outlet } from "../envelope.js";
import { ActorHost, type Routed } from "../runtime/actor-host.js";

const principal = (name: string): Principal => ({
  userId: `U${name}`,
  username: name,
  displayName: name,
  role: "member",
});
const ann = principal("ann");
const ben = principal("ben");
const cat = principal("cat");
const dan = principal("dan");

/** Records replies and published events, in order. */
class RecordingOutlet implements Outlet {
  readonly events: Array<{ topic: string; type: string; data: Record<string, unknown> }> = [];
  readonly replies: number[] = [];
  private readonly waiters = new Map<number, (o: Outcome) => void>();

  reply(callId: number, outcome: Outcome, _grant?: Grant): void {
    this.replies.push(callId);
    this.waiters.get(callId)?.(outcome);
  }

  publish(topic: string, frame: Uint8Array): void {
    const [, , type, data] = decodeFrame(frame) as [3, string, string, Record<string, unknown>];
    this.events.push({ topic, type, data });
  }

  revoke(): void {}
  accountChanged(): void {}

  wait(callId: number): Promise<Outcome> {
    return new Promise((resolve) => this.waiters.set(callId, resolve));
  }

  presenceOf(userId: string): Array<{ topic: string; status: unknown }> {
    return this.events
      .filter((e) => e.type === "presence.updated" && e.data.userId === userId)
      .map((e) => ({ topic: e.topic, status: e.data.status }));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe("UserActor presence (no sockets)", () => {
  let store: Store;
  let outlet: RecordingOutlet;
  let routed: Routed[];
  let host: ActorHost;
  let nextCall = 1;
  // Channels of more than 2 members are large here.
  const limits: Limits = { ...defaultLimits, presenceFanoutMaxMembers: 2 };

  const call = async (
    h: ActorHost,
    p: Principal,
    op: Envelope["op"],
    args: Record<string, unknown>,
    key?: string,
  ) => {
    const callId = nextCall++;
    const done = outlet.wait(callId);
    h.deliver({ callId, op, args, principal: p, actor: key ? "channel" : "user", key: key ?? p.userId });
    const out = await done;
    if (!out.ok) throw new Error(`${op} failed: ${out.error.code} ${out.error.message}`);
    return out.result;
  };

  beforeEach(async () => {
    store = await openPgliteStore();
    await store.migrate();
    outlet = new RecordingOutlet();
    routed = [];
    host = new ActorHost({
      store,
      outlet,
      limits,
      route: (env) => {
        routed.push(env);
        host.deliver(env);
      },
    });
    for (const p of [ann, ben, cat, dan]) await call(host, p, "user.hello", {});
    // ann and ben share a small channel; ann, cat and dan a large one (3 > 2).
    await call(host, ann, "ch.create", { name: "small", kind: "private" }, "Csmall");
    await call(host, ann, "ch.invite", { channelId: "Csmall", userId: ben.userId }, "Csmall");
    await call(host, ann, "ch.create", { name: "large", kind: "public" }, "Clarge");
    await call(host, cat, "ch.join", { channelId: "Clarge" }, "Clarge");
    await call(host, dan, "ch.join", { channelId: "Clarge" }, "Clarge");
  });
  afterEach(async () => {
    await host.close();
    await store.close();
  });

  it("tells the small channels' members and the large channels' actors, each as they need", async () => {
    await call(host, ann, "presence.connect", { sessionId: "s1" });
    await settle();
    expect(outlet.presenceOf(ann.userId)).toEqual([
      { topic: `u:${ann.userId}`, status: "online" },
      { topic: `u:${ben.userId}`, status: "online" },
    ]);
    expect(routed.map((e) => [e.key, e.op, e.args, e.callId])).toEqual([
      ["Clarge", "presence.member", { userId: ann.userId, online: true }, 0],
    ]);

    // away is still online: the large channel's count does not move.
    await call(host, ann, "presence.set", { status: "away" });
    await settle();
    expect(routed).toHaveLength(1);
    expect(outlet.presenceOf(ann.userId).map((e) => e.status)).toEqual(["online", "online", "away", "away"]);

    await call(host, ann, "presence.disconnect", { sessionId: "s1" });
    await settle();
    expect(routed.at(-1)?.args).toEqual({ userId: ann.userId, online: false });
    // Nobody waits for the channel actor's answers to these.
    expect(outlet.replies).not.toContain(noReply);
  });

  it("keeps a connected user's actor, and a kept dnd across passivation", async () => {
    await call(host, ann, "presence.connect", { sessionId: "s1" });
    await call(host, ann, "presence.set", { status: "dnd" });
    await settle();
    host.passivate(0);
    expect(host.counts.users).toBe(1);
    await call(host, ann, "presence.disconnect", { sessionId: "s1" });
    await settle();
    host.passivate(0);
    expect(host.counts.users).toBe(0);
    const back = await call(host, ann, "presence.connect", { sessionId: "s2" });
    expect(back.presence).toMatchObject({ status: "dnd" });
  });

  it("shares presence between threads' books (W > 0)", async () => {
    // A second host as another worker, linked as the main thread links them.
    const other = new ActorHost({ store, outlet, limits });
    const linked = new ActorHost({ store, outlet, limits, sharePresence: (e) => other.applyPresence([e]) });
    try {
      await call(linked, ann, "presence.connect", { sessionId: "s1" });
      await call(linked, ann, "presence.set", { status: "away" });
      const fromBen = await call(other, ben, "presence.query", { userIds: [ann.userId, cat.userId] });
      expect(fromBen.presence).toEqual([{ userId: ann.userId, status: "away", since: expect.any(Number) }]);
      // cat shares only the large channel with ann: visible on request, though not pushed.
      const fromCat = await call(other, cat, "presence.query", { userIds: [ann.userId, ben.userId] });
      expect(fromCat.presence).toEqual([{ userId: ann.userId, status: "away", since: expect.any(Number) }]);
    } finally {
      await settle();
      await linked.close();
      await other.close();
    }
  });
});
