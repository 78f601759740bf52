/** Starting the peer servers of bench/peers/ (under tsx), each as its own process. */
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Spawned, spawnListening } from "../../test/support/processes.js";
import type { SystemName } from "./fanout-proto.js";

const scripts: Record<Exclude<SystemName, "colink">, string> = {
  uws: "uws-pubsub.ts",
  ws: "ws-broadcast.ts",
  socketio: "socketio-room.ts",
  ejabberd: "ejabberd-muc.ts",
};

/** Where Debian installs ejabberd's Erlang applications (ERL_LIBS, as its ejabberdctl sets it). */
export const ejabberdLibs = "/usr/lib/x86_64-linux-gnu";

/** True when the ejabberd package is installed (`apt-get install ejabberd`). */
export function ejabberdInstalled(): boolean {
  return existsSync(ejabberdLibs) && readdirSync(ejabberdLibs).some((d) => /^ejabberd-\d/.test(d));
}

/**
 * Starts a peer on a free loopback port (optionally pinned with taskset). A peer whose
 * script runs the server as a child (ejabberd) prints `server pid N`: that process's CPU
 * is the one measured.
 */
export async function startPeer(
  name: Exclude<SystemName, "colink">,
  opts: { cpus?: string } = {},
): Promise<Spawned> {
  const script = fileURLToPath(new URL(`../peers/${scripts[name]}`, import.meta.url));
  const peer = await spawnListening(script, {}, { nodeArgs: ["--import", "tsx"], ...opts });
  const server = /server pid (\d+)/.exec(peer.output());
  return server ? { ...peer, pid: Number(server[1]) } : peer;
}
