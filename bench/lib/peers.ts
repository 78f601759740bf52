/** Starting the peer servers of bench/peers/ (under tsx), each as its own process. */
import { fileURLToPath } from "node:url";
import type { SystemName } from "./fanout-proto.js";
import { type Spawned, spawnListening } from "./processes.js";

const scripts: Record<Exclude<SystemName, "colink">, string> = {
  uws: "uws-pubsub.ts",
  ws: "ws-broadcast.ts",
  socketio: "socketio-room.ts",
};

/** Starts a peer on a free loopback port (optionally pinned with taskset). */
export function startPeer(
  name: Exclude<SystemName, "colink">,
  opts: { cpus?: string } = {},
): Promise<Spawned> {
  const script = fileURLToPath(new URL(`../peers/${scripts[name]}`, import.meta.url));
  return spawnListening(script, {}, { nodeArgs: ["--import", "tsx"], ...opts });
}
