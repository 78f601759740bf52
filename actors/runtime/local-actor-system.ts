/**
 * The actors on the calling thread (W = 0): the transport's envelopes go straight into
 * the thread's one ActorHost, and its outputs straight to the Outlet, with no crossing.
 */
import type { ShardFence } from "../../core/ports.js";
import type { Routed } from "../envelope.js";
import type { PresenceEntry } from "../user/presence.js";
import type { ActorHost } from "./actor-host.js";
import type { LocalActors, Readiness } from "./actor-system.js";

/** Actors on the calling thread (W = 0). */
export class LocalActorSystem implements LocalActors {
  constructor(
    private readonly host: ActorHost,
    private readonly ping: () => Promise<void>,
    private readonly closeStore: () => Promise<void>,
  ) {}

  deliver(env: Routed): void {
    this.host.deliver(env);
  }

  async ready(): Promise<Readiness> {
    const up = await this.ping().then(
      () => true,
      () => false,
    );
    return { ready: up, checks: { store: up ? "up" : "down", ...this.host.health } };
  }

  async close(): Promise<void> {
    await this.host.close();
    await this.closeStore();
  }

  setOwnedShards(fences: ShardFence[]): void {
    this.host.setOwnedShards(fences);
  }

  purgeSessions(prefix: string): void {
    this.host.purgeSessions(prefix);
  }

  applyPresence(list: PresenceEntry[]): void {
    this.host.applyPresence(list);
  }

  releaseShards(shards: number[]): Promise<void> {
    return this.host.releaseShards(shards);
  }
}
